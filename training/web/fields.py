"""Schema fields shared by every package's schemas: times with offsets, identity numbers, codes.

Timestamps must carry an offset on the way in (RFC 3339) and are stored as naive UTC; on the way
out they get their offset back. Identity numbers and credit codes are validated and normalised
here, so no invalid one ever reaches a service.
"""
from __future__ import annotations

from datetime import UTC, datetime

from flask import current_app
from marshmallow import ValidationError, fields, validate

from training.errors import coded
from training.people.identity import IdentityError, normalize_credit_code, normalize_id_number


class UtcDateTime(fields.DateTime):
    """RFC 3339 with an offset in; naive UTC in Python; RFC 3339 with +00:00 out."""

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, str) or len(value) > 40:
            raise ValidationError(coded("invalid", "Not a valid RFC 3339 timestamp."))
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
        except ValueError:
            raise ValidationError(coded("invalid", "Not a valid RFC 3339 timestamp.")) from None
        if parsed.tzinfo is None:
            raise ValidationError(coded("offset_required", "The timestamp needs an offset, e.g. +08:00."))
        return parsed.astimezone(UTC).replace(tzinfo=None)

    def _serialize(self, value, attr, obj, **kwargs):
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
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
            raise ValidationError(coded(err.code, err.message)) from err


class CreditCode(fields.String):
    """A unified social credit code, checked (GB 32100-2015) and normalised."""

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, str) or len(value) > 40:
            raise ValidationError(coded("credit_code_format", "Must be an 18-character unified social credit code."))
        try:
            return normalize_credit_code(value)
        except IdentityError as err:
            raise ValidationError(coded(err.code, err.message)) from err


# The application leaves here how many UTF-8 bytes a holder's name may take in a certificate's
# token (certificates.token.name_budget for PUBLIC_BASE_URL, put by wsgi.create_app): the name is
# signed into the token, and a longer one would make a QR code too big to print or scan.
NAME_BUDGET = "name_max_bytes"


class PersonName(fields.String):
    """A worker's or trainer's name: 1 to 100 characters, and no more UTF-8 bytes than a
    certificate's token holds for it, so that whoever registers can be certified."""

    def __init__(self, **kwargs):
        super().__init__(validate=validate.Length(1, 100), metadata={"description": (
            "1 to 100 characters, and at most the bytes in UTF-8 a certificate's QR code holds for a "
            "name (depends on PUBLIC_BASE_URL: 28 under the default http://127.0.0.1:5000, about 9 Chinese "
            "characters); a longer one is 422 with code name_too_long_for_certificate.")}, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        name = super()._deserialize(value, attr, data, **kwargs)
        budget = current_app.extensions.get(NAME_BUDGET) if current_app else None
        size = len(name.encode("utf-8", "surrogatepass"))
        if budget is not None and size > budget:
            raise ValidationError(coded("name_too_long_for_certificate",
                                        f"The name takes {size} bytes in UTF-8; a certificate's QR code holds "
                                        f"at most {budget} (about {budget // 3} Chinese characters)."))
        return name
