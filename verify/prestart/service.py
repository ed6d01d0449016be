"""Pre-start checks: may this worker start in this role with this host on this date? The answer
is recorded once, never edited, and signed with the regulator's list key as a receipt.

Weighs certificates (valid today and on the start date), the host's induction, open cases and
findings naming the worker: confirmed ones block, open ones only warn. Must not: hold a private
key or the signer (``certificates.receipts.sign_receipt`` signs the answer), or put a full identity
number in an answer.
"""
from __future__ import annotations

import json
from datetime import date

from marshmallow import Schema, ValidationError, fields, validate, validates_schema
from sqlalchemy import bindparam, or_, select, union
from sqlalchemy.orm import aliased, lazyload, load_only

from certificates import token as tok
from certificates.issuance.queries import effective_status
from certificates.models import Certificate, SigningKey
from certificates.receipts import sign_receipt
from training import clock
from training.catalogue import load_catalogue
from training.db import db, new_id, utcnow
from training.errors import Forbidden, Unprocessable, coded, field_error
from training.evidence.credentials import BLOCKING_STATES, current_credential
from training.parties.models import Organization, Site
from training.people.lookups import count as count_lookups, find as find_by_number, same_name
from training.people.models import Worker
from training.web.fields import IdNumber, iso
from verify.cases.models import Case, CaseFinding, CaseParty
from verify.employment.models import Employment
from verify.employment.service import (
    CONFIRMED,
    ROLE_CODES,
    Ident,
    active_on,
    counts_for,
    induction_for,
)
from verify.employment.standing import employs
from verify.findings.models import Finding, FindingParty
from verify.prestart import messages as pm
from verify.prestart.models import PrestartCheck, PrestartCheckFinding
from verify.verification.verdict import verify_document_signature


class PrestartCheckRequestSchema(Schema):
    worker_id = Ident(required=True)
    role = fields.String(required=True, validate=validate.OneOf(ROLE_CODES))
    employer_id = Ident()
    site_id = Ident(allow_none=True)
    starts_on = fields.Date()


class CrewItemSchema(PrestartCheckRequestSchema):
    """One row of a crew: the worker by id or by identity number (never echoed back), with the
    name as on the ID card for someone the caller does not employ yet."""
    worker_id = Ident()
    id_number = IdNumber()
    name = fields.String(validate=validate.Length(1, 100))

    @validates_schema(skip_on_field_errors=False)
    def _who(self, data, **_):
        if ("worker_id" in data) == ("id_number" in data):
            raise ValidationError(coded("required", "Give exactly one of worker_id and id_number."), "worker_id")


def _no_placement(message: str):
    return Unprocessable(message, [field_error("employer_id", "no_placement", message)])


def resolve_host(data: dict, caller, worker_id: str, starts_on: date):
    """(host, via, employment) for a check: the caller itself for an enterprise; for an agency or
    subcontractor, the host of its placement of the worker (422 when there is none)."""
    asked, role = data.get("employer_id"), data["role"]
    if caller.kind == "enterprise":
        if asked not in (None, caller.org_id):
            raise Forbidden("An enterprise checks hires for itself only (employer_id must be its own id).")
        host = db.session.get(Organization, caller.org_id)
        emp = db.session.scalar(select(Employment).where(
            Employment.worker_id == worker_id, Employment.employer_id == host.id, Employment.role == role,
            CONFIRMED, Employment.ends_on.is_(None) | (Employment.ends_on >= starts_on)).order_by(Employment.starts_on.desc()))
        return host, (db.session.get(Organization, emp.via_id) if emp and emp.via_id else None), emp
    stmt = select(Employment).where(
        Employment.worker_id == worker_id, counts_for(caller.org_id),
        Employment.ends_on.is_(None) | (Employment.ends_on >= starts_on))
    if asked is not None:
        stmt = stmt.where(Employment.employer_id == asked)
    placements = db.session.scalars(stmt.order_by(Employment.starts_on.desc())).all()
    fitting = [e for e in placements if e.role == role] or placements
    hosts = sorted({e.employer_id for e in fitting})
    if asked == caller.org_id and not hosts:
        hosts = [caller.org_id]  # it employs the worker itself
    if not hosts:
        raise _no_placement("This organisation has no current placement of the worker"
                            + (" with that host" if asked else "") + "; record the employment first.")
    if len(hosts) > 1:
        raise Unprocessable("The worker is placed with several hosts; say which one.", [field_error(
            "employer_id", "ambiguous", "Several hosts: " + ", ".join(hosts) + ".")])
    host = db.session.get(Organization, hosts[0])
    emp = next((e for e in fitting if e.employer_id == host.id), None)
    return host, (db.session.get(Organization, caller.org_id) if host.id != caller.org_id else None), emp


