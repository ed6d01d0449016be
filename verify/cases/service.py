"""Cases: a regulator bundles confirmed findings so that the worker, the employing unit, the agency
or subcontractor in between, the training body and the exam centre answer together. Parties are
resolved when the case opens (from the findings and the worker's employments that day); each is
heard (a statement, a refusal, or no answer by the deadline) before the case is confirmed; a
confirmed case of fake training or fake exams revokes the certificates resting on that evidence.
Also: revoking in one action every certificate a body issued in a period, with a report.

Must not: confirm a case before every party was heard; revoke a certificate except through
``certificates.status.change_status`` (which keeps the events and the audit trail).
"""
from __future__ import annotations

import json
from datetime import datetime, timedelta

from blinker import Namespace
from flask import current_app
from sqlalchemy import select

from certificates.models import Certificate
from certificates.status import change_status
from training import clock
from training.clock import CHINA
from training.db import audit, db, utcnow
from training.errors import Conflict, Forbidden, NotFound, Unprocessable, field_error
from training.evidence.models import Attendance, Exam
from training.parties.models import Organization
from training.web.fields import iso
from verify.cases.models import BulkRevocation, Case, CaseFinding, CaseParty, CaseRevocation, CaseStatement
from verify.findings.models import Finding, FindingParty, FindingRecord
from verify.rules import common as R

_signals = Namespace()
case_opened = _signals.signal("case-opened")    # sender: Case (parties are its CaseParty rows)
case_decided = _signals.signal("case-decided")  # sender: Case, revoked=[serials]
CASE_ROLES = ("worker", "employer", "labour_agency", "subcontractor", "training_body", "exam_centre")


def get_case(case_id) -> Case:
    case = db.session.get(Case, case_id) if isinstance(case_id, str) and len(case_id) <= 16 else None
    if case is None:
        raise NotFound("No such case.")
    return case


def _employment_parties(worker_id: str) -> list:
    try:
        from verify.employment.models import Employment
    except ImportError:  # employments arrive with the pre-start checks
        return []
    today = clock.today()
    out = []
    for employer_id, via_id, status in db.session.execute(select(
            Employment.employer_id, Employment.via_id, Employment.status).where(
            Employment.worker_id == worker_id, Employment.starts_on <= today,
            (Employment.ends_on.is_(None)) | (Employment.ends_on >= today))):
        # A host that has not confirmed the placement is no party: the agency alone named it.
        out += [R.org_party(employer_id, "employer") if status == "active" else None,
                R.org_party(via_id) if via_id else None]
    return [p for p in out if p and p[0] in CASE_ROLES]


def resolve_parties(findings) -> list[tuple[str, str, str]]:
    found = []
    for p in db.session.scalars(select(FindingParty).where(FindingParty.finding_id.in_([f.id for f in findings]))):
        if p.role in CASE_ROLES:
            found.append((p.role, p.party_id, p.name))
    for worker_id in sorted({p[1] for p in found if p[0] == "worker"} | {f.worker_id for f in findings if f.worker_id}):
        found += [R.worker_party(worker_id)] + _employment_parties(worker_id)
    for serial in {f.certificate_serial for f in findings if f.certificate_serial}:
        found.append(R.org_party(db.session.get(Certificate, serial).issuer_id, "training_body"))
    unique = {}
    for p in found:
        if p:
            unique.setdefault((p[0], p[1]), p)
    return sorted(unique.values())


def open_case(finding_ids: list[str], caller) -> Case:
    ids = list(dict.fromkeys(finding_ids))
    findings = db.session.scalars(select(Finding).where(Finding.id.in_(ids))).all()
    errors = [field_error("finding_ids", "not_found", f"No finding {i}.") for i in ids
              if i not in {f.id for f in findings}]
    errors += [field_error("finding_ids", "not_confirmed", f"Finding {f.id} is {f.status}; a case is opened "
                           "from confirmed findings.") for f in findings if f.status != "confirmed"]
    busy = db.session.scalars(select(CaseFinding.finding_id).join(Case, Case.id == CaseFinding.case_id)
                              .where(CaseFinding.finding_id.in_(ids), Case.status == "open")).all()
    errors += [field_error("finding_ids", "already_in_case", f"Finding {i} is in an open case.") for i in busy]
    if errors:
        raise Unprocessable("These findings cannot open a case.", errors)
    case = Case(opened_by=caller.key_id or caller.org_id, status="open")
    db.session.add(case)
    db.session.flush()
    db.session.add_all([CaseFinding(case_id=case.id, finding_id=f.id) for f in findings])
    db.session.add_all([CaseParty(case_id=case.id, role=r, party_id=i, name=n or "") for r, i, n in resolve_parties(findings)])
    db.session.flush()
    audit.record("case.opened", actor_org=caller.org_id, actor_key=caller.key_id, subject=case.id,
                 detail={"findings": [f.id for f in findings]})
    case_opened.send(case)
    return case


