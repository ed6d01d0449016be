"""Schemas of training evidence: sessions, attendance, exams and voids."""
from __future__ import annotations

import re
import unicodedata

from marshmallow import Schema, ValidationError, fields, post_load, validate, validates_schema

from training import clock
from training.errors import coded
from training.people.identity import IdentityError, normalize_id_number
from training.web.fields import UtcDateTime
from training.web.schemas import CATEGORY_CODES, Name

KINDS = ("initial", "refresher", "induction")
LEVELS = ("company", "workshop", "team")


class SessionCreateRequestSchema(Schema):
    category = fields.String(validate=validate.OneOf(CATEGORY_CODES))
    kind = fields.String(required=True, validate=validate.OneOf(KINDS))
    level = fields.String(validate=validate.OneOf(LEVELS))
    starts_at = UtcDateTime(required=True)
    ends_at = UtcDateTime(required=True)
    location = fields.String(required=True, validate=validate.Length(1, 200))
    latitude = fields.Float(validate=validate.Range(-90, 90), allow_nan=False)
    longitude = fields.Float(validate=validate.Range(-180, 180), allow_nan=False)
    trainer_id = fields.String(validate=validate.Length(1, 16))
    capacity = fields.Integer(required=True, validate=validate.Range(1, 1000))

    @validates_schema(skip_on_field_errors=False)
    def _shape(self, data, **_):
        errors: dict[str, list[str]] = {}
        if data.get("starts_at") and data.get("ends_at") and data["ends_at"] <= data["starts_at"]:
            errors["ends_at"] = [coded("range", "ends_at must be after starts_at.")]
        if data.get("kind") == "induction":
            if "category" in data:
                errors["category"] = [coded("not_allowed", "Induction sessions carry no category.")]
            if "level" not in data:
                errors["level"] = [coded("required", "Induction sessions need a level: company, workshop or team.")]
        elif data.get("kind"):
            if "category" not in data:
                errors["category"] = [coded("required", "Initial and refresher sessions need a category.")]
            if "trainer_id" not in data:
                errors["trainer_id"] = [coded("required", "Initial and refresher sessions need a trainer.")]
            if "level" in data:
                errors["level"] = [coded("not_allowed", "Only induction sessions have a level.")]
        if errors:
            raise ValidationError(errors)


class SessionSchema(Schema):
    id = fields.String()
    organization_id = fields.String()
    category = fields.String(allow_none=True)
    kind = fields.String()
    level = fields.String(allow_none=True)
    starts_at = UtcDateTime()
    ends_at = UtcDateTime()
    location = fields.String()
    trainer_id = fields.String(allow_none=True)
    capacity = fields.Integer()
    created_at = UtcDateTime()


class AttendanceCreateRequestSchema(Schema):
    worker_id = fields.String(required=True, validate=validate.Length(1, 16))
    check_in = UtcDateTime(required=True)
    check_out = UtcDateTime(required=True)

    @validates_schema(skip_on_field_errors=False)
    def _order(self, data, **_):
        if data.get("check_in") and data.get("check_out") and data["check_out"] <= data["check_in"]:
            raise ValidationError(coded("range", "check_out must be after check_in."), "check_out")


class AttendanceSchema(Schema):
    id = fields.String()
    session_id = fields.String()
    worker_id = fields.String()
    check_in = UtcDateTime()
    check_out = UtcDateTime()
    hours = fields.Float()
    created_at = UtcDateTime()
    voided_at = UtcDateTime(allow_none=True)
    void_reason = fields.String(allow_none=True)


class EnrolmentCreateRequestSchema(Schema):
    worker_id = fields.String(required=True, validate=validate.Length(1, 16))


class EnrolmentSchema(Schema):
    id = fields.String()
    session_id = fields.String()
    worker_id = fields.String()
    created_at = UtcDateTime()


class ExamCreateRequestSchema(Schema):
    worker_id = fields.String(required=True, validate=validate.Length(1, 16))
    category = fields.String(required=True, validate=validate.OneOf(CATEGORY_CODES))
    taken_at = UtcDateTime(required=True)
    duration_minutes = fields.Integer(required=True, validate=validate.Range(1, 24 * 60))
    theory_score = fields.Float(required=True, validate=validate.Range(0, 100), allow_nan=False)
    practical_score = fields.Float(required=True, validate=validate.Range(0, 100), allow_nan=False)
    examiner = fields.String(required=True, validate=validate.Length(1, 100))
    answers_digest = fields.String(validate=validate.Regexp(
        r"^[0-9a-f]{64}$", error=coded("invalid", "Lowercase hex SHA-256 (64 characters).")))
    wrong_count = fields.Integer(validate=validate.Range(1, 10000))

    @validates_schema(skip_on_field_errors=False)
    def _pair(self, data, **_):
        if ("answers_digest" in data) != ("wrong_count" in data):
            raise ValidationError(coded("required", "answers_digest and wrong_count come together "
                                        "(both absent for a perfect paper)."), "wrong_count")


class ExamSchema(Schema):
    id = fields.String()
    worker_id = fields.String()
    category = fields.String()
    exam_centre_id = fields.String()
    taken_at = UtcDateTime()
    duration_minutes = fields.Integer()
    theory_score = fields.Float()
    practical_score = fields.Float()
    examiner = fields.String()
    passed = fields.Boolean()
    created_at = UtcDateTime()
    voided_at = UtcDateTime(allow_none=True)
    void_reason = fields.String(allow_none=True)


class VoidRequestSchema(Schema):
    reason = fields.String(required=True, validate=validate.Length(1, 1000))


class EvidenceSchema(Schema):
    category = fields.String()
    required_hours = fields.Float()
    credited_hours = fields.Float()
    hours_completed_at = UtcDateTime(allow_none=True)
    exam_id = fields.String(allow_none=True)
    exam_passed_at = UtcDateTime(allow_none=True)
    attempts_since_training = fields.Integer()
    waived_by = fields.String(allow_none=True)  # the skill certificate standing for the hours, if one does
    problems = fields.List(fields.String())


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
