"""Schemas of verification requests and verdicts."""
from __future__ import annotations

from marshmallow import Schema, fields, validate

from training.web.fields import UtcDateTime


class VerifyRequestSchema(Schema):
    qr_text = fields.String(required=True, validate=validate.Length(0, 100_000))
    site_id = fields.String(validate=validate.Length(1, 16))
    latitude = fields.Float(validate=validate.Range(-90, 90), allow_nan=False)
    longitude = fields.Float(validate=validate.Range(-180, 180), allow_nan=False)
    scanned_at = UtcDateTime()


class ReasonSchema(Schema):
    code = fields.String()
    message = fields.String()


class VerdictSchema(Schema):
    result = fields.String()
    reasons = fields.List(fields.Nested(ReasonSchema))
    certificate = fields.Dict(allow_none=True)
    scan_id = fields.String()
