"""On-site inspections: each person checked (by card, by identity number, or both) against the
certificates the task needs, a verdict per check, the findings it raises (``no_certificate_on_duty``,
``holder_mismatch``), and the PDF record with the officers' names and badge numbers.

Every card checked is also a scan (so clones and fake cards are caught by the scan rules). Must
not: keep or print a full identity number (a keyed hash finds the worker, the masked form is
shown); decide a card's verdict itself (verify/verification/service.py does).
"""
from __future__ import annotations

import io
import json
import re
from datetime import timedelta

from flask import current_app
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen.canvas import Canvas
from sqlalchemy import select

from certificates.models import Certificate
from training import clock
from training.catalogue import load_catalogue
from training.db import audit, db, utcnow
from training.errors import Unprocessable, field_error
from training.parties.models import Organization, Site
from training.people.identity import mask_id_number
from training.people.lookups import count as count_lookups
from training.people.models import Worker
from training.web.fields import iso
from verify.findings.service import restate
from verify.inspections.models import Inspection, InspectionCheck
from verify.rules import common as R
from verify.rules.queries import ATT, A
from verify.rules.training import check_sighting
from verify.verification.scans import record_scan
from verify.verification.service import verify_text

WORDS = {
    "missing_certificate": ("缺少该作业要求的有效证书", "No valid certificate the task requires"),
    "holder_mismatch": ("人证不符：出示证书的人不是持证人", "The person is not the certificate's holder"),
    "card_not_valid": ("所出示的证书不是有效证书", "The card shown is not a valid certificate"),
    "card_suspect": ("所出示的证书有待审核的疑点", "Findings under review stand against the card shown"),
    "person_not_registered": ("该身份证号在系统中没有登记", "No worker is registered under this identity number"),
}
FINE = ("valid", "suspect")


def _employment_parties(worker_id: str, day) -> list:
    """Employer and agency/subcontractor of the worker's placements on that day (issue 5's table)."""
    try:
        from verify.employment.models import Employment
    except ImportError:
        return []
    rows = db.session.execute(select(Employment.employer_id, Employment.via_id, Employment.status).where(
        Employment.worker_id == worker_id, Employment.starts_on <= day,
        (Employment.ends_on.is_(None)) | (Employment.ends_on >= day))).all()
    # A host that has not confirmed the placement is not named: an agency alone cannot make it a party.
    return [R.org_party(org, "employer" if i == 0 else None) for *e, status in rows for i, org in enumerate(e)
            if org and (i == 1 or status == "active")]


def _valid_certificates(worker_id: str, categories) -> dict:
    today, catalogue = clock.today(), load_catalogue()
    found = {}
    for c in db.session.scalars(select(Certificate).where(Certificate.worker_id == worker_id,
                                                          Certificate.category.in_(list(categories)))):
        good = (c.status == "valid" and c.valid_until >= today and not catalogue.review_missed(c.category, c.review_due, today)
                and not c.confirmed_findings)
        if good or c.category not in found:
            found[c.category] = {"serial": c.serial, "category": c.category, "valid": good,
                                 "status": c.status if c.valid_until >= today else "expired",
                                 "valid_until": str(c.valid_until)}
    return found


def _check(insp: Inspection, seq: int, data: dict, caller, site: Site) -> InspectionCheck:
    role = load_catalogue().roles[data["task_role"]]
    check = InspectionCheck(inspection_id=insp.id, seq=seq, task_role=role.code, at=insp.started_at, verdict="",
                            holder_matches=None if data.get("holder_matches") is None else int(data["holder_matches"]))
    outcome, reasons, mismatch = None, [], data.get("holder_matches") is False
    if data.get("qr_text"):
        outcome = verify_text(data["qr_text"], current_app.extensions["key_table"], "inspectorate")
        scan = record_scan(outcome, caller, {"site_id": site.id, "scanned_at": insp.started_at})
        restate(outcome, "zh")
        check.scan_id, check.serial, check.card_result = scan.id, outcome.serial, outcome.result
    card_worker = outcome.worker_id if outcome is not None else None
    person = None
    if data.get("id_number"):
        check.id_hash = current_app.extensions["identity"].lookup_hash(data["id_number"])
        check.id_masked = mask_id_number(data["id_number"])
        person = db.session.scalar(select(Worker).where(Worker.id_hash == check.id_hash))
        if person is None:
            reasons.append("person_not_registered")
        mismatch = mismatch or (card_worker is not None and (person is None or person.id != card_worker))
    on_duty = person.id if person else (card_worker if not mismatch and not data.get("id_number") else None)
    check.worker_id = on_duty
    db.session.add(check)
    db.session.flush()
    held = _valid_certificates(on_duty, role.required_categories) if on_duty else {}
    missing = [c for c in role.required_categories if not held.get(c, {}).get("valid")]
    if outcome is not None and outcome.result not in FINE:
        reasons.append("card_not_valid")
    elif outcome is not None and outcome.result == "suspect":
        reasons.append("card_suspect")
    raised = _findings(check, insp, site, role, missing, mismatch, outcome, card_worker, on_duty)
    if on_duty:
        for row in db.session.execute(ATT.where(A.worker_id == on_duty, A.check_in <= insp.started_at,
                                                A.check_out >= insp.started_at)):
            check_sighting(row, "inspection_check", check.id, insp.started_at, None, None, site.id)
    if outcome is not None:
        restate(outcome, "zh")
        check.card_result = outcome.result
    reasons = (["missing_certificate"] if missing else []) + (["holder_mismatch"] if mismatch else []) + reasons
    check.verdict = "not_cleared" if missing or mismatch else "cleared"
    check.reasons = " ".join(reasons)
    check.detail = json.dumps({"required_categories": list(role.required_categories), "missing": missing,
                               "certificates": list(held.values()),
                               "findings": [{"id": f.id, "kind": f.kind} for f in raised if f]}, ensure_ascii=False)
    return check


