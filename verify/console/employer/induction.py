"""The three-level safety induction in the console: an employing organisation's sessions (company,
workshop, team), a grid of its placed workers against its recent sessions, and one session's
attendance with voiding. Routes attach to ``console_employer_views.bp``.

Records go through ``training.evidence.service`` with the signed-in person as the caller; only workers of
the organisation's current placements can be ticked. Must not: count anyone's induction for a host
(the pre-start check does that, from the records), or edit a record (void it with a reason).
"""
from __future__ import annotations

from datetime import timedelta

from flask import flash, g, redirect, render_template, request
from sqlalchemy import func, select

from training import clock
from training.accounts import service as accounts
from training.accounts.guard import page, refuse
from training.catalogue import load_catalogue
from training.console.attendance import void_from_form
from training.console.pages import paged
from training.console.uploads import UploadError, parse_local
from training.db import db, utcnow
from training.errors import ApiError
from training.evidence.models import Attendance, TrainingSession
from training.evidence.service import record_attendance, record_session
from training.people.models import Worker
from training.web.i18n import t
from verify.console.employer import bp
from verify.console.employer.pages import EMPLOYERS, caller, kind, roles
from verify.console.employer.words import words
from verify.employment import service as emp_service
from verify.employment.models import Employment

LEVELS = emp_service.LEVELS
GRID_SESSIONS, GRID_ROWS = 8, 500


def own_session(session_id: str) -> TrainingSession | None:
    s = db.session.get(TrainingSession, session_id) if 0 < len(session_id) <= 16 else None
    if s is None or s.organization_id != g.account.organization_id or s.kind != "induction":
        return None
    return s


def placed_workers(role: str = "", q: str = "") -> list[Worker]:
    """Workers of the organisation's current placements (as host, or as the one in between)."""
    ids = emp_service.visible(select(Employment.worker_id), caller()).where(emp_service.active_on(clock.today()))
    if role:
        ids = ids.where(Employment.role == role)
    stmt = select(Worker).where(Worker.id.in_(ids))
    if q:
        stmt = stmt.where(Worker.name.contains(q) | Worker.id_masked.endswith(q[-4:]))
    return db.session.scalars(stmt.order_by(Worker.name, Worker.id).limit(GRID_ROWS)).all()


@bp.get("/induction")
@page(kinds=EMPLOYERS)
def induction():
    me, level = g.account.organization_id, request.args.get("level", "")
    attended = (select(func.count()).where(Attendance.session_id == TrainingSession.id, Attendance.voided_at.is_(None))
                .scalar_subquery())
    stmt = select(TrainingSession, attended).where(TrainingSession.organization_id == me,
                                                   TrainingSession.kind == "induction")
    if level in LEVELS:
        stmt = stmt.where(TrainingSession.level == level)
    listing = paged(stmt.order_by(TrainingSession.starts_at.desc(), TrainingSession.id), rows=True)
    industry = g.account.organization.industry or "other"
    return render_template("console_employer_induction.html", listing=listing, level=level, levels=LEVELS,
                           industry=industry, required=load_catalogue().at(utcnow()).induction_hours(industry))


@bp.post("/induction")
@page("records", kinds=EMPLOYERS)
def add_induction():
    f = request.form
    try:
        start = parse_local(f"{f.get('date', '')} {f.get('start', '')}")
        hours, capacity = float(f.get("hours", "0")), int(f.get("capacity") or 50)
        if not 0 < hours <= 12 or not 1 <= capacity <= 1000 or f.get("level") not in LEVELS:
            raise UploadError("range")
    except (UploadError, ValueError) as err:
        flash(words(getattr(err, "code", "range")), "bad")
        return redirect("/console/induction")
    location = (f.get("location", "").strip() or g.account.organization.name)[:200]
    session = record_session({"kind": "induction", "level": f["level"], "starts_at": start,
                              "ends_at": start + timedelta(hours=hours), "location": location,
                              "capacity": capacity}, caller())
    accounts.record(g.account, "console.induction_session", session.id, level=session.level)
    db.session.commit()
    flash(t("已添加教育课程。在“考勤”中为本班组勾选出勤。", "Session added. Tick the crew's attendance under “Attendance”."), "ok")
    return redirect("/console/induction/attendance")


def grid_sessions(level: str) -> list[TrainingSession]:
    stmt = select(TrainingSession).where(TrainingSession.organization_id == g.account.organization_id,
                                         TrainingSession.kind == "induction")
    if level in LEVELS:
        stmt = stmt.where(TrainingSession.level == level)
    latest = db.session.scalars(stmt.order_by(TrainingSession.starts_at.desc()).limit(GRID_SESSIONS)).all()
    return sorted(latest, key=lambda s: s.starts_at)


