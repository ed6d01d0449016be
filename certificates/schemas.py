"""Schemas of certificates: requests, the issuer's view, and the public (masked, minimal) view."""
from __future__ import annotations

from marshmallow import Schema, fields, validate

from training.web.fields import UtcDateTime
from training.web.schemas import CATEGORY_CODES


class IssueRequestSchema(Schema):
    worker_id = fields.String(required=True, validate=validate.Length(1, 16))
    category = fields.String(required=True, validate=validate.OneOf(CATEGORY_CODES))


class ReasonRequestSchema(Schema):
    reason = fields.String(required=True, validate=validate.Length(1, 1000))


class WorkerRefSchema(Schema):
    id = fields.String()
    name = fields.String()
    id_number_masked = fields.String(attribute="id_masked")


class OrgRefSchema(Schema):
    id = fields.String()
    name = fields.String()


class CertificateIssuerSchema(Schema):
    """What the issuer, regulators and employers see."""
    serial = fields.String()
    status = fields.Method("_status")
    category = fields.String()
    worker = fields.Nested(WorkerRefSchema)
    issuer = fields.Nested(OrgRefSchema)
    issued_at = UtcDateTime()
    valid_until = fields.Date()
    review_due = fields.Date()
    rules = fields.String(allow_none=True)  # the rule set it was issued under (docs/rules.md)
    review_required = fields.Method("_review_required")
    token = fields.Method("_token")
    qr_text = fields.String()
    qr_version = fields.Integer()
    verify_url = fields.Function(lambda cert: cert.qr_text)
    status_reason = fields.String(allow_none=True)

    def _status(self, cert):
        from certificates.issuance.queries import effective_status
        return effective_status(cert)

    def _review_required(self, cert):
        from training.catalogue import load_catalogue
        return load_catalogue().review_required(cert.category, cert.review_due)

    def _token(self, cert):
        from certificates.token import b64url_encode
        return b64url_encode(bytes(cert.token))


class CertificatePublicSchema(Schema):
    """What anyone who scans may see: masked name, category, issuer, validity."""
    serial = fields.String()
    status = fields.String()
    category = fields.String()
    category_name = fields.String()
    holder_name = fields.String()
    holder_id_masked = fields.String()
    issuer = fields.Nested(OrgRefSchema)
    issued_at = UtcDateTime()
    valid_until = fields.Date()
    review_due = fields.Date()


class StatusSchema(Schema):
    serial = fields.String()
    status = fields.String()
    reason = fields.String()


class KeyActionRequestSchema(Schema):
    kid = fields.String(required=True, validate=validate.Length(1, 20))
