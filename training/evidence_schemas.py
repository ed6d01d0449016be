"""Schemas of training evidence: sessions, attendance, exams and voids."""
from __future__ import annotations

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from training.errors import coded
from training.fields import UtcDateTime
from training.schemas import CATEGORY_CODES

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