def _certificates(worker_id: str, role, today: date, starts_on: date, lang: str):
    cat = load_catalogue()
    C = Certificate
    held = db.session.scalars(select(C).options(  # not the QR images, nor the joined worker and issuer
        load_only(C.serial, C.category, C.status, C.valid_until, C.review_due, C.issued_at), lazyload("*"))
        .where(C.worker_id == worker_id, C.category.in_(role.required_categories)).order_by(C.issued_at.desc())).all()
    lines, reasons = [], []
    for code in role.required_categories:
        names = {"category_name": cat.category(code).name if lang != "en" else cat.category(code).name_en,
                 "role_name": role.name if lang != "en" else role.name_en}
        mine = [c for c in held if c.category == code]
        if not mine:
            reasons.append(_reason("missing_certificate", lang, category=code, **names))
            continue
        usable = [c for c in mine if effective_status(c, today) == "valid"]
        cert = max(usable, key=lambda c: c.valid_until) if usable else mine[0]
        status = effective_status(cert, today)
        lines.append({"serial": cert.serial, "category": code, "status": status,
                      "valid_until": str(cert.valid_until), "review_due": str(cert.review_due),
                      "review_required": cat.review_required(code, cert.review_due)})
        facts = dict(category=code, serial=cert.serial, valid_until=str(cert.valid_until),
                     review_due=str(cert.review_due), starts_on=str(starts_on), **names)
        if status != "valid":
            reasons.append(_reason(f"certificate_{status}", lang, **facts))
        elif cert.valid_until < starts_on:
            reasons.append(_reason("certificate_expires_before_start", lang, **facts))
        elif cat.review_missed(code, cert.review_due, starts_on):
            reasons.append(_reason("certificate_review_overdue", lang, **facts))
    return lines, reasons


def _licences(worker_id: str, role, today: date, lang: str):
    """The national licences recorded for the role's categories (training.evidence.credentials), as
    recorded: the state is what the recorder found on the national platform on ``checked_on``,
    which stays the authority. A suspended, revoked or expired one blocks; none recorded is
    normal (the licence is the ministry's, and this service does not hold every one)."""
    cat = load_catalogue()
    lines, reasons = [], []
    for code in role.required_categories:
        lic = current_credential(worker_id, "national_licence", code, today)
        if lic is None:
            continue
        lines.append({"category": code, "number": lic.number, "state": lic.state,
                      "checked_on": str(lic.checked_on), "authority": lic.authority})
        if lic.state in BLOCKING_STATES:
            name = cat.category(code).name if lang != "en" else cat.category(code).name_en
            reasons.append(_reason(f"national_licence_{lic.state}", lang, category=code, category_name=name,
                                   number=lic.number, checked_on=str(lic.checked_on)))
    return lines, reasons


def _reason(code: str, lang: str, **facts) -> dict:
    """{"code", "message"} plus the ids a client can act on (category, serial, case, finding)."""
    out = {"code": code, "message": pm.words(code, lang, **facts)}
    out.update({k: facts[k] for k in ("category", "serial", "case_id", "finding_id") if k in facts})
    return out


