"""Findings: raising one (idempotently), and keeping the certificate's counters in step.

Rules call ``raise_finding`` when their evidence arrives, in the same transaction. The same
``rule_key`` never raises a second finding, so re-running a rule over history is safe. Review,
appeals and cases build on these records; nothing here decides whether a finding is true.
"""
from __future__ import annotations

import json

from sqlalchemy import select, update

from certificates.models import Certificate
from training.db import db, utcnow

from .models import Finding, FindingParty
from .signals import finding_raised, finding_status_changed

SEVERITIES = ("low", "medium", "high", "critical")
PARTY_ROLES = ("worker", "employer", "labour_agency", "subcontractor", "training_body", "exam_centre",
               "trainer", "inspectorate")


def raise_finding(kind: str, severity: str, rule_key: str, evidence: dict, explanation: str,
                  parties: list[tuple[str, str, str]], worker_id: str | None = None,
                  certificate_serial: str | None = None) -> Finding | None:
    """Record a finding; None when one with this rule_key already exists (whatever its status)."""
    if severity not in SEVERITIES:
        raise ValueError(f"severity must be one of {SEVERITIES}")
    if db.session.scalar(select(Finding.id).where(Finding.rule_key == rule_key)) is not None:
        return None
    finding = Finding(kind=kind, severity=severity, rule_key=rule_key[:200], status="open",
                      evidence=json.dumps(evidence, ensure_ascii=False, sort_keys=True, default=str),
                      explanation=explanation, worker_id=worker_id, certificate_serial=certificate_serial)
    db.session.add(finding)
    db.session.flush()
    seen = set()
    for role, party_id, name in parties:
        if role not in PARTY_ROLES:
            raise ValueError(f"unknown party role {role!r}")
        if party_id and (role, party_id) not in seen:
            seen.add((role, party_id))
            db.session.add(FindingParty(finding_id=finding.id, role=role, party_id=party_id, name=name or ""))
    if certificate_serial:
        _bump(certificate_serial, open_=1)
    db.session.flush()
    finding_raised.send(finding)
    return finding


def set_status(finding: Finding, status: str, reason: str, by_key: str | None) -> Finding:
    """Move a finding to confirmed or dismissed (or back to open), keeping the counters right."""
    old = finding.status
    if old == status:
        return finding
    finding.status, finding.review_reason, finding.reviewed_at, finding.reviewed_by = status, reason, utcnow(), by_key
    if finding.certificate_serial:
        delta = {"open": (1, 0), "confirmed": (0, 1), "dismissed": (0, 0)}
        o_new, c_new = delta[status]
        o_old, c_old = delta[old]
        _bump(finding.certificate_serial, open_=o_new - o_old, confirmed=c_new - c_old)
    db.session.flush()
    finding_status_changed.send(finding, old=old)
    return finding


def _bump(serial: str, open_: int = 0, confirmed: int = 0) -> None:
    if open_ or confirmed:
        db.session.execute(update(Certificate).where(Certificate.serial == serial).values(
            open_findings=Certificate.open_findings + open_,
            confirmed_findings=Certificate.confirmed_findings + confirmed))
