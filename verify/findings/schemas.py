"""Schemas of findings, appeals, cases, inspections and bulk revocations: one per request shape,
and the output shapes the OpenAPI document describes. Identity numbers come in validated and
never go out except masked."""
from __future__ import annotations

from datetime import date

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from training.catalogue import load_catalogue
from training.errors import coded
from training.web.fields import IdNumber, UtcDateTime
from verify.rules.common import KINDS


def Reason() -> fields.String:
    return fields.String(required=True, validate=validate.Length(1, 1000))


def Id(**kw) -> fields.String:
    return fields.String(validate=validate.Length(1, 16), **kw)
FINDING_QUERY = {"kind": {"type": "string", "enum": list(KINDS)},
                 "status": {"type": "string", "enum": ["open", "confirmed", "dismissed"]},
                 "organization_id": {"type": "string"}, "worker_id": {"type": "string"}}


class FindingPatchRequestSchema(Schema):
    status = fields.String(required=True, validate=validate.OneOf(("confirmed", "dismissed")))
    reason = Reason()


class PartySchema(Schema):
    role = fields.String()
    id = fields.String()
    name = fields.String(allow_none=True)


class FindingSchema(Schema):
    id = fields.String()
    kind = fields.String()
    status = fields.String()
    severity = fields.String()
    created_at = UtcDateTime()
    evidence = fields.Dict()
    explanation = fields.Dict(metadata={"description": "{'zh': ..., 'en': ...}"})
    parties = fields.List(fields.Nested(PartySchema))
    worker_id = fields.String(allow_none=True)
    certificate_serial = fields.String(allow_none=True)
    reviewed_at = UtcDateTime(allow_none=True)
    review_reason = fields.String(allow_none=True)


class RankingItemSchema(Schema):
    organization = fields.Nested(PartySchema)
    basis = fields.String(metadata={"description": "certificates (training bodies) or passed_exams (exam centres)"})
    certificates = fields.Integer()
    confirmed_findings = fields.Integer()
    open_findings = fields.Integer()
    per_hundred = fields.Float()


class RankingSchema(Schema):
    items = fields.List(fields.Nested(RankingItemSchema))


class AppealRequestSchema(Schema):
    """By a party's key: finding_id and explanation. Without a key (the worker): also serial and
    the full id_number, which is compared by keyed hash and never kept."""
    finding_id = Id(required=True)
    explanation = fields.String(required=True, validate=validate.Length(1, 5000))
    serial = fields.String(validate=validate.Length(1, 40))
    id_number = IdNumber()


class AppealPatchRequestSchema(Schema):
    decision = fields.String(required=True, validate=validate.OneOf(("upheld", "rejected")))
    reason = Reason()


class AppealSchema(Schema):
    id = fields.String()
    finding_id = fields.String()
    status = fields.String()
    created_at = UtcDateTime()
    by = fields.Nested(PartySchema)
    explanation = fields.String()
    finding = fields.Dict()
    decided_at = UtcDateTime(allow_none=True)
    decision_reason = fields.String(allow_none=True)


class CaseCreateRequestSchema(Schema):
    finding_ids = fields.List(fields.String(validate=validate.Length(1, 16)), required=True,
                              validate=validate.Length(1, 500))


class CasePatchRequestSchema(Schema):
    status = fields.String(required=True, validate=validate.OneOf(("confirmed", "dismissed")))
    reason = Reason()


class StatementRequestSchema(Schema):
    party_id = Id()
    kind = fields.String(validate=validate.OneOf(("statement", "declined", "no_response")))
    text = fields.String(required=True, validate=validate.Length(1, 10000))


class StatementSchema(Schema):
    id = fields.String()
    party_role = fields.String()
    party_id = fields.String()
    kind = fields.String()
    text = fields.String()
    created_at = UtcDateTime()


class CaseSchema(Schema):
    id = fields.String()
    status = fields.String()
    created_at = UtcDateTime()
    decided_at = UtcDateTime(allow_none=True)
    decision_reason = fields.String(allow_none=True)
    parties = fields.List(fields.Nested(PartySchema))
    finding_ids = fields.List(fields.String())
    statements = fields.List(fields.Nested(StatementSchema))
    unheard = fields.List(fields.String())
    revoked = fields.List(fields.String())


class OfficerSchema(Schema):
    name = fields.String(required=True, validate=validate.Length(1, 100))
    badge = fields.String(validate=validate.Length(1, 50))


class InspectionCheckRequestSchema(Schema):
    qr_text = fields.String(validate=validate.Length(1, 4096))
    id_number = IdNumber()
    task_role = fields.String(required=True, validate=validate.OneOf(sorted(load_catalogue().roles)))
    holder_matches = fields.Boolean()

    @validates_schema(skip_on_field_errors=False)
    def _someone(self, data, **_):
        if not data.get("qr_text") and not data.get("id_number"):
            raise ValidationError(coded("required", "A check needs the card's qr_text, the person's id_number, or both."),
                                  "qr_text")


class InspectionCreateRequestSchema(Schema):
    site_id = Id(required=True)
    started_at = UtcDateTime(required=True)
    checks = fields.List(fields.Nested(InspectionCheckRequestSchema), required=True, validate=validate.Length(1, 500))
    officers = fields.List(fields.Nested(OfficerSchema), validate=validate.Length(0, 10),
                           metadata={"description": "Officers accompanying the key's holder."})


class InspectionCheckSchema(Schema):
    index = fields.Integer()
    task_role = fields.String()
    verdict = fields.String(metadata={"description": "cleared | not_cleared"})
    reasons = fields.List(fields.Dict())
    card_result = fields.String(allow_none=True)
    serial = fields.String(allow_none=True)
    holder_matches = fields.Boolean(allow_none=True)
    id_number_masked = fields.String(allow_none=True)
    worker = fields.Dict(allow_none=True)
    required_categories = fields.List(fields.String())
    missing_categories = fields.List(fields.String())
    certificates = fields.List(fields.Dict())
    findings = fields.List(fields.Dict())


class InspectionSchema(Schema):
    id = fields.String()
    organization = fields.Dict()
    site = fields.Dict()
    started_at = UtcDateTime()
    created_at = UtcDateTime()
    officers = fields.List(fields.Dict())
    checks = fields.List(fields.Nested(InspectionCheckSchema))
    summary = fields.Dict()
    pdf_url = fields.String()


class RevocationRequestSchema(Schema):
    issuer_id = Id(required=True)
    issued_from = fields.Date(required=True, validate=validate.Range(date(2000, 1, 1), date(2100, 12, 31)))
    issued_until = fields.Date(required=True, validate=validate.Range(date(2000, 1, 1), date(2100, 12, 31)))
    reason = Reason()
    case_id = Id()

    @validates_schema(skip_on_field_errors=False)
    def _period(self, data, **_):
        if data.get("issued_from") and data.get("issued_until") and data["issued_until"] < data["issued_from"]:
            raise ValidationError(coded("range", "issued_until must not be before issued_from."), "issued_until")


class RevocationSchema(Schema):
    id = fields.String()
    issuer = fields.Nested(PartySchema)
    issued_from = fields.Date()
    issued_until = fields.Date()
    reason = fields.String()
    case_id = fields.String(allow_none=True)
    created_at = UtcDateTime()
    revoked_count = fields.Integer()
    skipped_count = fields.Integer()
    revoked = fields.List(fields.String())
    skipped = fields.List(fields.Dict())
