"""Shapes of the parties on the API: organisations, API keys (the secret shown once), accreditation
and its events, sites..
"""
from __future__ import annotations

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from training.catalogue import EMPLOYER_KINDS, ORG_KINDS
from training.errors import coded
from training.web.fields import CreditCode, UtcDateTime
from training.web.schemas import CATEGORY_CODES, INDUSTRIES, Name


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
