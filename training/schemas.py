"""marshmallow schemas of the bottom layer: one per request shape, one per audience of output.

Input schemas reject unknown fields and validate everything a service relies on; output
schemas show identity numbers only masked. The same schemas feed the OpenAPI document.
"""
from __future__ import annotations

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from .catalogue import EMPLOYER_KINDS, ORG_KINDS, load_catalogue
from .errors import coded
from .fields import CreditCode, IdNumber, PersonName, UtcDateTime

_CAT = load_catalogue()
CATEGORY_CODES = sorted(_CAT.categories)
INDUSTRIES = sorted(_CAT.industries)
Name = lambda n=200: fields.String(required=True, validate=validate.Length(1, n))  # noqa: E731


class OrganizationCreateRequestSchema(Schema):
    name = Name()
    kind = fields.String(required=True, validate=validate.OneOf(ORG_KINDS))
    credit_code = CreditCode(required=True)
    region = fields.String(validate=validate.Regexp(r"^\d{6}$", error=coded("invalid", "Six digits.")))
    industry = fields.String(validate=validate.OneOf(INDUSTRIES))

    @validates_schema(skip_on_field_errors=False)
    def _industry(self, data, **_):
        if "industry" in data and data.get("kind") not in EMPLOYER_KINDS:
            raise ValidationError(coded("not_allowed", "Only employing organisations carry an industry."),
                                  "industry")


class OrganizationSchema(Schema):
    id = fields.String()
    name = fields.String()
    kind = fields.String()
    credit_code = fields.String()
    region = fields.String(allow_none=True)
    industry = fields.String(allow_none=True)
    created_at = UtcDateTime()


class HolderSchema(Schema):
    name = Name(100)
    badge = fields.String(validate=validate.Length(1, 50))


class ApiKeyCreateRequestSchema(Schema):
    holder = fields.Nested(HolderSchema)
    expires_at = UtcDateTime()


class ApiKeyCreatedSchema(Schema):
    key_id = fields.String()
    # Shown once: a replay under the same Idempotency-Key answers null and says so in ``detail``.
    api_key = fields.String(allow_none=True)
    detail = fields.String()
    organization_id = fields.String()
    holder = fields.Nested(HolderSchema, allow_none=True)
    expires_at = UtcDateTime(allow_none=True)


class AccreditationCreateRequestSchema(Schema):
    categories = fields.List(fields.String(validate=validate.OneOf(CATEGORY_CODES)), required=True,
                             validate=validate.Length(1, len(CATEGORY_CODES)))
    valid_from = fields.Date(required=True)
    valid_until = fields.Date(required=True)

    @validates_schema(skip_on_field_errors=False)
    def _dates(self, data, **_):
        if data.get("valid_from") and data.get("valid_until") and data["valid_until"] < data["valid_from"]:
            raise ValidationError(coded("range", "valid_until must not be before valid_from."), "valid_until")


class AccreditationPatchRequestSchema(Schema):
    status = fields.String(required=True, validate=validate.OneOf(("active", "suspended", "withdrawn")))
    reason = Name(1000)


class AccreditationEventSchema(Schema):
    status = fields.String()
    reason = fields.String()
    at = UtcDateTime()


class AccreditationSchema(Schema):
    id = fields.String()
    organization_id = fields.String()
    categories = fields.Method("_categories")
    valid_from = fields.Date()
    valid_until = fields.Date()
    status = fields.String()
    created_at = UtcDateTime()
    history = fields.List(fields.Nested(AccreditationEventSchema), attribute="events")

    def _categories(self, obj):
        return [c.category for c in obj.categories]


class SiteCreateRequestSchema(Schema):
    name = Name()
    enterprise_id = fields.String(validate=validate.Length(1, 16))
    latitude = fields.Float(required=True, validate=validate.Range(-90, 90), allow_nan=False)
    longitude = fields.Float(required=True, validate=validate.Range(-180, 180), allow_nan=False)
    risk_class = fields.String(validate=validate.OneOf(("normal", "high")))


class SiteSchema(Schema):
    id = fields.String()
    name = fields.String()
    enterprise_id = fields.String(allow_none=True)
    latitude = fields.Float()
    longitude = fields.Float()
    risk_class = fields.String()
    created_at = UtcDateTime()


class PersonCreateRequestSchema(Schema):
    name = PersonName(required=True)
    id_number = IdNumber(required=True)


class PersonSchema(Schema):
    """A worker or trainer as any organisation may see them: the number masked, always."""
    id = fields.String()
    name = fields.String()
    id_number_masked = fields.String(attribute="id_masked")


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
