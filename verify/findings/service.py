"""Findings: raising one (idempotently), reviewing it, withdrawing it when its evidence is voided,
and keeping the certificate's counters in step.

Rules call ``raise_finding`` when their evidence arrives, in the same transaction. The same
``rule_key`` never raises a second finding, so re-running a rule over history is safe. The
records a finding rests on (ids named in its evidence) are indexed in ``finding_records`` so a
voided record finds its findings at once. Nothing here decides whether a finding is true: rules
raise, regulators review.
"""
from __future__ import annotations

import json

from flask import current_app
from sqlalchemy import bindparam, exists, or_, select, update
from sqlalchemy.exc import IntegrityError

from certificates.models import Certificate
from training.db import audit, db, utcnow
from training.errors import Conflict
from training.web.fields import iso
from verify.findings.models import Finding, FindingParty, FindingRecord
from verify.signals import finding_raised, finding_status_changed
from verify.verification.messages import message

SEVERITIES = ("low", "medium", "high", "critical")
PARTY_ROLES = ("worker", "employer", "labour_agency", "subcontractor", "training_body", "exam_centre",
               "trainer", "inspectorate")
# Evidence keys whose ids are records a finding rests on: "attendance_ids" → "attendance:<id>".
REF_KINDS = ("attendance", "exam", "session", "scan", "inspection_check", "certificate", "employment",
             "prestart_check")
EXPLANATION_SEP = "\n\n"
WITHDRAWN = "evidence voided"
# In the session's info: the serials whose finding counters this session has changed, so that
# ``restate`` reads the counters again only when something here may have moved them.
CHANGED = "anzheng.finding_counters_changed"


def _refs(evidence: dict) -> set[str]:
    refs = set()
    for key, value in evidence.items():
        base = key[:-4] if key.endswith("_ids") else key[:-3] if key.endswith("_id") else key
        if base == "certificate_serial":
            base = "certificate"
        if base not in REF_KINDS:
            continue
        for ident in (value if isinstance(value, (list, tuple)) else [value]):
            if isinstance(ident, str) and ident:
                refs.add(f"{base}:{ident}"[:40])
    return refs


def raise_finding(kind: str, severity: str, rule_key: str, evidence: dict, explanation: str,
                  parties: list[tuple[str, str, str]], worker_id: str | None = None,
                  certificate_serial: str | None = None) -> Finding | None:
    """Record a finding; None when one with this rule_key already exists (whatever its status)."""
    if severity not in SEVERITIES:
        raise ValueError(f"severity must be one of {SEVERITIES}")
    rule_key = rule_key[:170]
    if db.session.scalar(select(Finding.id).where(Finding.rule_key == rule_key)) is not None:
        return None
    finding = Finding(kind=kind, severity=severity, rule_key=rule_key, status="open",
                      evidence=json.dumps(evidence, ensure_ascii=False, sort_keys=True, default=str),
                      explanation=explanation, worker_id=worker_id, certificate_serial=certificate_serial)
    try:
        with db.session.begin_nested():  # a concurrent raise of the same key loses quietly
            db.session.add(finding)
    except IntegrityError:
        return None
    seen = set()
    for role, party_id, name in parties:
        if role not in PARTY_ROLES:
            raise ValueError(f"unknown party role {role!r}")
        if party_id and (role, party_id) not in seen:
            seen.add((role, party_id))
            db.session.add(FindingParty(finding_id=finding.id, role=role, party_id=party_id, name=name or ""))
    for ref in _refs(evidence):
        db.session.add(FindingRecord(ref=ref, finding_id=finding.id))
    if certificate_serial:
        _bump(certificate_serial, open_=1)
    db.session.flush()
    finding_raised.send(finding)
    return finding


_DELTA = {"open": (1, 0), "confirmed": (0, 1), "dismissed": (0, 0)}


def set_status(finding: Finding, status: str, reason: str, by_key: str | None) -> Finding:
    """Move a finding to confirmed or dismissed (or back to open), keeping the counters right."""
    old = finding.status
    if old == status:
        return finding
    finding.status, finding.review_reason, finding.reviewed_at, finding.reviewed_by = status, reason, utcnow(), by_key
    if finding.certificate_serial:
        (o_new, c_new), (o_old, c_old) = _DELTA[status], _DELTA[old]
        _bump(finding.certificate_serial, open_=o_new - o_old, confirmed=c_new - c_old)
    db.session.flush()
    finding_status_changed.send(finding, old=old)
    return finding


def _bump(serial: str, open_: int = 0, confirmed: int = 0) -> None:
    if open_ or confirmed:
        db.session.info.setdefault(CHANGED, set()).add(serial)
        db.session.execute(update(Certificate).where(Certificate.serial == serial).values(
            open_findings=Certificate.open_findings + open_,
            confirmed_findings=Certificate.confirmed_findings + confirmed))


def attach_certificate(finding: Finding, serial: str) -> None:
    """Let a finding about evidence weigh on the certificate later issued on that evidence."""
    if finding.certificate_serial is None:
        finding.certificate_serial = serial
        o, c = _DELTA[finding.status]
        _bump(serial, open_=o, confirmed=c)
        db.session.flush()


def findings_resting_on(refs) -> list[Finding]:
    refs = list(refs)
    if not refs:
        return []
    return db.session.scalars(_RESTING_ON, {"refs": refs}).all()


