"""HTTP views of training evidence: sessions, attendance, exams, voids and the evidence summary."""
from __future__ import annotations

from sqlalchemy import select

from training.accounts.api_keys import current_caller, require
from training.catalogue import EMPLOYER_KINDS
from training.errors import BadRequest, Forbidden
from training.evidence import hours, service as evidence
from training.evidence.models import Attendance, Enrolment, Exam, TrainingSession
from training.evidence.schemas import (
    AttendanceCreateRequestSchema,
    AttendanceSchema,
    EnrolmentCreateRequestSchema,
    EnrolmentSchema,
    EvidenceSchema,
    ExamCreateRequestSchema,
    ExamSchema,
    SessionCreateRequestSchema,
    SessionSchema,
    VoidRequestSchema,
)
from training.evidence.standing import enrol
from training.people.models import Worker
from training.web import API, bp
from training.web.batch import run_batch
from training.web.http import get_or_404, idempotent, json_body, json_response, paginate, write
from training.web.openapi import doc
from training.web.schemas import CATEGORY_CODES, BatchRequestSchema, BatchResultSchema, ListOf

SESSION_KINDS = ("training_body",) + EMPLOYER_KINDS


@bp.post(f"{API}/sessions")
@doc("Record a training session", body=SessionCreateRequestSchema, response=SessionSchema, status=201,
     tags=["evidence"])
@require(*SESSION_KINDS)
@write
@idempotent
def create_session():
    data = SessionCreateRequestSchema().load(json_body())
    return json_response(SessionSchema().dump(evidence.record_session(data, current_caller())), 201)


@bp.get(f"{API}/sessions")
@doc("The caller's sessions", response=ListOf[SessionSchema], tags=["evidence"], errors=("400",))
@require(*SESSION_KINDS)
def list_sessions():
    stmt = select(TrainingSession).where(TrainingSession.organization_id == current_caller().org_id)
    return json_response(paginate(stmt, TrainingSession, SessionSchema().dump, TrainingSession.starts_at))


def _own_session(session_id) -> TrainingSession:
    session = get_or_404(TrainingSession, session_id, "session")
    caller = current_caller()
    if caller.kind != "regulator" and session.organization_id != caller.org_id:
        raise Forbidden("This session belongs to another organisation.")
    return session


@bp.get(f"{API}/sessions/<session_id>")
@doc("One session", response=SessionSchema, tags=["evidence"], errors=("404",))
@require(*SESSION_KINDS, "regulator")
def get_session(session_id):
    return json_response(SessionSchema().dump(_own_session(session_id)))


@bp.post(f"{API}/sessions/<session_id>/enrolments")
@doc("Enrol a worker in the caller's training session (the standing to record their attendance)",
     body=EnrolmentCreateRequestSchema, response=EnrolmentSchema, status=201, tags=["evidence"],
     errors=("400", "404", "422"))
@require("training_body")
@write
@idempotent
def create_enrolment(session_id):
    session = _own_session(session_id)
    data = EnrolmentCreateRequestSchema().load(json_body())
    row, created = enrol(session, data["worker_id"], current_caller())
    return json_response(EnrolmentSchema().dump(row), 201 if created else 200)


@bp.post(f"{API}/sessions/<session_id>/enrolments/batch")
@doc("Enrol a class at once", body=BatchRequestSchema, response=BatchResultSchema, tags=["evidence"],
     errors=("400", "404", "422"))
@require("training_body")
@write
def create_enrolment_batch(session_id):
    session = _own_session(session_id)
    items, caller = BatchRequestSchema().load(json_body())["items"], current_caller()

    def one(item):
        row, created = enrol(session, EnrolmentCreateRequestSchema().load(item)["worker_id"], caller)
        return row.id, 201 if created else 200
    return json_response(run_batch(items, one))


@bp.get(f"{API}/sessions/<session_id>/enrolments")
@doc("A session's enrolments", response=ListOf[EnrolmentSchema], tags=["evidence"], errors=("400", "404"))
@require("training_body", "regulator")
def list_enrolments(session_id):
    session = _own_session(session_id)
    stmt = select(Enrolment).where(Enrolment.session_id == session.id)
    return json_response(paginate(stmt, Enrolment, EnrolmentSchema().dump))


