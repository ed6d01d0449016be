"""What every employer page stands on: who is asking, the words for roles, levels and industries, the home page's figures, and finding the worker, partner or placement a form names."""
from __future__ import annotations

import hashlib
import hmac
from datetime import datetime, timedelta

from flask import current_app, g
from sqlalchemy import func, select

from training import clock
from training.accounts import service as accounts
from training.catalogue import EMPLOYER_KINDS, load_catalogue
from training.clock import CHINA
from training.db import db
from training.errors import ApiError
from training.parties.models import Organization
from training.people.identity import IdentityError, normalize_credit_code, normalize_id_number
from training.people.lookups import count as count_lookups, find as find_by_number
from training.people.models import Worker
from training.web.i18n import t
from verify.console.employer import bp
from verify.employment import notices as notice_service, service as emp_service
from verify.employment.models import Employment
from verify.employment.standing import employs
from verify.prestart.models import PrestartCheck
from verify.prestart.service import visible_checks

CHUNK, MAX_CREW = 10, 500  # a crew is checked ten rows a request, at most 500 rows a crew
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


def worker_by_number(raw: str, name: str = "", counted: bool = False) -> tuple[Worker | None, str | None, str | None]:
    """(worker, problem code, normalised number) for a typed identity number: found when the
    organisation employs the worker or ``name`` is theirs (``training.people.lookups``), else
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
