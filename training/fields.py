"""Schema fields shared by every package's schemas: times with offsets, identity numbers, codes.

Timestamps must carry an offset on the way in (RFC 3339) and are stored as naive UTC; on the way
out they get their offset back. Identity numbers and credit codes are validated and normalised
here, so no invalid one ever reaches a service.
"""
from __future__ import annotations

from datetime import datetime, timezone

from marshmallow import ValidationError, fields

from .errors import coded
from .identity import IdentityError, normalize_credit_code, normalize_id_number


class UtcDateTime(fields.DateTime):
    """RFC 3339 with an offset in; naive UTC in Python; RFC 3339 with +00:00 out."""

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, str) or len(value) > 40:
            raise ValidationError(coded("invalid", "Not a valid RFC 3339 timestamp."))
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
        except ValueError:
            raise ValidationError(coded("invalid", "Not a valid RFC 3339 timestamp."))
        if parsed.tzinfo is None:
            raise ValidationError(coded("offset_required", "The timestamp needs an offset, e.g. +08:00."))
        return parsed.astimezone(timezone.utc).replace(tzinfo=None)

    def _serialize(self, value, attr, obj, **kwargs):
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        return value.isoformat()


def iso(value: datetime | None) -> str | None:
    return UtcDateTime()._serialize(value, None, None)


class IdNumber(fields.String):
    """A resident identity number, checked (GB 11643-1999) and normalised; never echoed back."""

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, str) or len(value) > 40:
            raise ValidationError(coded("id_number_format", "Must be an 18-character resident identity number."))
        try:
            return normalize_id_number(value)
        except IdentityError as err:
            raise ValidationError(coded(err.code, err.message))


class CreditCode(fields.String):
    """A unified social credit code, checked (GB 32100-2015) and normalised."""

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, str) or len(value) > 40:
            raise ValidationError(coded("credit_code_format", "Must be an 18-character unified social credit code."))
        try:
            return normalize_credit_code(value)
        except IdentityError as err:
            raise ValidationError(coded(err.code, err.message))