def add_statement(case: Case, data: dict, caller) -> CaseStatement:
    if case.status != "open":
        raise Conflict(f"The case is {case.status}; statements are heard while it is open.")
    party_id = data.get("party_id") or (caller.org_id if caller.kind != "regulator" else None)
    party = db.session.scalar(select(CaseParty).where(CaseParty.case_id == case.id, CaseParty.party_id == party_id).limit(1))
    if caller.kind != "regulator" and (party is None or party_id != caller.org_id):
        raise NotFound("No such case names your organisation.")
    if party is None:
        raise Unprocessable("Not a party to this case.", [field_error("party_id", "not_a_party", "Not a party to this case.")])
    kind = data.get("kind", "statement")
    if kind == "no_response":
        days = current_app.extensions["findings_rules"]["cases"]["hearing_days"]
        if caller.kind != "regulator" or utcnow() < case.created_at + timedelta(days=days):
            raise Unprocessable("Too early.", [field_error("kind", "hearing_open",
                                f"'no_response' is recorded by a regulator after {days} days.")])
    statement = CaseStatement(case_id=case.id, party_role=party.role, party_id=party.party_id, kind=kind,
                              text=data["text"], recorded_by_org=caller.org_id, recorded_by_key=caller.key_id)
    db.session.add(statement)
    db.session.flush()
    audit.record("case.statement", actor_org=caller.org_id, actor_key=caller.key_id, subject=case.id,
                 detail={"party_id": party.party_id, "kind": kind})
    return statement


def unheard(case: Case) -> list[CaseParty]:
    heard = set(db.session.scalars(select(CaseStatement.party_id).where(CaseStatement.case_id == case.id)))
    return [p for p in case_parties(case) if p.party_id not in heard]


def case_parties(case: Case) -> list[CaseParty]:
    return db.session.scalars(select(CaseParty).where(CaseParty.case_id == case.id)
                              .order_by(CaseParty.role, CaseParty.party_id)).all()


def case_findings(case: Case) -> list[Finding]:
    return db.session.scalars(select(Finding).join(CaseFinding, CaseFinding.finding_id == Finding.id)
                              .where(CaseFinding.case_id == case.id).order_by(Finding.created_at)).all()


def certificates_resting_on(finding: Finding) -> set[str]:
    """Serials of certificates whose issuance rested on the records this finding names."""
    serials = {finding.certificate_serial} if finding.certificate_serial else set()
    refs = db.session.scalars(select(FindingRecord.ref).where(FindingRecord.finding_id == finding.id)).all()
    records = []  # (worker, category, record id)
    for ref in refs:
        kind, ident = ref.split(":", 1)
        if kind == "attendance":
            a = db.session.get(Attendance, ident)
            records += [(a.worker_id, a.session.category, a.id)] if a else []
        elif kind == "exam":
            e = db.session.get(Exam, ident)
            records += [(e.worker_id, e.category, e.id)] if e else []
        elif kind == "session":
            records += [(a.worker_id, a.session.category, a.id) for a in db.session.scalars(
                select(Attendance).where(Attendance.session_id == ident))]
    for worker_id, category, record_id in records:
        for serial, snapshot in db.session.execute(select(Certificate.serial, Certificate.evidence).where(
                Certificate.worker_id == worker_id, Certificate.category == category)):
            if record_id in R.snapshot_ids(snapshot):
                serials.add(serial)
    return serials


