"""Console pages of an enterprise, a labour agency and a subcontractor: home figures, placements
(place, list, end) and notices, with the helpers the other employer pages share. The induction
pages (``console_employer_induction``) and the pre-start checks and receipts
(``console_employer_checks``) attach to the same blueprint.

Every page goes through ``accounts_guard.page`` for a person of an employing organisation:
reading, checking a hire and notices are every role's; placing, ending and induction records are
the administrator's and the clerk's (``records``). A record of another organisation is a 404.
The work is the services' (``employment``, ``notices``, ``training.service``), called with the
signed-in person as the caller so the records and the audit trail name them.

Must not: write tables itself; show, log or put in a URL a full identity number (forms POST it,
pages show the masked form).
"""
from __future__ import annotations

import hashlib
import hmac
from datetime import datetime, timedelta

from flask import Blueprint, current_app, flash, g, redirect, render_template, request
from marshmallow import ValidationError
from sqlalchemy import func, select

from training import accounts, clock
from training.accounts_guard import install, page, refuse
from training.catalogue import EMPLOYER_KINDS, load_catalogue
from training.clock import CHINA
from training.console_pages import paged
from training.db import db
from training.errors import ApiError, Conflict, TooManyRequests
from training.i18n import current_lang, t
from training.identity import IdentityError, normalize_credit_code, normalize_id_number
from training.lookups import count as count_lookups
from training.lookups import find as find_by_number
from training.lookups import refused, same_name
from training.models import Organization, Worker
from training.service import register_worker
from verify import employment as emp_service
from verify import notices as notice_service
from verify.console_employer_words import refusal, words
from verify.employment_models import Employment, Notice, PrestartCheck
from verify.prestart import visible_checks
from verify.standing import employs

bp = Blueprint("employer_console", __name__, url_prefix="/console", template_folder="templates",
               static_folder="console_employer_static", static_url_path="/assets/employer")
install(bp)
EMPLOYERS = EMPLOYER_KINDS


def caller():
    return accounts.caller_for(g.account)


def kind() -> str:
    return g.account.organization.kind


def roles() -> list:
    return list(load_catalogue().roles.values())


def role_name(code: str | None) -> str:
    role = load_catalogue().roles.get(code or "")
    return t(role.name, role.name_en) if role else (code or "")


def industry_name(code: str | None) -> str:
    item = load_catalogue().industries.get(code or "other", {})
    return t(item.get("name", code or ""), item.get("name_en", code or ""))


def level_name(code: str | None) -> str:
    return {"company": t("公司级", "Company"), "workshop": t("车间级", "Workshop"),
            "team": t("班组级", "Team")}.get(code or "", code or "")