@bp.post(f"{API}/sessions/<session_id>/attendance")
@doc("Record one attendance (403 not_enrolled / not_employed without standing for the worker; 422 in_future)",
     body=AttendanceCreateRequestSchema, response=AttendanceSchema, status=201,
     tags=["evidence"], errors=("400", "404", "422"))
@require(*SESSION_KINDS)
@write
@idempotent
def create_attendance(session_id):
    session = _own_session(session_id)
    data = AttendanceCreateRequestSchema().load(json_body())
    att = evidence.record_attendance(session, data, current_caller())
    return json_response({"id": att.id, **AttendanceSchema().dump(att)}, 201)


@bp.post(f"{API}/sessions/<session_id>/attendance/batch")
@doc("Record a class's attendance", body=BatchRequestSchema, response=BatchResultSchema, tags=["evidence"],
     errors=("400", "404", "422"))
@require(*SESSION_KINDS)
@write
def create_attendance_batch(session_id):
    session = _own_session(session_id)
    items, caller = BatchRequestSchema().load(json_body())["items"], current_caller()

    def one(item):
        att = evidence.record_attendance(session, AttendanceCreateRequestSchema().load(item), caller)
        return att.id, 201
    return json_response(run_batch(items, one))


@bp.get(f"{API}/sessions/<session_id>/attendance")
@doc("A session's attendance", response=ListOf[AttendanceSchema], tags=["evidence"], errors=("400", "404"))
@require(*SESSION_KINDS, "regulator")
def list_attendance(session_id):
    session = _own_session(session_id)
    stmt = select(Attendance).where(Attendance.session_id == session.id)
    return json_response(paginate(stmt, Attendance, AttendanceSchema().dump))


@bp.post(f"{API}/attendance/<att_id>/void")
@doc("Void a mistaken attendance record", body=VoidRequestSchema, response=AttendanceSchema,
     tags=["evidence"], errors=("400", "404", "409", "422"))
@require(*SESSION_KINDS, "regulator")
@write
def void_attendance(att_id):
    att = get_or_404(Attendance, att_id, "attendance record")
    reason = VoidRequestSchema().load(json_body())["reason"]
    return json_response(AttendanceSchema().dump(
        evidence.void_record(att, reason, current_caller(), att.session.organization_id)))


@bp.post(f"{API}/exams")
@doc("Record an exam result (exam centres and regulators only)", body=ExamCreateRequestSchema,
     response=ExamSchema, status=201, tags=["evidence"])
@require("exam_centre", "regulator")
@write
@idempotent
def create_exam():
    data = ExamCreateRequestSchema().load(json_body())
    exam = evidence.record_exam(data, current_caller())
    return json_response(ExamSchema().dump(exam), 201)


@bp.post(f"{API}/exams/batch")
@doc("Record many exam results", body=BatchRequestSchema, response=BatchResultSchema, tags=["evidence"])
@require("exam_centre", "regulator")
@write
def create_exams():
    items, caller = BatchRequestSchema().load(json_body())["items"], current_caller()

    def one(item):
        return evidence.record_exam(ExamCreateRequestSchema().load(item), caller).id, 201
    return json_response(run_batch(items, one))


@bp.post(f"{API}/exams/<exam_id>/void")
@doc("Void a mistaken exam record", body=VoidRequestSchema, response=ExamSchema, tags=["evidence"],
     errors=("400", "404", "409", "422"))
@require("exam_centre", "regulator")
@write
def void_exam(exam_id):
    exam = get_or_404(Exam, exam_id, "exam")
    reason = VoidRequestSchema().load(json_body())["reason"]
    return json_response(ExamSchema().dump(evidence.void_record(exam, reason, current_caller(), exam.exam_centre_id)))


@bp.get(f"{API}/workers/<worker_id>/evidence/<category>")
@doc("A worker's evidence for a category: hours credited, exam, what is missing",
     response=EvidenceSchema, tags=["evidence"], errors=("404",))
@require("training_body", "exam_centre", "regulator")
def worker_evidence(worker_id, category):
    get_or_404(Worker, worker_id, "worker")
    if category not in CATEGORY_CODES:
        raise BadRequest("Unknown category.")
    return json_response(EvidenceSchema().dump(hours.evidence_for(worker_id, category)))