# Both lookups below are a UNION of index probes on the worker, and the status is weighed in
# Python: an OR of IN-subqueries runs on PostgreSQL as a filter over every case or finding, and
# with the status in the WHERE, SQLite without ANALYZE statistics walks the status index over
# every open case or finding in the province. Either grows with the province's data; the
# worker's own few rows do not. Built once: building and keying them anew took ~1 ms a check.
_WORKER = bindparam("worker_id")
_CASES_NAMING = (select(Case.id, Case.status).where(Case.id.in_(union(
    select(CaseParty.case_id).where(CaseParty.role == "worker", CaseParty.party_id == _WORKER),
    select(CaseFinding.case_id).join(Finding, Finding.id == CaseFinding.finding_id)
    .where(Finding.worker_id == _WORKER)))).order_by(Case.created_at))
_named = aliased(Finding, name="named")
_FINDINGS_NAMING = (select(Finding).where(Finding.id.in_(union(
    select(_named.id).where(_named.worker_id == _WORKER),
    select(FindingParty.finding_id).where(FindingParty.role == "worker", FindingParty.party_id == _WORKER),
    select(_named.id).join(Certificate, Certificate.serial == _named.certificate_serial)
    .where(Certificate.worker_id == _WORKER)))).order_by(Finding.created_at, Finding.id))


def open_cases(worker_id: str) -> list[str]:
    rows = db.session.execute(_CASES_NAMING, {"worker_id": worker_id})
    return [case_id for case_id, status in rows if status == "open"]


def findings_naming(worker_id: str, statuses=("open", "confirmed")) -> list[Finding]:
    return [f for f in db.session.scalars(_FINDINGS_NAMING, {"worker_id": worker_id}) if f.status in statuses]


def _induction_reason(ind, host: Organization, lang: str) -> dict:
    cat = load_catalogue()
    item = cat.industries.get(host.industry or "other", {})
    industry = item.get("name_en" if lang == "en" else "name", host.industry)
    parts = []
    if ind.completed_hours < ind.required_hours - 1e-9:
        parts.append(pm.words("induction_total", lang, completed=pm.hours(ind.completed_hours),
                              required=pm.hours(ind.required_hours), industry_name=industry))
    if ind.missing_levels:
        sep = "、" if lang != "en" else ", "
        parts.append(pm.words("induction_level_missing", lang,
                              levels=sep.join(pm.level_name(lvl, lang) for lvl in ind.missing_levels)))
    if ind.repeat and any(v["completed_hours"] < v["required_hours"] for v in ind.repeat["levels"].values()):
        because = [pm.words("repeat_role_change", lang) if b == "role_change"
                   else pm.words("repeat_return", lang, days=ind.repeat["days_away"]) for b in ind.repeat["because"]]
        levels = [pm.words("repeat_level", lang, level_name=pm.level_name(lvl, lang), completed=pm.hours(v["completed_hours"]),
                           required=pm.hours(v["required_hours"])) for lvl, v in ind.repeat["levels"].items()]
        sep = "，" if lang != "en" else ", "
        parts.append(pm.words("induction_repeat", lang, because=sep.join(because), levels=sep.join(levels)))
    return _reason("insufficient_induction", lang, employer_name=host.name, detail="".join(parts))


