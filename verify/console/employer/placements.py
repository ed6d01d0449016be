"""Placements in the console (用工登记): placing a worker with a host (directly, through an agency or a subcontractor), the list, one placement, confirming and ending it."""
from __future__ import annotations

from flask import current_app, flash, g, redirect, render_template, request
from marshmallow import ValidationError
from sqlalchemy import select

from training import clock
from training.accounts import service as accounts
from training.accounts.guard import page, refuse
from training.console.pages import paged
from training.db import db
from training.db.audit import refused
from training.errors import ApiError, Conflict, TooManyRequests
from training.parties.models import Organization
from training.people.lookups import same_name
from training.people.models import Worker
from training.people.service import register_worker
from verify.console.employer import (  # noqa: E402,F401  (their routes, on this bp)
    bp,
    checks as console_employer_checks,
)
from verify.console.employer.pages import (
    EMPLOYERS,
    caller,
    kind,
    latest_checks,
    org_choice,
    partners,
    roles,
    visible_employment,
    worker_by_id,
    worker_by_number,
)
from verify.console.employer.words import refusal, words
from verify.employment import service as emp_service
from verify.employment.models import Employment
from verify.prestart.models import PrestartCheck
from verify.prestart.service import visible_checks


@bp.get("/employments")
@page(kinds=EMPLOYERS)
def employments():
    stmt = emp_service.visible(select(Employment, Worker).join(Worker, Worker.id == Employment.worker_id), caller())
    q, role, status = (request.args.get(k, "").strip() for k in ("q", "role", "status"))
    status = status or "active"
    if q:
        stmt = stmt.where(Worker.name.contains(q) | Worker.id_masked.endswith(q[-4:]))
    if role:
        stmt = stmt.where(Employment.role == role)
    today = clock.today()
    if status == "active":
        stmt = stmt.where(Employment.ends_on.is_(None) | (Employment.ends_on >= today))
    elif status == "ended":
        stmt = stmt.where(Employment.ends_on < today)
    listing = paged(stmt.order_by(Employment.starts_on.desc(), Employment.created_at.desc(), Employment.id),
                    rows=True)
    emps = [e for e, _ in listing.items]
    orgs = {o.id: o for o in db.session.scalars(select(Organization).where(Organization.id.in_(
        {e.employer_id for e in emps} | {e.via_id for e in emps if e.via_id})))}
    return render_template("console_employer_employments.html", listing=listing, q=q, role=role, status=status,
                           roles=roles(), orgs=orgs, checks=latest_checks(emps),
                           hosts=partners("host"), vias=partners("via"), form={})


def placement_parties(form) -> tuple[str | None, str | None, str | None]:
    """(host id, via id, problem) for the placement form, by the organisation's kind."""
    me, k = g.account.organization_id, kind()
    if k == "enterprise":
        via, problem = org_choice(form.get("via", ""), form.get("via_code", ""))
        return me, via, problem
    host, problem = org_choice(form.get("host", ""), form.get("host_code", ""))
    if problem:
        return None, None, problem
    if host is None:
        return None, None, "host_required"
    return host, (None if host == me else me), None


def placement_worker(form) -> tuple[Worker | None, str | None, bool]:
    """(worker, problem, name differs) from the form: a worker id, or an identity number (and a
    name, to register someone new)."""
    worker_id, name = form.get("worker_id", "").strip(), form.get("name", "").strip()[:100]
    if worker_id:
        worker = worker_by_id(worker_id)
        return worker, None if worker else "worker_not_found", False
    worker, problem, number = worker_by_number(form.get("id_number", ""), name)
    if problem == "not_registered":
        if not name:
            return None, "not_registered_name", False
        try:  # someone new, or registered under this very name; another name is refused
            worker, _ = register_worker({"name": name, "id_number": number}, current_app.extensions["identity"], caller())
        except Conflict:
            return None, "name_mismatch", False
        return worker, None, False
    return worker, problem, bool(worker and name and not same_name(name, worker.name))


@bp.post("/employments")
@page("records", kinds=EMPLOYERS)
def place():
    form = request.form
    try:
        worker, problem, differs = placement_worker(form)
    except TooManyRequests as err:
        refused(err)
        flash(words("too_many_lookups"), "bad")
        return redirect("/console/employments")
    host, via, other = placement_parties(form) if worker else (None, None, None)
    message = words(problem or other) if (problem or other) else None
    emp = None
    if message is None:
        body = {k: v for k, v in {"worker_id": worker.id, "employer_id": host, "via_id": via,
                                  "role": form.get("role", ""), "starts_on": form.get("starts_on", "")}.items() if v}
        try:
            emp = emp_service.create_employment(emp_service.EmploymentCreateRequestSchema().load(body), caller())
        except (ValidationError, ApiError) as err:
            message = refusal(err)
    if emp is None:
        db.session.rollback()
        flash(message, "bad")
        return redirect("/console/employments")
    accounts.record(g.account, "console.employment_placed", emp.id, worker_id=worker.id, role=emp.role)
    db.session.commit()
    flash(f"{worker.name}（{worker.id_masked}）：{words('placed' if emp.status == 'active' else 'placed_pending')}", "ok")
    if differs:
        flash(words("name_differs"), "warn")
    return redirect(f"/console/employments/{emp.id}")


@bp.get("/employments/<emp_id>")
@page(kinds=EMPLOYERS)
def employment(emp_id):
    emp = visible_employment(emp_id)
    if emp is None:
        return refuse(404, words("not_found"))
    worker, host = db.session.get(Worker, emp.worker_id), db.session.get(Organization, emp.employer_id)
    day = max(emp.starts_on, clock.today())
    ind = emp_service.induction_for(worker.id, host, emp.role, day)
    checks = db.session.scalars(visible_checks(caller()).where(
        PrestartCheck.worker_id == worker.id, PrestartCheck.employer_id == host.id)
        .order_by(PrestartCheck.checked_at.desc()).limit(10)).all()
    return render_template("console_employer_employment.html", emp=emp, worker=worker, host=host,
                           via=db.session.get(Organization, emp.via_id) if emp.via_id else None,
                           ind=ind, checks=checks)


def _act_on_placement(emp_id: str, act, event: str, done: str):
    """Do ``act(emp)`` to one of the organisation's placements from its page: the refusal in
    words and nothing kept, or the act recorded (``act``'s answer is the record's detail)."""
    emp = visible_employment(emp_id)
    if emp is None:
        return refuse(404, words("not_found"))
    try:
        detail = act(emp) or {}
    except (ValidationError, ApiError) as err:
        db.session.rollback()
        flash(words("not_found") if getattr(err, "status", 0) == 404 else refusal(err, conflict="already_ended"), "bad")
        return redirect(f"/console/employments/{emp_id}")
    accounts.record(g.account, event, emp.id, **detail)
    db.session.commit()
    flash(words(done), "ok")
    return redirect(f"/console/employments/{emp.id}")


@bp.post("/employments/<emp_id>/confirm")
@page("records", kinds=EMPLOYERS)
def confirm(emp_id):
    return _act_on_placement(emp_id, lambda emp: emp_service.confirm_employment(emp, caller()) and None,
                             "console.employment_confirmed", "confirmed")


@bp.post("/employments/<emp_id>/end")
@page("records", kinds=EMPLOYERS)
def end(emp_id):
    def act(emp):
        data = emp_service.EmploymentPatchRequestSchema().load({"ends_on": request.form.get("ends_on", "")})
        emp_service.end_employment(emp, data, caller())
        return {"ends_on": str(emp.ends_on)}
    return _act_on_placement(emp_id, act, "console.employment_ended", "ended")