def recorded_hours(worker_ids: list[str]) -> dict:
    """Induction hours recorded by this organisation, by worker and level (before overlap and cap)."""
    if not worker_ids:
        return {}
    rows = db.session.execute(select(Attendance.worker_id, TrainingSession.level, func.sum(Attendance.hours))
                              .join(TrainingSession, TrainingSession.id == Attendance.session_id)
                              .where(Attendance.worker_id.in_(worker_ids), Attendance.voided_at.is_(None),
                                     TrainingSession.organization_id == g.account.organization_id,
                                     TrainingSession.kind == "induction")
                              .group_by(Attendance.worker_id, TrainingSession.level))
    out: dict = {}
    for worker_id, level, hours in rows:
        out.setdefault(worker_id, {})[level] = float(hours or 0)
    return out


def incomplete(levels: dict, required: float | None) -> bool:
    return any(levels.get(lvl, 0) <= 0 for lvl in LEVELS) or (required is not None and sum(levels.values()) < required)


@bp.get("/induction/attendance")
@page(kinds=EMPLOYERS)
def induction_grid():
    role, q, level, todo = (request.args.get(k, "").strip() for k in ("role", "q", "level", "todo"))
    sessions, workers = grid_sessions(level), placed_workers(role, q)
    hours = recorded_hours([w.id for w in workers])
    required = load_catalogue().at(utcnow()).induction_hours(g.account.organization.industry or "other") \
        if kind() == "enterprise" else None
    if todo:
        workers = [w for w in workers if incomplete(hours.get(w.id, {}), required)]
    marks = {}
    if sessions and workers:
        marks = {(a.session_id, a.worker_id): a for a in db.session.scalars(select(Attendance).where(
            Attendance.session_id.in_([s.id for s in sessions]), Attendance.voided_at.is_(None),
            Attendance.worker_id.in_([w.id for w in workers])))}
    return render_template("console_employer_induction_grid.html", sessions=sessions, workers=workers, marks=marks,
                           hours=hours, required=required, role=role, q=q, level=level, todo=todo, roles=roles(),
                           levels=LEVELS, capped=len(workers) >= GRID_ROWS, incomplete=incomplete)


def attend(session: TrainingSession, worker_id: str) -> str | None:
    """Record one worker present for the whole session, in its own savepoint: an error code or None."""
    if db.session.scalar(select(Attendance.id).where(Attendance.session_id == session.id,
                                                     Attendance.worker_id == worker_id,
                                                     Attendance.voided_at.is_(None))):
        return "already_recorded"
    savepoint = db.session.begin_nested()
    try:
        record_attendance(session, {"worker_id": worker_id, "check_in": session.starts_at,
                                    "check_out": session.ends_at}, caller())
        savepoint.commit()
        return None
    except ApiError as err:
        savepoint.rollback()
        return next((e.get("code") for e in err.errors or []), "forbidden")


@bp.post("/induction/attendance")
@page("records", kinds=EMPLOYERS)
def induction_grid_save():
    sessions = {s.id: s for s in db.session.scalars(select(TrainingSession).where(
        TrainingSession.organization_id == g.account.organization_id, TrainingSession.kind == "induction",
        TrainingSession.id.in_({c.partition(":")[0][:16] for c in request.form.getlist("cell")[:20000]})))}
    placed = {w.id for w in placed_workers()}
    done, refused = 0, []
    for cell in request.form.getlist("cell")[:20000]:
        session_id, _, worker_id = cell.partition(":")
        session = sessions.get(session_id)
        if session is None or worker_id not in placed:
            refused.append(words("not_placed"))
            continue
        code = attend(session, worker_id)
        if code is None:
            done += 1
        elif code != "already_recorded":
            refused.append(words(code))
    accounts.record(g.account, "console.induction_attendance", g.account.organization_id, recorded=done)
    db.session.commit()
    flash(t(f"已记录 {done} 条教育出勤。", f"{done} induction attendance records saved."), "ok")
    for message in sorted(set(refused)):
        flash(message, "bad")
    return redirect(request.full_path.rstrip("?"))


@bp.get("/induction/<session_id>")
@page(kinds=EMPLOYERS)
def induction_session(session_id):
    session = own_session(session_id)
    if session is None:
        return refuse(404, words("not_found"))
    rows = db.session.execute(select(Attendance, Worker).join(Worker, Worker.id == Attendance.worker_id)
                              .where(Attendance.session_id == session.id).order_by(Worker.name, Worker.id)).all()
    return render_template("console_employer_induction_session.html", session=session, rows=rows)


@bp.post("/induction/attendance/<att_id>/void")
@page("records", kinds=EMPLOYERS)
def void_induction(att_id):
    att = db.session.get(Attendance, att_id) if 0 < len(att_id) <= 16 else None
    if att is None or own_session(att.session_id) is None:
        return refuse(404, words("not_found"))
    void_from_form(att, "console.induction_voided",
                   t("出勤记录已作废；学时将重新计算。", "Attendance voided; hours will be counted again."))
    return redirect(f"/console/induction/{att.session_id}")