def check_hire(data: dict, caller, lang: str = "zh", presented: bool = False) -> tuple[PrestartCheck, dict]:
    """Answer, sign and record one pre-start check; 422/403 when it cannot be asked at all.

    The answer tells a worker's standing (open cases, confirmed findings, name), so it is given
    only to an organisation that employs the worker (a confirmed employment as host, or its own
    placement as the agency or subcontractor in between), or that ``presented`` the worker's
    name and identity number together (``check_item``), as one holding the ID card would."""
    worker = db.session.get(Worker, data["worker_id"])
    if worker is None:
        raise Unprocessable("Unknown worker.", [field_error("worker_id", "not_found", "No worker with this id.")])
    today = clock.today()
    starts_on = data.get("starts_on") or today
    if starts_on < today:
        raise Unprocessable("A pre-start check looks forward.", [field_error(
            "starts_on", "range", f"starts_on must be today ({today}) or later.")])
    if not presented and not employs(caller.org_id, worker.id, starts_on):
        raise _no_placement("This organisation does not employ the worker: record the employment first "
                            "(POST /api/v1/employments), or check with the worker's name and identity number "
                            "(POST /api/v1/prestart-checks/batch).")
    host, via, emp = resolve_host(data, caller, worker.id, starts_on)
    site_id = data.get("site_id")
    if site_id is not None:
        site = db.session.get(Site, site_id)
        if site is None or site.enterprise_id not in (None, host.id, caller.org_id):
            raise Unprocessable("Unknown site.", [field_error("site_id", "not_found", "No site with this id belongs to the host.")])
    role = load_catalogue().roles[data["role"]]
    certificates, reasons = _certificates(worker.id, role, today, starts_on, lang)
    licences, blocked = _licences(worker.id, role, today, lang)
    reasons += blocked
    ind = induction_for(worker.id, host, role.code, starts_on)
    if not ind.sufficient:
        reasons.append(_induction_reason(ind, host, lang))
    reasons += [_reason("open_case", lang, case_id=c) for c in open_cases(worker.id)]
    found = findings_naming(worker.id)
    confirmed = [f for f in found if f.status == "confirmed"]
    reasons += [_reason("confirmed_finding", lang, finding_id=f.id, kind_name=pm.kind_name(f.kind, lang)) for f in confirmed]
    warnings = [_reason("under_review", lang, finding_id=f.id, kind_name=pm.kind_name(f.kind, lang))
                for f in found if f.status == "open"]
    if ind.not_counted_hours > 0:
        warnings.append(_reason("other_induction_not_counted", lang, employer_name=host.name,
                                hours=pm.hours(ind.not_counted_hours)))
    now = utcnow()
    body = {"id": new_id(), "checked_at": iso(now), "cleared": not reasons, "reasons": reasons, "warnings": warnings,
            "worker_id": worker.id, "worker": {"id": worker.id, "name": worker.name, "id_number_masked": worker.id_masked},
            "role": role.code, "role_name": role.name if lang != "en" else role.name_en,
            "employer_id": host.id, "employer": {"id": host.id, "name": host.name, "industry": host.industry},
            "via": {"id": via.id, "name": via.name, "kind": via.kind} if via else None,
            "employment_id": emp.id if emp else None, "site_id": site_id, "starts_on": str(starts_on),
            "requested_by": {"organization_id": caller.org_id, "organization_name": caller.org_name,
                             "key_id": caller.key_id, "holder_name": caller.holder_name},
            "required_categories": list(role.required_categories), "certificates": certificates,
            "licences": licences,
            "induction": ind.as_dict(), "lang": lang}
    body = sign_receipt(body)
    inputs = {k: str(v) if isinstance(v, date) else v for k, v in data.items()}
    check = PrestartCheck(id=body["id"], worker_id=worker.id, role=role.code, employer_id=host.id,
                          via_id=via.id if via else None, site_id=site_id, starts_on=starts_on, cleared=not reasons,
                          organization_id=caller.org_id, key_id=caller.key_id, checked_at=now,
                          inputs=json.dumps(inputs, ensure_ascii=False, sort_keys=True),
                          answer=json.dumps(body, ensure_ascii=False), kid=body["signature"]["kid"],
                          signature=body["signature"]["value"])
    db.session.add(check)
    db.session.flush()
    db.session.add_all([PrestartCheckFinding(check_id=check.id, finding_id=f.id,
                                             effect="blocking" if f.status == "confirmed" else "warning") for f in found])
    db.session.flush()
    return check, body


def visible_checks(caller):
    """Checks the caller ran, and checks others ran with the caller as the host."""
    return select(PrestartCheck).where(or_(PrestartCheck.organization_id == caller.org_id,
                                           PrestartCheck.employer_id == caller.org_id))


def answer_of(check: PrestartCheck) -> dict:
    return json.loads(check.answer)


