"""marshmallow schemas of the bottom layer: one per request shape, one per audience of output.

Input schemas reject unknown fields and validate everything a service relies on; output
schemas show identity numbers only masked. The same schemas feed the OpenAPI document.
"""
from __future__ import annotations

from marshmallow import Schema, fields, validate

from training.catalogue import load_catalogue

_CAT = load_catalogue()
CATEGORY_CODES = sorted(_CAT.categories)
INDUSTRIES = sorted(_CAT.industries)
def Name(n: int = 200) -> fields.String:
    return fields.String(required=True, validate=validate.Length(1, n))


class BatchRequestSchema(Schema):
    items = fields.List(fields.Raw(), required=True, validate=validate.Length(1, 1000))


class BatchItemResultSchema(Schema):
    index = fields.Integer()
    status = fields.Integer()
    id = fields.String()
    errors = fields.List(fields.Dict())


class BatchResultSchema(Schema):
    items = fields.List(fields.Nested(BatchItemResultSchema))


class CategorySchema(Schema):
    code = fields.String()
    token_code = fields.Integer()
    name = fields.String()
    name_en = fields.String()
    group = fields.String()
    initial_hours = fields.Float()
    refresher_hours = fields.Float()
    initial_hours_high_risk = fields.Float(allow_none=True)
    refresher_hours_high_risk = fields.Float(allow_none=True)
    pass_mark = fields.Integer()
    validity_years = fields.Integer()
    review_interval_years = fields.Integer()  # 0: no review before renewal
    exam_valid_months = fields.Integer()
    retakes_allowed = fields.Integer(allow_none=True)  # null: no limit
    training_waiver = fields.Boolean()  # a matching vocational-skill certificate stands for the hours


class RuleSetSchema(Schema):
    code = fields.String()
    name = fields.String()
    name_en = fields.String()
    effective_from = fields.Date()
    effective_until = fields.Date(allow_none=True)
    source = fields.String()
    status = fields.String()  # confirmed | reported (docs/rules.md)


class CategoriesSchema(Schema):
    """The categories as the rule set in force on ``on`` has them, and that set."""
    on = fields.Date()
    items = fields.List(fields.Nested(CategorySchema))
    rules = fields.Nested(RuleSetSchema)


class RoleSchema(Schema):
    code = fields.String()
    name = fields.String()
    name_en = fields.String()
    required_categories = fields.List(fields.String())


class ListOf:
    """Output envelope of list endpoints: {"items": [...], "next_cursor": ...}."""
    _cache: dict = {}

    def __class_getitem__(cls, item):
        if item not in cls._cache:
            cls._cache[item] = type(f"{item.__name__.removesuffix('Schema')}ListSchema", (Schema,), {
                "items": fields.List(fields.Nested(item)),
                "next_cursor": fields.String(allow_none=True)})
        return cls._cache[item]


class ProblemSchema(Schema):
    type = fields.String()
    title = fields.String()
    status = fields.Integer()
    detail = fields.String()
    errors = fields.List(fields.Dict())


# --- credentials held from outside this service (training/evidence/credentials.py) ----------------------
