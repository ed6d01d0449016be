"""Employments (who works for which host, through which agency or subcontractor, in which role)
and the host's three-level induction that a pre-start check weighs.

Must not: let an organisation see or change another's employments (an employment belongs to its
host and to the agency or subcontractor in between; regulators read all), or count induction
given by anyone but the host towards the host's requirement.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from marshmallow import Schema, fields, validate
from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError

from training import clock
from training.catalogue import EMPLOYER_KINDS, load_catalogue
from training.clock import CHINA
from training.db import db
from training.errors import Conflict, Forbidden, NotFound, Unprocessable, field_error
from training.evidence.hours import credited_pieces, worker_attendance
from training.parties.models import Organization, Site
from training.people.models import Worker
from training.web.fields import iso
from verify.employment.models import Employment

ROLE_CODES = sorted(load_catalogue().roles)
VIA_KINDS = ("labour_agency", "subcontractor")
LEVELS = ("company", "workshop", "team")
def Ident(**kw) -> fields.String:
    return fields.String(validate=validate.Length(1, 16), **kw)


class EmploymentCreateRequestSchema(Schema):
    worker_id = Ident(required=True)
    employer_id = Ident()
    via_id = Ident(allow_none=True)
    site_id = Ident(allow_none=True)
    role = fields.String(required=True, validate=validate.OneOf(ROLE_CODES))
    starts_on = fields.Date(required=True)


class EmploymentPatchRequestSchema(Schema):
    ends_on = fields.Date(required=True)


def _org_or_422(org_id: str, name: str, kinds) -> Organization:
    org = db.session.get(Organization, org_id)
    if org is None or org.kind not in kinds:
        raise Unprocessable(f"No such {name}.", [field_error(
            name, "not_found", f"No organisation of kind {' or '.join(kinds)} with this id.")])
    return org


def create_employment(data: dict, caller) -> Employment:
    """Record a placement; the caller must be its host or the agency/subcontractor in between."""
    employer_id = data.get("employer_id") or (caller.org_id if caller.kind == "enterprise" else None)
    if employer_id is None:
        raise Unprocessable("Say which host the worker is placed with.",
                            [field_error("employer_id", "required", "employer_id is required.")])
    via_id = data.get("via_id")
    if caller.org_id not in (employer_id, via_id):
        raise Forbidden("An organisation records only employments where it is the host or the "
                        "labour agency or subcontractor in between (via_id).")
    if db.session.get(Worker, data["worker_id"]) is None:
        raise Unprocessable("Unknown worker.", [field_error("worker_id", "not_found", "No worker with this id.")])
    _org_or_422(employer_id, "employer_id", EMPLOYER_KINDS)
    if via_id is not None:
        _org_or_422(via_id, "via_id", VIA_KINDS)
        if via_id == employer_id:
            raise Unprocessable("The host cannot also be the one in between.",
                                [field_error("via_id", "not_allowed", "via_id must differ from employer_id.")])
    site_id = data.get("site_id")
    if site_id is not None:
        site = db.session.get(Site, site_id)
        if site is None or site.enterprise_id not in (None, employer_id, via_id):
            raise Unprocessable("Unknown site.", [field_error(
                "site_id", "not_found", "No site with this id belongs to the host.")])
    # Recorded by the one in between, it waits for the host: otherwise anyone could name any
    # enterprise as the host and make it a party to the worker's cases.
    status = "active" if caller.org_id == employer_id else "pending"
    emp = Employment(worker_id=data["worker_id"], employer_id=employer_id, via_id=via_id, site_id=site_id,
                     role=data["role"], starts_on=data["starts_on"], created_by=caller.org_id,
                     created_by_key=caller.key_id, status=status,
                     confirmed_by_key=caller.key_id if status == "active" else None)
    same = _open_like(emp)
    if same is not None:
        raise _already_open(same)
    return insert_open_employment(emp)


def _open_like(emp: Employment) -> Employment | None:
    """The open employment ``emp`` would duplicate: same worker, host, via (or none) and role."""
    return db.session.scalar(select(Employment).where(
        Employment.worker_id == emp.worker_id, Employment.employer_id == emp.employer_id,
        Employment.via_id.is_(None) if emp.via_id is None else Employment.via_id == emp.via_id,
        Employment.role == emp.role, Employment.ends_on.is_(None)).limit(1))


def _already_open(same: Employment) -> Conflict:
    return Conflict("This worker already holds an open employment with this host in this role; "
                    "end it before recording another.", employment_id=same.id)


def insert_open_employment(emp: Employment) -> Employment:
    """Insert a new open employment; 409 naming the open one when it already exists.

    The SELECT before this is only the friendly answer: two requests at once both pass it, and the
    unique index uq_employments_open turns the later insert away. The savepoint takes back only
    that insert, so the caller's unit of work stays usable and nothing is half-written.
    """
    try:
        with db.session.begin_nested():
            db.session.add(emp)
    except IntegrityError:
        # The row that won is committed (PostgreSQL made us wait for it; SQLite takes the write
        # lock first), so a fresh read finds it. None: the insert failed for another reason.
        same = _open_like(emp)
        if same is None:
            raise
        raise _already_open(same) from None
    return emp


def visible(stmt, caller):
    """Only the host's and the agency's (or subcontractor's) own employments; regulators see all."""
    if caller.kind == "regulator":
        return stmt
    return stmt.where(or_(Employment.employer_id == caller.org_id, Employment.via_id == caller.org_id))


def get_employment(emp_id: str, caller) -> Employment:
    emp = db.session.get(Employment, emp_id) if isinstance(emp_id, str) and len(emp_id) <= 16 else None
    if emp is None or (caller.kind != "regulator" and caller.org_id not in (emp.employer_id, emp.via_id)):
        raise NotFound("No employment with this id.")  # another's employment does not exist for you
    return emp


def confirm_employment(emp: Employment, caller) -> Employment:
    """The host confirms a placement an agency or subcontractor recorded with it (only the host
    may: 404 for anyone else, as for another's employment). Confirming twice changes nothing."""
    if caller.org_id != emp.employer_id:
        raise NotFound("No employment with this id waits for your confirmation.")
    if emp.ends_on is not None:
        raise Conflict(f"This employment ended on {emp.ends_on}; there is nothing to confirm.")
    if emp.status != "active":
        emp.status, emp.confirmed_by_key = "active", caller.key_id
        db.session.flush()
    return emp


def end_employment(emp: Employment, data: dict, caller) -> Employment:
    if caller.org_id not in (emp.employer_id, emp.via_id):
        raise NotFound("No employment with this id.")
    if data["ends_on"] < emp.starts_on:
        raise Unprocessable("An employment cannot end before it starts.",
                            [field_error("ends_on", "range", f"ends_on must not be before {emp.starts_on}.")])
    if emp.ends_on is not None and emp.ends_on != data["ends_on"]:
        raise Conflict(f"This employment already ended on {emp.ends_on}.")
    emp.ends_on, emp.ended_by_key = data["ends_on"], caller.key_id
    db.session.flush()
    return emp


CONFIRMED = Employment.status == "active"


def active_on(day: date):
    """In force on ``day``: started, not ended, and confirmed by the host."""
    return (Employment.starts_on <= day) & (Employment.ends_on.is_(None) | (Employment.ends_on >= day)) & CONFIRMED


def counts_for(org_id: str):
    """The employment gives ``org_id`` standing for its worker: as the host once it confirmed, or
    as the agency or subcontractor in between (whose own record it is) at once."""
    return or_((Employment.employer_id == org_id) & CONFIRMED, Employment.via_id == org_id)


def employment_dict(emp: Employment) -> dict:
    # session.get: a page of employments of one host loads each organisation once.
    worker, host = db.session.get(Worker, emp.worker_id), db.session.get(Organization, emp.employer_id)
    via = db.session.get(Organization, emp.via_id) if emp.via_id else None
    return {"id": emp.id, "worker_id": emp.worker_id, "employer_id": emp.employer_id, "via_id": emp.via_id,
            "site_id": emp.site_id, "role": emp.role, "starts_on": str(emp.starts_on),
            "ends_on": str(emp.ends_on) if emp.ends_on else None, "status": emp.status,
            "active": emp.status == "active" and emp.starts_on <= clock.today()
            and (emp.ends_on is None or emp.ends_on >= clock.today()),
            "worker": {"id": worker.id, "name": worker.name, "id_number_masked": worker.id_masked},
            "employer": {"id": host.id, "name": host.name},
            "via": {"id": via.id, "name": via.name, "kind": via.kind} if via else None,
            "created_at": iso(emp.created_at)}


# --- induction --------------------------------------------------------------------------------


@dataclass
class Induction:
    required_hours: float
    completed_hours: float = 0.0
    levels: dict = field(default_factory=lambda: {lvl: 0.0 for lvl in LEVELS})
    required_levels: tuple = LEVELS
    not_counted_hours: float = 0.0
    repeat: dict | None = None

    @property
    def missing_levels(self) -> list[str]:
        return [lvl for lvl in self.required_levels if self.levels.get(lvl, 0) <= 0]

    @property
    def sufficient(self) -> bool:
        repeat_ok = self.repeat is None or all(
            v["completed_hours"] >= v["required_hours"] - 1e-9 for v in self.repeat["levels"].values())
        return self.completed_hours >= self.required_hours - 1e-9 and not self.missing_levels and repeat_ok

    def as_dict(self) -> dict:
        return {"required_hours": self.required_hours, "completed_hours": self.completed_hours,
                "levels": dict(self.levels), "required_levels": list(self.required_levels),
                "not_counted_hours": self.not_counted_hours, "repeat": self.repeat}


def _repeat_since(worker_id: str, host_id: str, role: str, starts_on: date, absence_days: int):
    """(reasons, first day that counts, days away) when the workshop and team levels must be
    repeated: the role changed since the last post with this host, or the worker returns after
    more than ``absence_days`` away. None otherwise."""
    emps = db.session.scalars(select(Employment).where(
        Employment.worker_id == worker_id, Employment.employer_id == host_id)
        .order_by(Employment.starts_on, Employment.created_at)).all()
    current = next((e for e in reversed(emps) if e.role == role and e.starts_on <= starts_on
                    and (e.ends_on is None or e.ends_on >= starts_on)), None)
    start = current.starts_on if current else starts_on
    prior = [e for e in emps if e is not current and e.starts_on < start]
    if not prior:
        return None
    last = prior[-1]
    because, since, away = [], date.min, None
    if last.role != role:
        # Hours for the new post count from the day after the previous post began.
        because.append("role_change")
        since = max(since, last.starts_on + timedelta(days=1))
    if last.ends_on is not None and (start - last.ends_on).days > absence_days:
        because.append("return_after_absence")
        since, away = max(since, last.ends_on + timedelta(days=1)), (start - last.ends_on).days
    return (because, since, away) if because else None


def induction_for(worker_id: str, host: Organization, role: str, starts_on: date) -> Induction:
    """The host's induction of the worker: credited hours by level (overlaps and the daily cap
    applied as for any training), what the host's industry requires (by the rules in force on
    the first day), and any repeat due."""
    cat = load_catalogue().of_day(starts_on)
    settings = cat.induction
    ind = Induction(required_hours=cat.induction_hours(host.industry or "other"),
                    required_levels=tuple(settings.get("required_levels", LEVELS)))
    records = worker_attendance(worker_id)
    pieces = credited_pieces(records)
    mine = []
    for a in records:
        if a.session.kind != "induction":
            continue
        got = sum((e - s).total_seconds() for s, e in pieces[a.id]) / 3600
        if a.session.organization_id == host.id:
            ind.levels[a.session.level] = ind.levels.get(a.session.level, 0.0) + got
            mine.append((a, got))
        else:
            ind.not_counted_hours += got
    ind.completed_hours = round(sum(ind.levels.values()), 2)
    ind.levels = {k: round(v, 2) for k, v in ind.levels.items()}
    ind.not_counted_hours = round(ind.not_counted_hours, 2)
    repeat = _repeat_since(worker_id, host.id, role, starts_on, int(settings.get("absence_days_before_repeat", 365)))
    if repeat is not None:
        because, since, away = repeat
        wanted = settings.get("repeat_hours", {})
        levels = {}
        for lvl in settings.get("repeat_levels", ("workshop", "team")):
            done = sum(got for a, got in mine if a.session.level == lvl and (a.check_in + CHINA).date() >= since)
            levels[lvl] = {"required_hours": float(wanted.get(lvl, 0)), "completed_hours": round(done, 2)}
        ind.repeat = {"because": because, "since": str(since), "days_away": away, "levels": levels}
    return ind
