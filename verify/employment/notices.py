"""Notices to employers: a placed worker's certificate revoked, suspended or reinstated, a finding
naming them confirmed, and a finding behind a negative pre-start answer dismissed.

Receivers of the certificates and findings signals run in the sender's transaction, so a notice
exists exactly when the change it reports does. Must not: notice anyone but the host and the
agency or subcontractor of a current placement (or the organisation that ran the check), or
put a full identity number in a notice.
"""
from __future__ import annotations

from datetime import date

from sqlalchemy import select

from certificates.models import Certificate
from certificates.signals import certificate_status_changed
from training import clock
from training.catalogue import load_catalogue
from training.db import db, utcnow
from training.errors import NotFound
from training.people.models import Worker
from training.web.fields import iso
from verify.employment.models import Employment, Notice
from verify.findings.models import FindingParty
from verify.prestart import messages as pm
from verify.prestart.models import PrestartCheck, PrestartCheckFinding
from verify.signals import finding_status_changed

CERTIFICATE_EVENTS = {"revoke": "certificate_revoked", "suspend": "certificate_suspended",
                      "reinstate": "certificate_reinstated"}


def _send(recipients, kind: str, worker: Worker | None, **refs_and_words) -> list[Notice]:
    """One notice per distinct recipient, worded in both languages."""
    refs = {k: refs_and_words.pop(k, None) for k in ("serial", "finding_id", "check_id", "employment_id")}
    facts = {"worker_name": worker.name if worker else "", "id_masked": worker.id_masked if worker else "",
             **refs_and_words, **{k: v for k, v in refs.items() if v is not None}}
    made, seen = [], set()
    for org_id, employment_id in recipients:
        if not org_id or org_id in seen:
            continue
        seen.add(org_id)
        made.append(Notice(organization_id=org_id, kind=kind, text=pm.words(f"notice_{kind}", "zh", **facts),
                           text_en=pm.words(f"notice_{kind}", "en", **facts), worker_id=worker.id if worker else None,
                           serial=refs["serial"], finding_id=refs["finding_id"], check_id=refs["check_id"],
                           employment_id=employment_id or refs["employment_id"]))
    db.session.add_all(made)
    db.session.flush()
    return made


def _placements(worker_id: str, day: date | None = None):
    """(organisation, employment id) for the host and the one in between of each placement not yet
    ended (one starting next week included: that host is about to rely on the certificate)."""
    day, out = day or clock.today(), []
    for emp in db.session.scalars(select(Employment).where(
            Employment.worker_id == worker_id, Employment.ends_on.is_(None) | (Employment.ends_on >= day))):
        # A host hears of the worker only once it confirmed the placement (an agency alone
        # cannot make an enterprise the recipient of a stranger's notices).
        out += [(emp.employer_id if emp.status == "active" else None, emp.id), (emp.via_id, emp.id)]
    return out


def on_certificate_status(cert, event: str = "", **_):
    kind = CERTIFICATE_EVENTS.get(event)
    if kind is None:
        return
    category = load_catalogue().category(cert.category)
    _send(_placements(cert.worker_id), kind, db.session.get(Worker, cert.worker_id), serial=cert.serial,
          category_name=category.name if category else cert.category)


def on_finding_status(finding, old: str = "", **_):
    if finding.status == "confirmed":
        for worker_id in _named_workers(finding):
            _send(_placements(worker_id), "finding_confirmed", db.session.get(Worker, worker_id),
                  finding_id=finding.id, kind_name=pm.kind_name(finding.kind))
    elif finding.status == "dismissed":
        checks = db.session.scalars(select(PrestartCheck).join(
            PrestartCheckFinding, PrestartCheckFinding.check_id == PrestartCheck.id).where(
            PrestartCheckFinding.finding_id == finding.id, PrestartCheckFinding.effect == "blocking",
            PrestartCheck.cleared.is_(False)).order_by(PrestartCheck.checked_at)).all()
        told = set()
        for check in checks:
            if check.organization_id in told:
                continue
            told.add(check.organization_id)
            _send([(check.organization_id, None)], "finding_dismissed", db.session.get(Worker, check.worker_id),
                  finding_id=finding.id, check_id=check.id, kind_name=pm.kind_name(finding.kind),
                  checked_on=str(clock.today(check.checked_at)))


def _named_workers(finding) -> list[str]:
    ids = {finding.worker_id} if finding.worker_id else set()
    ids |= set(db.session.scalars(select(FindingParty.party_id).where(
        FindingParty.finding_id == finding.id, FindingParty.role == "worker")))
    if finding.certificate_serial:
        cert = db.session.get(Certificate, finding.certificate_serial)
        if cert is not None:
            ids.add(cert.worker_id)
    return sorted(ids)


CASE_WORDS = {
    "case_opened": ("监管部门已立案（案件编号 {case}），贵单位是当事方之一。案件确认前，请通过接口或控制台提交陈述。",
                    "A regulator has opened case {case} naming your organisation. Please state your case "
                    "(API or console) before it is decided."),
    "case_decided": ("案件 {case} 已作出决定：{status}。{revoked}",
                     "Case {case} has been decided: {status}. {revoked}"),
}


def on_case(case, revoked=None, **_):
    """Tell every organisation named in a case when it opens (so it can be heard) and when decided."""
    from verify.cases.models import CaseParty
    kind = "case_opened" if revoked is None else "case_decided"
    zh, en = CASE_WORDS[kind]
    done_zh = f"已撤销证书 {len(revoked)} 张。" if revoked else ""
    done_en = f"{len(revoked)} certificate(s) revoked." if revoked else ""
    parties = db.session.query(CaseParty).filter(CaseParty.case_id == case.id, CaseParty.role != "worker").all()
    seen = set()
    for party in parties:
        if party.party_id in seen:
            continue
        seen.add(party.party_id)
        db.session.add(Notice(organization_id=party.party_id, kind=kind,
                              text=zh.format(case=case.id, status=case.status, revoked=done_zh),
                              text_en=en.format(case=case.id, status=case.status, revoked=done_en)))
    db.session.flush()


def connect() -> None:
    """Subscribe to the lower layer's signals (blinker ignores a second connect)."""
    from verify.cases.service import case_decided, case_opened
    certificate_status_changed.connect(on_certificate_status, weak=False)
    finding_status_changed.connect(on_finding_status, weak=False)
    case_opened.connect(on_case, weak=False)
    case_decided.connect(on_case, weak=False)


def own_notices(caller, unread_only: bool = False):
    stmt = select(Notice).where(Notice.organization_id == caller.org_id)
    return stmt.where(Notice.read_at.is_(None)) if unread_only else stmt


def mark_read(notice_id: str, caller) -> Notice:
    notice = db.session.get(Notice, notice_id) if isinstance(notice_id, str) and len(notice_id) <= 16 else None
    if notice is None or notice.organization_id != caller.org_id:
        raise NotFound("No notice with this id.")
    if notice.read_at is None:
        notice.read_at = utcnow()
        db.session.flush()
    return notice


def notice_dict(n: Notice, lang: str = "zh") -> dict:
    return {"id": n.id, "kind": n.kind, "text": n.text_en if lang == "en" else n.text, "worker_id": n.worker_id,
            "serial": n.serial, "finding_id": n.finding_id, "check_id": n.check_id,
            "employment_id": n.employment_id, "created_at": iso(n.created_at), "read_at": iso(n.read_at),
            "read": n.read_at is not None}