@bp.app_template_filter("cst_iso")
def cst_iso(stamp: str | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """An RFC 3339 time from a stored answer, as China time."""
    return clock.text(stamp, fmt)


@bp.context_processor
def _shared():
    account = getattr(g, "account", None)
    unread = 0
    if account is not None and account.organization.kind in EMPLOYERS:
        unread = db.session.scalar(select(func.count()).select_from(
            notice_service.own_notices(caller(), unread_only=True).subquery()))
    return {"role_name": role_name, "level_name": level_name, "industry_name": industry_name,
            "unread_notices": unread, "emp_kind": kind,
            "today": clock.today()}


@bp.app_template_global("employer_home")
def employer_home() -> dict:
    """What an employing organisation's home page counts (the console's home includes it)."""
    who, today = caller(), clock.today()
    since = datetime.combine(today - timedelta(days=6), datetime.min.time()) - CHINA
    checks = db.session.execute(select(PrestartCheck.cleared, func.count()).where(
        visible_checks(who).whereclause, PrestartCheck.checked_at >= since).group_by(PrestartCheck.cleared)).all()
    counts = dict(checks)
    active = emp_service.visible(select(func.count()).select_from(Employment), who).where(
        emp_service.active_on(today))
    cleared = visible_checks(who).with_only_columns(PrestartCheck.id).where(
        PrestartCheck.worker_id == Employment.worker_id, PrestartCheck.employer_id == Employment.employer_id,
        PrestartCheck.role == Employment.role, PrestartCheck.cleared.is_(True))
    return {"active": db.session.scalar(active), "unchecked": db.session.scalar(active.where(~cleared.exists())),
            "cleared": counts.get(True, 0), "not_cleared": counts.get(False, 0),
            "unread": db.session.scalar(select(func.count()).select_from(
                notice_service.own_notices(who, unread_only=True).subquery()))}


# --- whom a form names -----------------------------------------------------------------------


def worker_by_number(raw: str, name: str = "", counted: bool = False) -> tuple[Worker | None, str | None, str | None]:
    """(worker, problem code, normalised number) for a typed identity number: found when the
    organisation employs the worker or ``name`` is theirs (``training.lookups``), else
    ``not_registered``, the same as for a number nobody holds. Counted here unless the caller
    counted a whole file's numbers first (``counted``); ``429`` past the limits."""
    try:
        number = normalize_id_number(raw)
    except IdentityError as err:
        return None, err.code, None
    who, protector = caller(), current_app.extensions["identity"]
    if not counted:
        count_lookups([number], who, protector)
    worker = find_by_number(Worker, number, who, protector, name=name or None,
                            standing=lambda w: employs(who.org_id, w.id, clock.today()))
    return worker, None if worker else "not_registered", number


def presented_token(worker_id: str) -> str:
    """A mark, for a page to hand back, that this organisation gave the worker's name and
    identity number together (so a check may tell it the worker's standing): keyed, so a form
    cannot claim it for someone else."""
    msg = f"presented:{g.account.organization_id}:{worker_id}".encode()
    return hmac.new(current_app.config["SECRET_KEY"].encode(), msg, hashlib.sha256).hexdigest()[:24]


def was_presented(worker_id: str, token: str) -> bool:
    return bool(token) and hmac.compare_digest(presented_token(worker_id), str(token))


def worker_by_id(worker_id: str) -> Worker | None:
    return db.session.get(Worker, worker_id) if 0 < len(worker_id) <= 16 else None


def org_choice(choice: str, code: str) -> tuple[str | None, str | None]:
    """(organisation id, problem) from a list of known ones ("self" for one's own) or a credit code."""
    code = (code or "").strip()
    if code:
        try:
            code = normalize_credit_code(code)
        except IdentityError as err:
            return None, err.code
        org = db.session.scalar(select(Organization).where(Organization.credit_code == code))
        return (org.id, None) if org else (None, "org_not_found")
    if choice == "self":
        return g.account.organization_id, None
    return (choice[:16] or None), None


def partners(side: str) -> list[Organization]:
    """Hosts this organisation places with (side "host"), or agencies and subcontractors that place
    with it (side "via"), from its own placements."""
    me = g.account.organization_id
    if side == "host":
        ids = select(Employment.employer_id).where(Employment.via_id == me, Employment.employer_id != me)
    else:
        ids = select(Employment.via_id).where(Employment.employer_id == me, Employment.via_id.is_not(None))
    return db.session.scalars(select(Organization).where(Organization.id.in_(ids)).order_by(Organization.name)).all()


def visible_employment(emp_id: str) -> Employment | None:
    try:
        return emp_service.get_employment(emp_id, caller())
    except ApiError:
        return None


def latest_checks(emps: list[Employment]) -> dict:
    """The newest check the organisation can see for each (worker, host, role) on the page."""
    if not emps:
        return {}
    rows = db.session.scalars(visible_checks(caller()).where(
        PrestartCheck.worker_id.in_({e.worker_id for e in emps})).order_by(PrestartCheck.checked_at.desc()))
    out: dict = {}
    for c in rows:
        out.setdefault((c.worker_id, c.employer_id, c.role), c)
    return out


# --- placements ----------------------------------------------------------------------------------


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


# --- notices --------------------------------------------------------------------------------------


@bp.get("/notices")
@page(kinds=EMPLOYERS)
def notices():
    unread = request.args.get("show", "unread") != "all"
    listing = paged(notice_service.own_notices(caller(), unread_only=unread)
                    .order_by(Notice.created_at.desc(), Notice.id))
    emps = {e.id for e in db.session.scalars(emp_service.visible(select(Employment), caller()).where(
        Employment.id.in_({n.employment_id for n in listing.items if n.employment_id})))}
    checks = set(db.session.scalars(visible_checks(caller()).with_only_columns(PrestartCheck.id).where(
        PrestartCheck.id.in_({n.check_id for n in listing.items if n.check_id}))))
    return render_template("console_employer_notices.html", listing=listing, unread=unread, emps=emps, checks=checks,
                           english=current_lang() == "en")


@bp.post("/notices/<notice_id>/read")
@page(kinds=EMPLOYERS)
def read_notice(notice_id):
    try:
        notice_service.mark_read(notice_id, caller())
    except ApiError:
        return refuse(404, words("not_found"))
    db.session.commit()
    return redirect("/console/notices")


@bp.post("/notices/read-all")
@page(kinds=EMPLOYERS)
def read_all_notices():
    ids = db.session.scalars(notice_service.own_notices(caller(), unread_only=True)
                             .with_only_columns(Notice.id).limit(1000)).all()
    for notice_id in ids:
        notice_service.mark_read(notice_id, caller())
    db.session.commit()
    flash(t(f"已将 {len(ids)} 条通知标为已读。", f"{len(ids)} notices marked read."), "ok")
    return redirect("/console/notices")


from verify import console_employer_checks, console_employer_induction  # noqa: E402,F401  (their routes, on this bp)
