"""Figures for the regulator: the ranking of training bodies and exam centres by confirmed
findings per hundred certificates (per hundred passed exams for a centre), findings over time,
by kind, and the review queue. Read-only aggregates; nothing here names a worker beyond an id.
"""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import case, func, select

from certificates.models import Certificate
from training.db import db, utcnow
from training.evidence.models import Exam
from training.parties.models import Organization
from verify.findings.models import Finding, FindingParty

SEVERITY_ORDER = case({"critical": 0, "high": 1, "medium": 2, "low": 3}, value=Finding.severity, else_=4)


def _findings_by_party(status: str) -> dict[str, int]:
    rows = db.session.execute(select(FindingParty.party_id, func.count(func.distinct(FindingParty.finding_id)))
                              .join(Finding, Finding.id == FindingParty.finding_id)
                              .where(Finding.status == status, FindingParty.role.in_(("training_body", "exam_centre")))
                              .group_by(FindingParty.party_id))
    return dict(rows.all())


def ranking(kind: str | None = None) -> list[dict]:
    kinds = (kind,) if kind else ("training_body", "exam_centre")
    orgs = db.session.execute(select(Organization.id, Organization.name, Organization.kind)
                              .where(Organization.kind.in_(kinds))).all()
    issued = dict(db.session.execute(select(Certificate.issuer_id, func.count()).group_by(Certificate.issuer_id)).all())
    passed = dict(db.session.execute(select(Exam.exam_centre_id, func.count()).where(
        Exam.passed.is_(True), Exam.voided_at.is_(None)).group_by(Exam.exam_centre_id)).all())
    confirmed, open_ = _findings_by_party("confirmed"), _findings_by_party("open")
    items = []
    for org_id, name, org_kind in orgs:
        base = issued.get(org_id, 0) if org_kind == "training_body" else passed.get(org_id, 0)
        n = confirmed.get(org_id, 0)
        items.append({"organization": {"role": org_kind, "id": org_id, "name": name},
                      "basis": "certificates" if org_kind == "training_body" else "passed_exams",
                      "certificates": base, "confirmed_findings": n, "open_findings": open_.get(org_id, 0),
                      "per_hundred": round(100.0 * n / max(base, 1), 2)})
    items.sort(key=lambda i: (-i["per_hundred"], -i["confirmed_findings"], i["organization"]["name"]))
    return items


def totals() -> dict:
    counts = dict(db.session.execute(select(Finding.status, func.count()).group_by(Finding.status)).all())
    return {s: counts.get(s, 0) for s in ("open", "confirmed", "dismissed")}


def by_kind() -> list[tuple[str, int, int]]:
    """(kind, open, confirmed) for every kind with findings, most first."""
    rows = db.session.execute(select(Finding.kind, Finding.status, func.count()).group_by(Finding.kind, Finding.status))
    acc: dict[str, list[int]] = {}
    for kind, status, n in rows:
        slot = acc.setdefault(kind, [0, 0])
        if status in ("open", "confirmed"):
            slot[0 if status == "open" else 1] += n
    return sorted(((k, o, c) for k, (o, c) in acc.items() if o or c), key=lambda t: (-(t[1] + t[2]), t[0]))


def over_time(weeks: int = 12) -> list[tuple[str, int, int]]:
    """(week starting, raised, confirmed) for the last ``weeks`` weeks, oldest first."""
    now = utcnow()
    start = (now - timedelta(days=now.weekday())).replace(hour=0, minute=0, second=0, microsecond=0) \
        - timedelta(weeks=weeks - 1)
    rows = db.session.execute(select(Finding.created_at, Finding.status).where(Finding.created_at >= start))
    bins = [[0, 0] for _ in range(weeks)]
    for created, status in rows:
        i = min(weeks - 1, (created - start).days // 7)
        bins[i][0] += 1
        bins[i][1] += status == "confirmed"
    return [((start + timedelta(weeks=i)).strftime("%m-%d"), r, c) for i, (r, c) in enumerate(bins)]


def queue(limit: int = 25) -> list[Finding]:
    return db.session.scalars(select(Finding).where(Finding.status == "open")
                              .order_by(SEVERITY_ORDER, Finding.created_at.desc()).limit(limit)).all()
