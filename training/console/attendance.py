"""A training body's sessions and attendance in the console: a class's sessions, attendance for
the whole class at once (ticked on a grid, or uploaded as a sheet of check-ins and check-outs),
one session's register, and voiding a wrong record with a reason.

Every record of another organisation answers 404; a person off the class's roster cannot be
marked present. Must not: count hours or decide readiness (``evidence`` does, from the records).
"""
from __future__ import annotations

from datetime import datetime, timedelta

from flask import flash, g, redirect, render_template, request
from sqlalchemy import select

from training.accounts import service as accounts
from training.accounts.guard import own, page
from training.accounts.words import say
from training.clock import CHINA
from training.console.classes import class_counts
from training.console.models import ClassMember, ClassSession, TrainingClass
from training.console.pages import BODY, bp, caller, get_by_id, get_class, protector, record_or_404
from training.console.uploads import UploadError, parse_local, read_upload, report, run_row, upload_refused
from training.db import db, utcnow
from training.evidence.models import Attendance, TrainingSession
from training.evidence.service import record_attendance, record_session, void_record
from training.people.models import Trainer, Worker
from training.web.i18n import t


def class_sessions(cls: TrainingClass) -> list[TrainingSession]:
    return db.session.scalars(select(TrainingSession).join(ClassSession, ClassSession.session_id == TrainingSession.id)
                              .where(ClassSession.class_id == cls.id).order_by(TrainingSession.starts_at)).all()


def org_trainers() -> list[Trainer]:
    return db.session.scalars(select(Trainer).where(Trainer.created_by == g.account.organization_id)
                              .order_by(Trainer.name)).all()


@bp.get("/classes/<class_id>/sessions")
@page(kinds=BODY)
@record_or_404(get_class, "class_id")
def sessions(cls):
    return render_template("console_sessions.html", cls=cls, sessions=class_sessions(cls), trainers=org_trainers(),
                           counts=class_counts(cls), tab="sessions", today=(utcnow() + CHINA).date())


@bp.post("/classes/<class_id>/sessions")
@page("records", kinds=BODY)
@record_or_404(get_class, "class_id")
def add_session(cls):
    back = f"/console/classes/{cls.id}/sessions"
    f = request.form
    try:
        start = parse_local(f"{f.get('date', '')} {f.get('start', '')}")
        hours = float(f.get("hours", "0"))
        capacity = int(f.get("capacity") or class_counts(cls)["members"] or 1)
        if not 0 < hours <= 12 or not 1 <= capacity <= 1000:
            raise UploadError("range")
    except (UploadError, ValueError) as err:
        flash(say(getattr(err, "code", "range")), "bad")
        return redirect(back)
    trainer = db.session.get(Trainer, f.get("trainer_id", "")[:16])
    if trainer is None or trainer.created_by != g.account.organization_id:
        flash(t("请选择本机构登记的教师。", "Choose a trainer registered by your organisation."), "bad")
        return redirect(back)
    location = (f.get("location", "").strip() or g.account.organization.name)[:200]
    session = record_session({"category": cls.category, "kind": "initial", "starts_at": start,
                              "ends_at": start + timedelta(hours=hours), "location": location,
                              "trainer_id": trainer.id, "capacity": capacity}, caller())
    db.session.add(ClassSession(class_id=cls.id, session_id=session.id))
    accounts.record(g.account, "console.session_recorded", session.id, class_id=cls.id)
    db.session.commit()
    flash(t("已添加课程。", "Session added."), "ok")
    return redirect(back)


def attendance_map(cls: TrainingClass, sessions_: list[TrainingSession]) -> dict[tuple[str, str], Attendance]:
    ids = [s.id for s in sessions_]
    if not ids:
        return {}
    rows = db.session.scalars(select(Attendance).where(Attendance.session_id.in_(ids), Attendance.voided_at.is_(None)))
    return {(a.session_id, a.worker_id): a for a in rows}


@bp.get("/classes/<class_id>/attendance")
@page(kinds=BODY)
@record_or_404(get_class, "class_id")
def attendance(cls):
    sessions_ = class_sessions(cls)
    members = db.session.scalars(select(ClassMember).join(Worker).where(ClassMember.class_id == cls.id)
                                 .order_by(ClassMember.added_at, Worker.name)).all()
    return render_template("console_attendance.html", cls=cls, sessions=sessions_, members=members,
                           marks=attendance_map(cls, sessions_), counts=class_counts(cls), tab="attendance")


def _attend(session: TrainingSession, worker_id: str, check_in: datetime, check_out: datetime) -> None:
    if db.session.scalar(select(Attendance.id).where(
            Attendance.session_id == session.id, Attendance.worker_id == worker_id, Attendance.voided_at.is_(None))):
        raise UploadError("already_recorded")
    record_attendance(session, {"worker_id": worker_id, "check_in": check_in, "check_out": check_out}, caller())


