"""On site: an inspector's scan at a site finds a worker employed there (or with the site's
enterprise) in a role whose certificates they lack, or who started before any cleared pre-start
check: ``unqualified_on_duty`` against the worker, the host and the agency or subcontractor.

Runs on ``scan_recorded`` in the scan's transaction. Must not: decide the scanned certificate's
verdict (verify/verification/service.py does), or raise a second finding for the same placement on one day.
"""
from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import or_, select

from certificates.models import Certificate
from certificates.status import review_in_order
from training import clock
from training.catalogue import load_catalogue
from training.db import db
from training.parties.models import Organization, Site
from training.people.models import Worker
from training.web.fields import iso
from verify.employment.models import Employment
from verify.employment.service import active_on
from verify.findings.service import EXPLANATION_SEP, raise_finding
from verify.prestart.models import PrestartCheck
from verify.signals import scan_recorded

VIA_ROLES = {"labour_agency": "labour_agency", "subcontractor": "subcontractor"}


def _holds(worker_id: str, category: str, day: date) -> bool:
    """A certificate of the category that is valid on the day (and not overdue for review)."""
    return db.session.scalar(select(Certificate.serial).where(
        Certificate.worker_id == worker_id, Certificate.category == category, Certificate.status == "valid",
        Certificate.valid_until >= day, review_in_order(Certificate.__table__, day)).limit(1)) is not None


def _first_cleared(emp: Employment) -> PrestartCheck | None:
    return db.session.scalar(select(PrestartCheck).where(
        PrestartCheck.worker_id == emp.worker_id, PrestartCheck.employer_id == emp.employer_id,
        PrestartCheck.role == emp.role, PrestartCheck.cleared.is_(True))
        .order_by(PrestartCheck.checked_at).limit(1))


def placements_at(worker_id: str, site: Site, day: date) -> list[Employment]:
    where = [Employment.site_id == site.id]
    if site.enterprise_id:
        where += [Employment.employer_id == site.enterprise_id, Employment.via_id == site.enterprise_id]
    return list(db.session.scalars(select(Employment).where(
        Employment.worker_id == worker_id, active_on(day), or_(*where)).order_by(Employment.starts_on)))


def weigh_placement(emp: Employment, day: date) -> dict:
    """What is wrong with this placement on the day: missing categories, no timely cleared check."""
    role = load_catalogue().roles.get(emp.role)
    missing = [c for c in (role.required_categories if role else ()) if not _holds(emp.worker_id, c, day)]
    cleared = _first_cleared(emp)
    problems = {}
    if missing:
        problems["missing_categories"] = missing
    if cleared is None:
        problems["no_cleared_check"] = True
    elif clock.today(cleared.checked_at) > emp.starts_on:
        problems["started_before_cleared_check"] = {"checked_at": iso(cleared.checked_at),
                                                    "starts_on": str(emp.starts_on)}
        problems["prestart_check_id"] = cleared.id
    return problems


def on_scan(scan, outcome=None, **_):
    worker_id = getattr(outcome, "worker_id", None)
    if scan.site_id is None or worker_id is None:
        return
    site = db.session.get(Site, scan.site_id)
    when = scan.received_at  # the server's time for online scans; a synced offline scan's own time
    if scan.offline and scan.scanned_at is not None:
        when = scan.scanned_at - timedelta(seconds=scan.clock_offset_s or 0)
    day = clock.today(when)
    for emp in placements_at(worker_id, site, day):
        problems = weigh_placement(emp, day)
        if problems:
            _raise(scan, emp, site, day, problems)


def _raise(scan, emp: Employment, site: Site, day: date, problems: dict) -> None:
    worker = db.session.get(Worker, emp.worker_id)
    host = db.session.get(Organization, emp.employer_id)
    via = db.session.get(Organization, emp.via_id) if emp.via_id else None
    parties = [("worker", worker.id, worker.name), ("employer", host.id, host.name)]
    if via is not None:
        parties.append((VIA_ROLES.get(via.kind, "labour_agency"), via.id, via.name))
    evidence = {"scan_id": scan.id, "site_id": site.id, "scanned_serial": scan.serial, "scan_result": scan.result,
                "employment_id": emp.id, "role": emp.role, "starts_on": str(emp.starts_on), "day": str(day),
                **problems}
    zh, en = [], []
    if "missing_categories" in problems:
        zh.append("缺少有效的" + "、".join(problems["missing_categories"]) + "证书")
        en.append("lacks a valid certificate for " + ", ".join(problems["missing_categories"]))
    if "no_cleared_check" in problems:
        zh.append("该岗位没有通过的上岗前核查")
        en.append("has no cleared pre-start check for this placement")
    if "started_before_cleared_check" in problems:
        zh.append("在上岗前核查通过之前就已上岗")
        en.append("started before the first cleared pre-start check")
    explanation = (f"执法人员在{site.name}核验时发现该人员以{emp.role}岗位在岗，但" + "；".join(zh) + "。"
                   + EXPLANATION_SEP + f"Scanned on duty at {site.name} as {emp.role}, but the worker "
                   + "; ".join(en) + ".")
    raise_finding("unqualified_on_duty", "high", f"unqualified_on_duty:{emp.id}:{day}", evidence, explanation,
                  parties, worker_id=worker.id)


def connect() -> None:
    scan_recorded.connect(on_scan, weak=False)
