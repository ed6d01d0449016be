"""Rules on certificates themselves: a jump in a body's issuance volume, and certificates whose
training and exam evidence no longer holds (an exam voided, hours gone, an import with nothing
behind it). Also links findings about evidence to the certificate later issued on it.

Must not: change a certificate's status (only a regulator's decision does, in cases.py).
"""
from __future__ import annotations

import json
from datetime import datetime, timedelta

from sqlalchemy import bindparam, select

from certificates.models import Certificate
from certificates.signals import Issued
from training import clock
from training.catalogue import load_catalogue
from training.db import db
from training.evidence.hours import credited_pieces
from training.evidence.models import Credential, Exam
from verify.findings.service import attach_certificate, findings_resting_on_each
from verify.rules import common as R
from verify.rules.queries import ATT, A


def spike_counts(issuer_id: str, issued_at: datetime) -> dict:
    return {f"iss:{issuer_id}:{clock.day(issued_at)}": 1}


def evaluate_spike(issuer_id: str, day, source=None) -> None:
    c = R.cfg("issuance_spike")
    days = [day - timedelta(days=i) for i in range(7 * (c["baseline_weeks"] + 1))]
    counts = R.read_counters([f"iss:{issuer_id}:{d}" for d in days], source)
    per_day = [counts[f"iss:{issuer_id}:{d}"] for d in days]
    weeks = [sum(per_day[7 * w:7 * w + 7]) for w in range(c["baseline_weeks"] + 1)]
    current, busiest = weeks[0], max(weeks[1:])
    if sum(1 for n in weeks[1:] if n) < c.get("min_active_weeks", 0):
        return  # a body just starting has no usual volume to jump from
    if current >= max(c["min_count"], c["ratio"] * busiest):
        year, week, _ = day.isocalendar()
        R.fire("issuance_spike", f"{issuer_id}:{year}-W{week:02d}",
               {"organization_id": issuer_id, "day": str(day), "current": current, "busiest": busiest,
                "weekly": weeks}, R.parties(R.org_party(issuer_id)))


def evidence_problems(snapshot: str | None, category: str, rows, exams) -> tuple[list[str], float]:
    """What no longer holds of the evidence a certificate was issued on (rows and exams: the
    worker's non-void attendance and exams, or just those the snapshot names)."""
    snap = json.loads(snapshot or "{}")
    wanted = set(snap.get("attendance_ids") or [])
    mine = [r for r in rows if r.id in wanted]
    pieces = credited_pieces(mine)
    hours = sum((e - s).total_seconds() for p in pieces.values() for s, e in p) / 3600
    problems = []
    # What issuance required (the snapshot says; older snapshots: the catalogue's figure), unless
    # a skill certificate stood for the hours and still stands (not voided since).
    if hours + 1e-6 < _required(snap, category) and not _waiver_stands(snap.get("waived_by")):
        problems.append("insufficient_hours")
    if not any(e.id == snap.get("exam_id") and e.passed for e in exams):
        problems.append("no_passed_exam")
    return problems, round(hours, 2)


def _required(snap: dict, category: str) -> float:
    required = snap.get("required_hours")
    return float(required) if required is not None else float(load_catalogue().category(category).initial_hours)


def _waiver_stands(credential_id: str | None) -> bool:
    if not credential_id:
        return False
    return db.session.scalar(select(Credential.id).where(Credential.id == credential_id,
                                                         Credential.voided_at.is_(None))) is not None


def check_certificate(serial, worker_id, category, issuer_id, snapshot, rows, exams) -> None:
    problems, hours = evidence_problems(snapshot, category, rows, exams)
    if problems:
        R.fire("certificate_without_evidence", serial,
               {"certificate_serial": serial, "problems": ", ".join(problems), "credited_hours": hours,
                "required_hours": _required(json.loads(snapshot or "{}"), category)},
               R.parties(R.worker_party(worker_id), R.org_party(issuer_id)), worker_id=worker_id,
               certificate_serial=serial)


_E = Exam.__table__.c
# Built once: run on every issuance, building and keying them anew cost more than the queries.
_SNAPSHOT_ATTENDANCE = ATT.where(A.id.in_(bindparam("ids", expanding=True)))
_SNAPSHOT_EXAM = select(_E.id, _E.passed).where(_E.id == bindparam("exam_id"), _E.voided_at.is_(None))


def _snapshot_records(snapshot):
    snap = json.loads(snapshot or "{}")
    rows = db.session.execute(_SNAPSHOT_ATTENDANCE, {"ids": snap.get("attendance_ids") or []}).all()
    exams = db.session.execute(_SNAPSHOT_EXAM, {"exam_id": snap.get("exam_id") or ""}).all()
    return rows, exams


def on_certificate(cert, evidence=None, **_):
    """``evidence``: (attendance rows, exam rows) issuance weighed in this transaction (the
    worker's non-void attendance and exams of the category); read from the snapshot otherwise.
    One certificate is a batch of one: ``on_certificates``."""
    on_certificates(cert.issuer_id, certificates=[Issued(
        cert.serial, cert.worker_id, cert.category, cert.issuer_id, cert.issued_at, cert.evidence,
        evidence if evidence is not None else _snapshot_records(cert.evidence))])


def on_certificates(_issuer, certificates=(), **_):
    """The rules on certificates just issued in one transaction (``certificates_issued``): a
    finding about their evidence joins the first of them resting on it, the issuance counter
    counts them all (even with the spike rule off: the baseline stays whole), the spike is
    weighed once per body and day, and each one's evidence is checked against the rows it was
    issued on. One read for the findings (a second to load them, when there are any), one
    counter update."""
    refs = [R.snapshot_refs(c.evidence) for c in certificates]
    resting = findings_resting_on_each(set().union(*refs))
    for c, mine in zip(certificates, refs):  # in order: a finding joins the first certificate on it
        found = {f.id: f for ref in sorted(mine & resting.keys()) for f in resting[ref]}
        for finding in sorted(found.values(), key=lambda x: x.id):
            if finding.worker_id == c.worker_id and finding.status != "dismissed":
                attach_certificate(finding, c.serial)
    counts: dict[str, int] = {}
    for c in certificates:
        for key, n in spike_counts(c.issuer_id, c.issued_at).items():
            counts[key] = counts.get(key, 0) + n
    R.bump(counts)
    if R.enabled("issuance_spike"):  # off, nothing to evaluate: fire would drop it anyway
        for issuer_id, day in sorted({(c.issuer_id, clock.day(c.issued_at)) for c in certificates}):
            evaluate_spike(issuer_id, day)
    for c in certificates:
        check_certificate(c.serial, c.worker_id, c.category, c.issuer_id, c.evidence, *c.evidence_rows)


def recheck_certificates(worker_id: str, record_id: str) -> None:
    for c in db.session.execute(select(Certificate.serial, Certificate.category, Certificate.issuer_id,
                                       Certificate.evidence).where(Certificate.worker_id == worker_id)):
        if record_id in R.snapshot_ids(c.evidence):
            check_certificate(c.serial, worker_id, c.category, c.issuer_id, c.evidence,
                              *_snapshot_records(c.evidence))