def check_receipt(doc: dict, lang: str = "zh") -> dict:
    """Is this receipt signed by a list key of ours, and is it the very answer we recorded?"""
    sig = doc.get("signature")
    try:
        kid = tok.b64url_decode(sig.get("kid")) if isinstance(sig, dict) else None
    except ValueError:
        kid = None
    key = db.session.get(SigningKey, kid) if kid and len(kid) == 8 else None
    record = db.session.get(PrestartCheck, doc["id"]) if isinstance(doc.get("id"), str) and len(doc["id"]) <= 16 else None
    recorded = record is not None and answer_of(record) == doc
    signed = key is not None and key.purpose == "lists" and verify_document_signature(doc, bytes(key.public_key))
    if key is None or key.purpose != "lists":
        code = "receipt_unknown_key"
    elif not signed:
        code = "receipt_bad_signature"
    elif not recorded:
        code = "receipt_not_recorded"
    elif key.status == "compromised" and record.checked_at >= key.compromised_at:
        code = "receipt_compromised_key"
    else:
        code = "receipt_valid"
    return {"valid": code == "receipt_valid", "signature_valid": signed, "recorded": recorded,
            "reasons": [{"code": code, "message": pm.words(code, lang)}],
            "check": {"id": record.id, "checked_at": iso(record.checked_at), "cleared": record.cleared}
            if recorded else None,
            "signed_by": {"organization_id": key.organization_id, "kid": sig["kid"]} if signed else None}


def active_placements(worker_id: str, day: date | None = None) -> list[Employment]:
    return list(db.session.scalars(select(Employment).where(
        Employment.worker_id == worker_id, active_on(day or clock.today()))))


NO_MATCH = ("No worker you employ has this identity number, and no registered worker has it with this name.",
            "Give the name as on the ID card, or register the worker first (POST /api/v1/workers).")


def check_item(item: dict, caller, protector, lang: str = "zh") -> tuple[PrestartCheck, dict]:
    """One crew row or batch item: the worker named by id or by identity number. By number, the
    worker is found for the caller when it employs them or the name given is theirs; otherwise
    the answer is the one for a number nobody holds (no oracle). Lookups are counted beforehand
    (``count_lookups``), by ``check_crew`` or the caller."""
    data = CrewItemSchema().load(item)
    presented = False
    if "id_number" in data:
        worker = find_worker(data, protector, caller)
        if worker is None:
            raise Unprocessable(NO_MATCH[0], [field_error("id_number", "not_registered", NO_MATCH[1])])
        data["worker_id"] = worker.id
        presented = same_name(data.get("name"), worker.name)
    data.pop("id_number", None)
    data.pop("name", None)
    return check_hire(data, caller, lang, presented=presented)


def find_worker(data: dict, protector, caller=None) -> Worker | None:
    """The worker a crew row names, by worker_id or by identity number (``training.people.lookups``:
    found when the caller employs them or gave their name). ``caller`` None: the operator."""
    if data.get("id_number"):
        day = data.get("starts_on") or clock.today()
        return find_by_number(Worker, data["id_number"], caller, protector, name=data.get("name"),
                              standing=lambda w: caller is None or employs(caller.org_id, w.id, day))
    return db.session.get(Worker, data["worker_id"]) if data.get("worker_id") else None


def check_crew(items: list, defaults: dict, caller, protector, lang: str = "zh") -> dict:
    """Check a crew: each item stands alone (own savepoint); results in order, then a summary."""
    from training.web.batch import run_batch
    answers: dict[str, dict] = {}
    count_lookups([i.get("id_number") for i in items if isinstance(i, dict) and isinstance(i.get("id_number"), str)],
                  caller, protector)

    def one(item):
        merged = {**{k: v for k, v in defaults.items() if v is not None},
                  **{k: v for k, v in item.items() if v not in (None, "")}}
        check, body = check_item(merged, caller, protector, lang)
        answers[check.id] = body
        return check.id, 200

    out = run_batch(items, one)
    for result in out["items"]:
        body = answers.get(result.get("id"))
        if body is not None:
            result.update(cleared=body["cleared"], reasons=[r["code"] for r in body["reasons"]],
                          warnings=[w["code"] for w in body["warnings"]], worker_id=body["worker_id"],
                          id_number_masked=body["worker"]["id_number_masked"], name=body["worker"]["name"])
    done = [r for r in out["items"] if r["status"] == 200]
    out["summary"] = {"total": len(out["items"]), "cleared": sum(1 for r in done if r["cleared"]),
                      "not_cleared": sum(1 for r in done if not r["cleared"]),
                      "refused": len(out["items"]) - len(done)}
    return out