def findings_resting_on_each(refs) -> dict[str, list[Finding]]:
    """For many refs at once: {ref: the findings resting on it}, refs with none left out; one
    read when no finding rests on any of them, two otherwise."""
    pairs = db.session.execute(_RESTING_PAIRS, {"refs": sorted(set(refs))}).all() if refs else []
    if not pairs:
        return {}
    findings = {x.id: x for x in db.session.scalars(select(Finding).where(
        Finding.id.in_(sorted({p.finding_id for p in pairs}))))}
    out: dict[str, list[Finding]] = {}
    for p in pairs:
        out.setdefault(p.ref, []).append(findings[p.finding_id])
    return out


_RESTING_PAIRS = select(FindingRecord.ref, FindingRecord.finding_id).where(
    FindingRecord.ref.in_(bindparam("refs", expanding=True))).order_by(FindingRecord.ref, FindingRecord.finding_id)
_RESTING_ON = select(Finding).where(Finding.id.in_(
    select(FindingRecord.finding_id).where(FindingRecord.ref.in_(bindparam("refs", expanding=True)))))


def withdraw_resting_on(ref: str) -> list[Finding]:
    """Dismiss the open findings resting on a voided record. Their rule keys are freed (the old
    finding keeps its own, suffixed), so the rules may raise again on what evidence remains."""
    gone = []
    for finding in findings_resting_on([ref]):
        if finding.status != "open":
            continue  # a reviewed finding stands: voiding evidence after the fact must not erase it
        set_status(finding, "dismissed", WITHDRAWN, None)
        finding.rule_key = f"{finding.rule_key[:150]}~w~{finding.id}"
        audit.record("finding.withdrawn", subject=finding.id, detail={"record": ref})
        gone.append(finding)
    db.session.flush()
    return gone


def review_finding(finding: Finding, status: str, reason: str, caller) -> Finding:
    if finding.status == status:
        raise Conflict(f"This finding is already {status}.")
    old = finding.status
    set_status(finding, status, reason, caller.key_id)
    audit.record(f"finding.{status}", actor_org=caller.org_id, actor_key=caller.key_id, subject=finding.id,
                 detail={"from": old, "reason": reason, "kind": finding.kind})
    return finding


def finding_query(kind=None, status=None, organization_id=None, worker_id=None):
    stmt = select(Finding)
    if kind:
        stmt = stmt.where(Finding.kind == kind)
    if status:
        stmt = stmt.where(Finding.status == status)
    if organization_id:
        stmt = stmt.where(exists().where(FindingParty.finding_id == Finding.id,
                                         FindingParty.party_id == organization_id))
    if worker_id:
        stmt = stmt.where(or_(Finding.worker_id == worker_id, exists().where(
            FindingParty.finding_id == Finding.id, FindingParty.role == "worker",
            FindingParty.party_id == worker_id)))
    return stmt


def parties_of(finding_ids) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {i: [] for i in finding_ids}
    if out:
        rows = db.session.execute(select(FindingParty).where(FindingParty.finding_id.in_(list(out)))
                                  .order_by(FindingParty.role, FindingParty.party_id)).scalars()
        for p in rows:
            out[p.finding_id].append({"role": p.role, "id": p.party_id, "name": p.name})
    return out


def explanation_parts(text: str | None) -> dict:
    zh, _, en = (text or "").partition(EXPLANATION_SEP)
    return {"zh": zh, "en": en or zh}


def dump_finding(finding: Finding, parties: list[dict]) -> dict:
    return {"id": finding.id, "kind": finding.kind, "status": finding.status, "severity": finding.severity,
            "created_at": iso(finding.created_at), "evidence": json.loads(finding.evidence or "{}"),
            "explanation": explanation_parts(finding.explanation), "parties": parties,
            "worker_id": finding.worker_id, "certificate_serial": finding.certificate_serial,
            "reviewed_at": iso(finding.reviewed_at), "review_reason": finding.review_reason}


def restate(outcome, lang: str) -> dict:
    """After a scan's rules ran: a valid answer becomes ``suspect`` if the scan itself (or
    anything in the same request) raised a finding against the certificate.

    A valid answer to an inspector or regulator was given on counters at zero, read from the
    primary a moment ago; unless this session changed them since, there is nothing to read again
    (and no transaction to open after the scan's own has committed). With a replica, the verdict
    may have read stale counters: then they are read again from the primary."""
    if outcome.result != "valid" or not outcome.serial:
        return {}
    cert = outcome.certificate or {}
    at_zero = cert.get("open_findings") == 0 and cert.get("confirmed_findings") == 0
    if at_zero and outcome.serial not in db.session.info.get(CHANGED, ()) \
            and not current_app.config.get("DATABASE_REPLICA_URL"):
        return {}
    row = db.session.execute(select(Certificate.open_findings, Certificate.confirmed_findings)
                             .where(Certificate.serial == outcome.serial)).first()
    if row is None or not (row[0] or row[1]):
        return {}
    code = "findings_confirmed" if row[1] else "findings_open"
    codes = (code, "signature_valid", "registry_checked")
    if outcome.certificate is not None:
        outcome.certificate.update(open_findings=row[0], confirmed_findings=row[1])
    outcome.result, outcome.reasons = "suspect", codes
    return {"result": "suspect", "reasons": [{"code": c, "message": message(c, lang)} for c in codes],
            "certificate": outcome.certificate}