def _findings(check, insp, site, role, missing, mismatch, outcome, card_worker, on_duty) -> list:
    cat = load_catalogue()
    employer = R.org_party(site.enterprise_id)
    raised = []
    base = {"inspection_check_ids": [check.id], "inspection_id": insp.id, "site_id": site.id,
            "scan_ids": [check.scan_id] if check.scan_id else [], "task_role": role.code,
            "id_number_masked": check.id_masked}
    if missing:
        names = [cat.category(c) for c in missing]
        raised.append(R.fire(
            "no_certificate_on_duty", check.id, {**base, "missing_categories": missing},
            R.parties(R.worker_party(on_duty), employer, *(_employment_parties(on_duty, clock.today()) if on_duty else [])),
            worker_id=on_duty, missing="、".join(n.name for n in names), role_name=role.name, role_name_en=role.name_en))
    if mismatch:
        serial = outcome.serial if outcome is not None and outcome.worker_id else None
        detail = (("所报身份证号与证书持证人不一致", "the identity number given is not the holder's")
                  if card_worker and check.id_masked else ("执法人员核对证件时确认人证不符", "the inspector compared the cards"))
        raised.append(R.fire(
            "holder_mismatch", check.id, {**base, "certificate_serial": serial},
            R.parties(R.worker_party(card_worker), R.worker_party(on_duty), employer),
            worker_id=card_worker or on_duty, certificate_serial=serial, detail_zh=detail[0], detail_en=detail[1]))
    return raised


def record_inspection(data: dict, caller) -> Inspection:
    # The people checked by number count against the inspectorate's (larger) lookup limit.
    count_lookups([c["id_number"] for c in data["checks"] if c.get("id_number")], caller,
                  current_app.extensions["identity"])
    site = db.session.get(Site, data["site_id"])
    if site is None:
        raise Unprocessable("Unknown site.", [field_error("site_id", "not_found", "No site with this id.")])
    if data["started_at"] > utcnow() + timedelta(minutes=10):
        raise Unprocessable("The inspection cannot start in the future.",
                            [field_error("started_at", "range", "started_at is in the future.")])
    insp = Inspection(organization_id=caller.org_id, key_id=caller.key_id, officer_name=caller.holder_name,
                      officer_badge=caller.holder_badge, site_id=site.id, started_at=data["started_at"],
                      officers=json.dumps(data.get("officers") or [], ensure_ascii=False))
    db.session.add(insp)
    db.session.flush()
    checks = [_check(insp, i, c, caller, site) for i, c in enumerate(data["checks"])]
    db.session.flush()
    audit.record("inspection.recorded", actor_org=caller.org_id, actor_key=caller.key_id, subject=insp.id,
                 detail={"site_id": site.id, "checks": len(checks),
                         "not_cleared": sum(c.verdict != "cleared" for c in checks)})
    return insp


def dump_inspection(insp: Inspection, lang: str = "zh") -> dict:
    site = db.session.get(Site, insp.site_id)
    org = db.session.get(Organization, insp.organization_id)
    checks = db.session.scalars(select(InspectionCheck).where(InspectionCheck.inspection_id == insp.id)
                                .order_by(InspectionCheck.seq)).all()
    officers = [{"name": insp.officer_name, "badge": insp.officer_badge}] + json.loads(insp.officers or "[]")
    items = [_dump_check(c, lang) for c in checks]
    return {"id": insp.id, "organization": {"id": org.id, "name": org.name},
            "site": {"id": site.id, "name": site.name}, "started_at": iso(insp.started_at),
            "created_at": iso(insp.created_at), "officers": officers, "checks": items,
            "summary": {"checked": len(items), "cleared": sum(i["verdict"] == "cleared" for i in items),
                        "not_cleared": sum(i["verdict"] != "cleared" for i in items)},
            "pdf_url": f"/api/v1/inspections/{insp.id}.pdf"}