@bp.post("/classes/<class_id>/attendance")
@page("records", kinds=BODY)
@record_or_404(get_class, "class_id")
def attendance_grid(cls):
    sessions_ = {s.id: s for s in class_sessions(cls)}
    members = set(db.session.scalars(select(ClassMember.worker_id).where(ClassMember.class_id == cls.id)))
    done, refused = 0, []
    for cell in request.form.getlist("cell")[: 1000 * 50]:
        session_id, _, worker_id = cell.partition(":")
        session = sessions_.get(session_id)
        if session is None or worker_id not in members:
            continue
        code = run_row(lambda: _attend(session, worker_id, session.starts_at, session.ends_at))
        if code is None:
            done += 1
        elif code != "already_recorded":
            refused.append(say(code))
    accounts.record(g.account, "console.attendance_grid", cls.id, recorded=done)
    db.session.commit()
    flash(t(f"已记录 {done} 条考勤。", f"{done} attendance records saved."), "ok")
    for message in sorted(set(refused)):
        flash(message, "bad")
    return redirect(f"/console/classes/{cls.id}/attendance")


@bp.post("/classes/<class_id>/attendance/upload")
@page("records", kinds=BODY)
@record_or_404(get_class, "class_id")
def attendance_upload(cls):
    back = f"/console/classes/{cls.id}/attendance"
    try:
        rows = read_upload(("id_number", "check_in", "check_out"))
    except UploadError as err:
        return upload_refused(err, back)
    sessions_ = class_sessions(cls)
    members = {m.worker.id_hash: m.worker
               for m in db.session.scalars(select(ClassMember).where(ClassMember.class_id == cls.id))}
    out = []
    for n, row in rows:
        result = {}

        def one():
            digest = protector().lookup_hash(row.get("id_number", ""))
            worker = members.get(digest)
            if worker is None:
                raise UploadError("not_in_class")
            result.update(name=worker.name, masked=worker.id_masked)
            check_in, check_out = parse_local(row.get("check_in", "")), parse_local(row.get("check_out", ""))
            session = next((s for s in sessions_ if s.starts_at <= check_in < s.ends_at), None)
            if session is None:
                raise UploadError("no_session")
            _attend(session, worker.id, check_in, check_out)
        code = run_row(one)
        out.append({"row": n, "name": result.get("name", ""), "masked": result.get("masked", ""),
                    "outcome": "refused" if code else "recorded", "message": say(code) if code else ""})
    accounts.record(g.account, "console.attendance_upload", cls.id, rows=len(rows),
                    recorded=sum(r["outcome"] == "recorded" for r in out))
    db.session.commit()
    return report(f"{cls.name} · {t('考勤上传结果', 'Attendance upload')}", out, back)


def own_session(session_id: str) -> TrainingSession | None:
    return own(get_by_id(TrainingSession, session_id))


@bp.get("/sessions/<session_id>")
@page(kinds=BODY)
@record_or_404(own_session, "session_id")
def session_detail(session):
    link = db.session.scalar(select(ClassSession).where(ClassSession.session_id == session.id))
    rows = db.session.execute(select(Attendance, Worker).join(Worker, Worker.id == Attendance.worker_id)
                              .where(Attendance.session_id == session.id).order_by(Worker.name)).all()
    return render_template("console_session.html", session=session, rows=rows,
                           cls=db.session.get(TrainingClass, link.class_id) if link else None)


def own_attendance(att_id: str) -> Attendance | None:
    """The attendance record the URL names, if taken at one of the signed-in body's sessions."""
    att = get_by_id(Attendance, att_id)
    return att if att is not None and own(att.session) is not None else None


@bp.post("/attendance/<att_id>/void")
@page("records", kinds=BODY)
@record_or_404(own_attendance, "att_id")
def void_attendance(att):
    void_from_form(att, "console.attendance_voided",
                   t("考勤记录已作废；学时将重新计算。", "Attendance voided; hours will be counted again."))
    return redirect(f"/console/sessions/{att.session_id}")


def void_from_form(att: Attendance, event: str, done: str) -> None:
    """Void an attendance record with the form's reason (refused, changing nothing, without one),
    record the account's action and commit; flash what happened."""
    reason = request.form.get("reason", "").strip()[:500]
    if not reason:
        flash(t("作废须写明原因。", "Give a reason for voiding."), "bad")
    elif att.voided_at is None:
        void_record(att, reason, caller(), att.session.organization_id)
        accounts.record(g.account, event, att.id, reason=reason)
        db.session.commit()
        flash(done, "ok")