def decide_case(case: Case, status: str, reason: str, caller) -> list[str]:
    if case.status != "open":
        raise Conflict(f"The case is already {case.status}.")
    if status == "confirmed":
        waiting = unheard(case)
        if waiting:
            raise Unprocessable("Every party must be heard before the case is confirmed.", [
                field_error("parties", "not_heard", f"{p.role} {p.name} ({p.party_id}) has not been heard.")
                for p in waiting])
    case.status, case.decided_at, case.decision_reason = status, utcnow(), reason
    revoked = []
    if status == "confirmed":
        serials = set()
        for f in case_findings(case):
            if f.kind in R.FAKE_TRAINING + R.FAKE_EXAMS:
                serials |= certificates_resting_on(f)
        for serial in sorted(serials):
            cert = db.session.get(Certificate, serial)
            if cert.status in ("valid", "suspended"):
                change_status(cert, "revoke", f"case {case.id}: {reason}", caller)
                db.session.add(CaseRevocation(case_id=case.id, serial=serial))
                revoked.append(serial)
    db.session.flush()
    audit.record(f"case.{status}", actor_org=caller.org_id, actor_key=caller.key_id, subject=case.id,
                 detail={"reason": reason, "revoked": revoked})
    case_decided.send(case, revoked=revoked)
    return revoked


def case_revoked(case: Case) -> list[str]:
    return db.session.scalars(select(CaseRevocation.serial).where(CaseRevocation.case_id == case.id)
                              .order_by(CaseRevocation.serial)).all()


def dump_case(case: Case, full: bool = True) -> dict:
    out = {"id": case.id, "status": case.status, "created_at": iso(case.created_at),
           "decided_at": iso(case.decided_at), "decision_reason": case.decision_reason,
           "parties": [{"role": p.role, "id": p.party_id, "name": p.name} for p in case_parties(case)],
           "finding_ids": [f.id for f in case_findings(case)]}
    if full:
        statements = db.session.scalars(select(CaseStatement).where(CaseStatement.case_id == case.id)
                                        .order_by(CaseStatement.created_at)).all()
        out["statements"] = [{"id": s.id, "party_role": s.party_role, "party_id": s.party_id, "kind": s.kind,
                              "text": s.text, "created_at": iso(s.created_at)} for s in statements]
        out["unheard"] = [p.party_id for p in unheard(case)] if case.status == "open" else []
        out["revoked"] = case_revoked(case)
    return out


# --- revoking everything a body issued in a period ----------------------------------------------------

def revoke_issued(data: dict, caller, progress=None) -> BulkRevocation:
    body = db.session.get(Organization, data["issuer_id"])
    if body is None or body.kind != "training_body":
        raise Unprocessable("No such training body.", [field_error("issuer_id", "not_found", "No training body with this id.")])
    if caller.kind != "regulator":
        raise Forbidden("Only a regulator revokes a body's certificates in bulk.")
    start = datetime.combine(data["issued_from"], datetime.min.time()) - CHINA
    end = datetime.combine(data["issued_until"], datetime.min.time()) + timedelta(days=1) - CHINA
    certs = db.session.scalars(select(Certificate).where(Certificate.issuer_id == body.id, Certificate.issued_at >= start,
                                                         Certificate.issued_at < end).order_by(Certificate.issued_at)).all()
    revoked, skipped = [], []
    for cert in certs:
        if cert.status in ("valid", "suspended"):
            change_status(cert, "revoke", f"bulk revocation: {data['reason']}", caller)
            revoked.append(cert.serial)
        else:
            skipped.append({"serial": cert.serial, "status": cert.status})
        if progress:
            progress(1)
    batch = BulkRevocation(issuer_id=body.id, issued_from=data["issued_from"], issued_until=data["issued_until"],
                           reason=data["reason"], case_id=data.get("case_id"), by_org=caller.org_id, by_key=caller.key_id,
                           report=json.dumps({"revoked": revoked, "skipped": skipped}))
    db.session.add(batch)
    db.session.flush()
    audit.record("certificates.bulk_revoked", actor_org=caller.org_id, actor_key=caller.key_id, subject=batch.id,
                 detail={"issuer_id": body.id, "from": str(data["issued_from"]), "until": str(data["issued_until"]),
                         "revoked": len(revoked), "skipped": len(skipped)})
    return batch


def dump_revocation(batch: BulkRevocation) -> dict:
    report = json.loads(batch.report)
    body = db.session.get(Organization, batch.issuer_id)
    return {"id": batch.id, "issuer": {"id": body.id, "name": body.name}, "issued_from": str(batch.issued_from),
            "issued_until": str(batch.issued_until), "reason": batch.reason, "case_id": batch.case_id,
            "created_at": batch.created_at.isoformat() + "+00:00", "revoked_count": len(report["revoked"]),
            "skipped_count": len(report["skipped"]), **report}
