"""Training evidence: sessions, attendance and exams recorded, voided, and weighed.

Evidence is recorded as reported; anomalies become findings in a higher layer (through the
signals sent here), never silent drops. ``evidence_for`` answers what issuance needs: credited
hours (voided records and overlapping hours credited to neither, at most the daily cap per China
calendar day), when the required hours were complete, and the exam that qualifies, if any.
"""
from __future__ import annotations

from training.catalogue import load_catalogue
from training.clock import CHINA
from training.db import db, utcnow
from training.errors import Conflict, Forbidden, Unprocessable, field_error
from training.evidence.models import Attendance, Exam, TrainingSession
from training.evidence.standing import not_in_future, standing_for
from training.parties.service import accredited
from training.people.models import Trainer, Worker
from training.signals import attendance_recorded, exam_recorded, record_voided, session_recorded

TRAINER_KINDS = {"initial": ("training_body",), "refresher": ("training_body",),
                 "induction": ("enterprise", "labour_agency", "subcontractor")}


def record_session(data: dict, caller) -> TrainingSession:
    if caller.kind not in TRAINER_KINDS[data["kind"]]:
        raise Forbidden(f"An organisation of kind '{caller.kind}' may not record {data['kind']} sessions.")
    trainer_id = data.get("trainer_id")
    if trainer_id is not None and db.session.get(Trainer, trainer_id) is None:
        raise Unprocessable("Unknown trainer.", [field_error("trainer_id", "not_found", "No trainer with this id.")])
    session = TrainingSession(organization_id=caller.org_id, **{
        k: data.get(k) for k in ("category", "kind", "level", "starts_at", "ends_at", "location",
                                 "latitude", "longitude", "trainer_id", "capacity")})
    db.session.add(session)
    db.session.flush()
    session_recorded.send(session)
    return session


def record_attendance(session: TrainingSession, data: dict, caller) -> Attendance:
    if session.organization_id != caller.org_id:
        raise Forbidden("Only the organisation that ran the session records its attendance.")
    errors = []
    worker = db.session.get(Worker, data["worker_id"])
    if worker is None:
        errors.append(field_error("worker_id", "not_found", "No worker with this id."))
    if data["check_in"] < session.starts_at or data["check_in"] >= session.ends_at:
        errors.append(field_error("check_in", "outside_session", "check_in is outside the session's time."))
    if data["check_out"] > session.ends_at or data["check_out"] <= session.starts_at:
        errors.append(field_error("check_out", "outside_session", "check_out is outside the session's time."))
    errors += [e for e in [not_in_future(data["check_out"], "check_out")] if e]
    if errors:
        raise Unprocessable("The attendance does not fit the session.", errors)
    standing_for(session, worker, data["check_in"], caller)
    hours = round((data["check_out"] - data["check_in"]).total_seconds() / 3600, 2)
    att = Attendance(session_id=session.id, worker_id=data["worker_id"], check_in=data["check_in"],
                     check_out=data["check_out"], hours=hours, created_by=caller.key_id)
    att.session = session
    db.session.add(att)
    db.session.flush()
    attendance_recorded.send(att)
    return att


def record_exam(data: dict, caller) -> Exam:
    cat = load_catalogue().at(data["taken_at"]).category(data["category"])  # the pass mark when it was taken
    if caller.kind == "exam_centre" and not accredited(caller.org_id, cat.code, data["taken_at"] + CHINA):
        raise Forbidden("This exam centre holds no active accreditation for the category on that date.")
    if caller.kind not in ("exam_centre", "regulator"):
        raise Forbidden("Only exam centres and regulators record exam results (training and examining are kept apart).")
    if db.session.get(Worker, data["worker_id"]) is None:
        raise Unprocessable("Unknown worker.", [field_error("worker_id", "not_found", "No worker with this id.")])
    future = not_in_future(data["taken_at"], "taken_at")
    if future:
        raise Unprocessable("An exam dated after now is not recorded.", [future])
    passed = data["theory_score"] >= cat.pass_mark and data["practical_score"] >= cat.pass_mark
    exam = Exam(exam_centre_id=caller.org_id, passed=passed, created_by=caller.key_id, **data)
    db.session.add(exam)
    db.session.flush()
    exam_recorded.send(exam)
    return exam


def void_record(record, reason: str, caller, owner_org: str):
    if caller.kind != "regulator" and caller.org_id != owner_org:
        raise Forbidden("Only the organisation that recorded it (or a regulator) may void this record.")
    if record.voided_at is not None:
        raise Conflict("This record is already void.")
    record.voided_at, record.void_reason = utcnow(), reason
    db.session.flush()
    record_voided.send(record)
    return record
