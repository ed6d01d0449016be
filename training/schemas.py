"""marshmallow schemas of the bottom layer: one per request shape, one per audience of output.

Input schemas reject unknown fields and validate everything a service relies on; output
schemas show identity numbers only masked. The same schemas feed the OpenAPI document.
"""
from __future__ import annotations

import re
import unicodedata

from marshmallow import Schema, ValidationError, fields, post_load, validate, validates_schema

from training import clock
from training.catalogue import EMPLOYER_KINDS, ORG_KINDS, load_catalogue
from training.errors import coded
from training.fields import CreditCode, IdNumber, PersonName, UtcDateTime
from training.identity import IdentityError, normalize_id_number

_CAT = load_catalogue()
CATEGORY_CODES = sorted(_CAT.categories)
INDUSTRIES = sorted(_CAT.industries)
def Name(n: int = 200) -> fields.String:
    return fields.String(required=True, validate=validate.Length(1, n))


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


# --- credentials held from outside this service (training/credentials.py) ----------------------

CREDENTIAL_KINDS = ("skill_certificate", "national_licence")
CREDENTIAL_STATES = ("valid", "suspended", "revoked", "expired")
_SKILL_NUMBER = re.compile(r"[A-Za-z0-9-]{1,40}", re.ASCII)
_LICENCE_NUMBER = re.compile(r"T[0-9]{17}[0-9X]", re.ASCII)
_ID_WINDOW = re.compile(r"(?=([0-9]{17}[0-9X]))", re.ASCII)


def holds_identity_number(number: str) -> bool:
    """Does ``number`` (or it without hyphens) contain a valid resident identity number? The
    shape alone is not enough: a vocational-skill certificate's own number is a letter and 21
    digits, so every one of them holds 18 digits in a row."""
    for text in {number.upper(), number.upper().replace("-", "")}:
        for window in _ID_WINDOW.findall(text):
            try:
                normalize_id_number(window)
                return True
            except IdentityError:
                continue
    return False


def licence_number(value: str) -> str:
    """A national licence number as typed, normalised (width forms folded, spaces removed, upper
    case): what is compared with ``T`` + the holder's identity number. Never stored."""
    return "".join(unicodedata.normalize("NFKC", value).split()).upper()


def _not_future(field: str, day, errors: dict) -> None:
    if day is not None and day > clock.today():
        errors[field] = [coded("in_future", f"{field} must not be after today (China time).")]


class CredentialCreateRequestSchema(Schema):
    """A credential as its recorder read it. A national licence's ``number`` is ``T`` + the
    holder's identity number (checked against the worker, then kept masked); a skill
    certificate's is 1 to 40 letters, digits or hyphens and holds no identity number."""
    kind = fields.String(required=True, validate=validate.OneOf(CREDENTIAL_KINDS))
    category = fields.String(required=True, validate=validate.OneOf(CATEGORY_CODES))
    number = fields.String(required=True, validate=validate.Length(1, 40))
    state = fields.String(load_default="valid", validate=validate.OneOf(CREDENTIAL_STATES))
    authority = Name(200)
    level = fields.String(validate=validate.Length(1, 20))
    issued_on = fields.Date(required=True)
    valid_until = fields.Date()
    checked_on = fields.Date()

    @validates_schema(skip_on_field_errors=False)
    def _shape(self, data, **_):
        errors: dict[str, list[str]] = {}
        kind, number = data.get("kind"), data.get("number")
        if kind == "national_licence" and number is not None:
            if not _LICENCE_NUMBER.fullmatch(licence_number(number)):
                errors["number"] = [coded("licence_number_format", "A national licence number is T and the "
                                          "holder's 18-character identity number.")]
            else:
                try:
                    normalize_id_number(licence_number(number)[1:])
                except IdentityError as err:  # its message names the fault, never the number
                    errors["number"] = [coded("licence_number_format", "After the T: " + err.message)]
            if "level" in data:
                errors["level"] = [coded("not_allowed", "Only a skill certificate has a level.")]
        elif kind == "skill_certificate" and number is not None:
            if not _SKILL_NUMBER.fullmatch(number):
                errors["number"] = [coded("invalid", "1 to 40 letters, digits or hyphens.")]
            elif holds_identity_number(number):
                errors["number"] = [coded("number_is_identity", "This holds an identity number: give the "
                                          "certificate's own number, never the holder's identity number.")]
        for name in ("issued_on", "checked_on"):
            _not_future(name, data.get(name), errors)
        if data.get("issued_on") and data.get("valid_until") and data["valid_until"] < data["issued_on"]:
            errors["valid_until"] = [coded("range", "valid_until must not be before issued_on.")]
        if errors:
            raise ValidationError(errors)

    @post_load
    def _defaults(self, data, **_):
        data.setdefault("checked_on", clock.today())
        return data


class OrganizationRefSchema(Schema):
    id = fields.String()
    name = fields.String()


class CredentialSchema(Schema):
    """A recorded credential as the organisations that may read it see it: a national licence's
    number only masked (``T`` + the holder's masked identity number)."""
    id = fields.String()
    worker_id = fields.String()
    kind = fields.String()
    category = fields.String()
    number = fields.String()
    state = fields.String()
    authority = fields.String()
    level = fields.String(allow_none=True)
    issued_on = fields.Date()
    valid_until = fields.Date(allow_none=True)
    checked_on = fields.Date()
    recorded_by = fields.Nested(OrganizationRefSchema)
    created_at = UtcDateTime()
    voided_at = UtcDateTime(allow_none=True)
    void_reason = fields.String(allow_none=True)
