"""Appeals: a party named in a finding, or the worker (proving who they are with a certificate
serial and their full identity number, checked against the keyed hash), explains; a regulator
upholds or rejects. Upholding dismisses the finding, which restores every verdict it changed
(the certificate's counters) and tells the layers that listen (notices to employers).

Must not: store, log or echo the identity number a worker types (only its keyed hash is
compared); tell a failed worker which part of their proof was wrong; edit a decided appeal.
"""
from __future__ import annotations

import time

from flask import current_app
from sqlalchemy import exists, select

from certificates.models import Certificate
from certificates.token import parse_serial, serial_text
from training.db import audit, db, utcnow
from training.errors import Conflict, Forbidden, NotFound, TooManyRequests
from training.people.models import Worker
from training.web.fields import iso
from verify.cases.models import Appeal
from verify.findings.models import Finding, FindingParty
from verify.findings.service import set_status
from verify.web import ratelimit

DEFAULT_WORKER_LIMIT = "10/hour"


def _finding(finding_id) -> Finding | None:
    return db.session.get(Finding, finding_id) if isinstance(finding_id, str) and len(finding_id) <= 16 else None


def _pending(finding_id: str, **by) -> None:
    stmt = select(Appeal.id).where(Appeal.finding_id == finding_id, Appeal.status == "pending")
    for column, value in by.items():
        stmt = stmt.where(getattr(Appeal, column) == value)
    if db.session.scalar(stmt.limit(1)):
        raise Conflict("An appeal against this finding is already waiting for a decision.")


def lodge_party_appeal(data: dict, caller) -> Appeal:
    finding = _finding(data["finding_id"])
    role = finding and db.session.scalar(select(FindingParty.role).where(
        FindingParty.finding_id == finding.id, FindingParty.party_id == caller.org_id).limit(1))
    if not role:
        raise NotFound("No finding with this id names your organisation.")
    _pending(finding.id, by_org=caller.org_id)
    appeal = Appeal(finding_id=finding.id, by_role=role, by_org=caller.org_id, by_key=caller.key_id,
                    explanation=data["explanation"])
    db.session.add(appeal)
    db.session.flush()
    audit.record("appeal.lodged", actor_org=caller.org_id, actor_key=caller.key_id, subject=appeal.id,
                 detail={"finding_id": finding.id, "by_role": role})
    return appeal


def _worker_limit():
    rule = current_app.extensions["findings_rules"].get("appeals", {}).get("worker_failures", DEFAULT_WORKER_LIMIT)
    return ratelimit.parse(rule)


def _blocked(bucket: str, limit) -> int | None:
    if limit is None:
        return None
    allowed, period = limit
    window = int(time.time() // period)
    count = ratelimit.shared_count(db.session.connection(), bucket, limit)
    return max(1, int((window + 1) * period - time.time() + 0.999)) if count >= allowed else None


def lodge_worker_appeal(data: dict, client: str) -> Appeal:
    """The worker's own appeal, without a key. Failed proofs are counted per client and refused
    alike, whatever was wrong, so the form cannot be used to test identity numbers."""
    bucket, limit = f"appeal:{client}", _worker_limit()
    # Per certificate as well: many addresses trying numbers against one card's serial share it.
    raw = parse_serial(data["serial"]) if len(data["serial"]) <= 40 else None
    buckets = [bucket] + ([f"appeal-serial:{serial_text(raw)}"] if raw else [])
    wait = max((w for w in (_blocked(b, limit) for b in buckets) if w), default=None)
    if wait:
        raise TooManyRequests("Too many failed attempts from this client or for this certificate; try again later.",
                              headers={"Retry-After": str(wait)})
    finding, worker = _finding(data["finding_id"]), _proven_worker(data)
    names = worker is not None and finding is not None and (finding.worker_id == worker.id or db.session.scalar(
        select(exists().where(FindingParty.finding_id == finding.id, FindingParty.role == "worker",
                              FindingParty.party_id == worker.id))))
    if not names:
        db.session.rollback()  # release the session before counting on a connection of its own
        for b in buckets:
            ratelimit.hit(b, limit)
        raise Forbidden("The certificate serial and identity number do not match a finding about this worker.")
    _pending(finding.id, by_worker=worker.id)
    appeal = Appeal(finding_id=finding.id, by_role="worker", by_worker=worker.id, explanation=data["explanation"])
    db.session.add(appeal)
    db.session.flush()
    audit.record("appeal.lodged", subject=appeal.id, detail={"finding_id": finding.id, "by_role": "worker"})
    return appeal


def _proven_worker(data: dict) -> Worker | None:
    raw = parse_serial(data["serial"]) if len(data["serial"]) <= 40 else None
    cert = db.session.get(Certificate, serial_text(raw)) if raw else None
    if cert is None:
        current_app.extensions["identity"].lookup_hash(data["id_number"])  # same work either way
        return None
    worker = db.session.get(Worker, cert.worker_id)
    return worker if current_app.extensions["identity"].matches(data["id_number"], worker.id_hash) else None


def decide_appeal(appeal: Appeal, decision: str, reason: str, caller) -> Appeal:
    if appeal.status != "pending":
        raise Conflict(f"This appeal was already {appeal.status}.")
    appeal.status, appeal.decided_at, appeal.decided_by, appeal.decision_reason = decision, utcnow(), caller.key_id, reason
    finding = db.session.get(Finding, appeal.finding_id)
    if decision == "upheld" and finding.status != "dismissed":
        set_status(finding, "dismissed", f"appeal {appeal.id} upheld: {reason}", caller.key_id)
    db.session.flush()
    audit.record(f"appeal.{decision}", actor_org=caller.org_id, actor_key=caller.key_id, subject=appeal.id,
                 detail={"finding_id": appeal.finding_id, "reason": reason})
    return appeal


def appeal_query(status=None, finding_id=None):
    stmt = select(Appeal)
    if status:
        stmt = stmt.where(Appeal.status == status)
    if finding_id:
        stmt = stmt.where(Appeal.finding_id == finding_id)
    return stmt


def dump_appeal(appeal: Appeal, full: bool = True) -> dict:
    out = {"id": appeal.id, "finding_id": appeal.finding_id, "status": appeal.status,
           "created_at": iso(appeal.created_at)}
    if full:
        finding = db.session.get(Finding, appeal.finding_id)
        by_id = appeal.by_worker or appeal.by_org
        name = db.session.scalar(select(FindingParty.name).where(
            FindingParty.finding_id == appeal.finding_id, FindingParty.party_id == by_id).limit(1))
        out.update(by={"role": appeal.by_role, "id": by_id, "name": name}, explanation=appeal.explanation,
                   finding={"kind": finding.kind, "status": finding.status}, decided_at=iso(appeal.decided_at),
                   decision_reason=appeal.decision_reason)
    return out


def get_appeal(appeal_id) -> Appeal:
    appeal = db.session.get(Appeal, appeal_id) if isinstance(appeal_id, str) and len(appeal_id) <= 16 else None
    if appeal is None:
        raise NotFound("No such appeal.")
    return appeal