def _dump_check(c: InspectionCheck, lang: str) -> dict:
    detail = json.loads(c.detail or "{}")
    worker = db.session.get(Worker, c.worker_id) if c.worker_id else None
    pick = 1 if lang == "en" else 0
    return {"index": c.seq, "task_role": c.task_role, "verdict": c.verdict,
            "reasons": [{"code": r, "message": WORDS[r][pick]} for r in c.reasons.split()],
            "card_result": c.card_result, "serial": c.serial, "holder_matches": None if c.holder_matches is None
            else bool(c.holder_matches), "id_number_masked": c.id_masked or (worker.id_masked if worker else None),
            "worker": {"id": worker.id, "name": worker.name, "id_number_masked": worker.id_masked} if worker else None,
            "required_categories": detail.get("required_categories", []), "missing_categories": detail.get("missing", []),
            "certificates": detail.get("certificates", []), "findings": detail.get("findings", [])}


# --- the PDF record ---------------------------------------------------------------------------------

pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
_CJK = "STSong-Light"
_MASKED = re.compile(r"[0-9A-Za-z]{0,6}\*{4,}[0-9A-Za-z]{0,4}")
VERDICT_WORDS = {"cleared": "合格 Cleared", "not_cleared": "不合格 Not cleared"}


def render_pdf(doc: dict) -> bytes:
    buf = io.BytesIO()
    c = Canvas(buf, pagesize=A4, pageCompression=1)
    c.setTitle(f"现场检查记录 {doc['id']}")
    width, height = A4
    y = _header(c, doc, width, height)
    for item in doc["checks"]:
        if y < 40 * mm:
            c.showPage()
            y = height - 20 * mm
        y = _row(c, item, y)
    _footer(c, doc)
    c.save()
    return buf.getvalue()


def _text(c: Canvas, x, y, text: str, size=10):
    c.setFont(_CJK, size)
    c.drawString(x, y, text)


def _header(c, doc, width, height) -> float:
    _text(c, 20 * mm, height - 22 * mm, "现场执法检查记录  On-site inspection record", 16)
    y = height - 32 * mm
    lines = [f"记录编号 Record: {doc['id']}", f"检查单位 Inspectorate: {doc['organization']['name']}",
             f"检查地点 Site: {doc['site']['name']}", f"开始时间 Started: {_local(doc['started_at'])}（北京时间）",
             "执法人员 Officers: " + "；".join(f"{o.get('name') or '-'}（证号 {o.get('badge') or '-'}）"
                                              for o in doc["officers"]),
             f"检查人数 Checked: {doc['summary']['checked']}  合格 Cleared: {doc['summary']['cleared']}  "
             f"不合格 Not cleared: {doc['summary']['not_cleared']}"]
    for line in lines:
        _text(c, 20 * mm, y, line)
        y -= 6.5 * mm
    c.line(20 * mm, y + 2 * mm, width - 20 * mm, y + 2 * mm)
    return y - 4 * mm


def _row(c, item, y) -> float:
    masked = item["id_number_masked"] or "-"
    if masked != "-" and not _MASKED.fullmatch(masked):
        raise ValueError("only masked identity numbers are printed")
    who = item["worker"]["name"] if item["worker"] else "未登记 unregistered"
    _text(c, 20 * mm, y, f"{item['index'] + 1}. {who}  {masked}  岗位 Role: {item['task_role']}", 10.5)
    y -= 5.5 * mm
    _text(c, 26 * mm, y, f"结论 Verdict: {VERDICT_WORDS[item['verdict']]}    证书 Card: {item['serial'] or '-'}"
                         f"（{item['card_result'] or '未出示 none shown'}）", 9.5)
    for reason in item["reasons"]:
        y -= 5 * mm
        _text(c, 26 * mm, y, f"· {reason['message']}", 9)
    if item["findings"]:
        y -= 5 * mm
        _text(c, 26 * mm, y, "已立疑点 Findings raised: " + ", ".join(f["kind"] for f in item["findings"]), 9)
    return y - 8 * mm


def _footer(c, doc):
    _text(c, 20 * mm, 28 * mm, "执法人员签名 Officers' signatures: ______________________    "
                               "被检查单位签名 Site representative: ______________________", 9.5)
    _text(c, 20 * mm, 16 * mm, "身份证号仅显示前6位和后4位。Identity numbers show only the first 6 and last 4 "
                               "characters.", 8)


def _local(stamp: str) -> str:
    return clock.text(stamp)
