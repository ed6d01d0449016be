"""The worker's own page (public, no account): look up one's certificates by a certificate's
serial and one's full identity number, see their status and any confirmed finding, and appeal.

The identity number is proven against the keyed lookup hash and never shown back: pages carry
the masked form, the number is asked for again (not echoed into a hidden field) when an appeal is
lodged, and a failed lookup reads the same whether the serial or the number was wrong. Lookups
are limited per client (``RATE_LIMIT_WORKER``, default 10 a minute) and per certificate
(``RATE_LIMIT_WORKER_SERIAL``, default 10 an hour, from any address) across every process.

Must not: show open findings (only confirmed ones are the public's business), or another
person's data; log or put in a URL the identity number (the form POSTs it).
"""
from __future__ import annotations

from flask import current_app, render_template, request
from sqlalchemy import or_, select

from certificates import token as tok
from certificates.models import Certificate
from training.accounts.words import say
from training.catalogue import load_catalogue
from training.clock import CHINA
from training.db import db, utcnow
from training.errors import ApiError
from training.people.identity import IdentityError, normalize_id_number
from training.web.i18n import t
from verify.findings.models import Finding, FindingParty
from verify.web import ratelimit
from verify.worker import bp

FALLBACK_KINDS = {"training_overlap": ("培训时间重叠", "Overlapping training"),
                  "exam_before_training": ("未完成培训学时即参加考试", "Exam before training"),
                  "identical_answers": ("答卷雷同", "Identical answers"),
                  "certificate_clone": ("证书被克隆", "Cloned certificate"),
                  "holder_mismatch": ("人证不符", "Holder mismatch"),
                  "no_certificate_on_duty": ("无证上岗", "Working without a certificate")}


def finding_kind(kind: str) -> str:
    try:
        from verify.prestart.messages import FINDING_KINDS as kinds
    except ImportError:  # pragma: no cover  (the wording table lives with the pre-start checks)
        kinds = FALLBACK_KINDS
    pair = kinds.get(kind) or FALLBACK_KINDS.get(kind)
    return t(*pair) if pair else kind


def _status(cert: Certificate) -> str:
    if cert.status != "valid":
        return cert.status
    return "expired" if cert.valid_until < (utcnow() + CHINA).date() else "valid"


def _limited() -> int | None:
    """Count this attempt per client address and per certificate (whatever address it comes
    from: a card's serial is printed on it, and many addresses must not share out the thousand
    numbers its masked form allows); the seconds to wait when over either limit."""
    limit = ratelimit.parse(current_app.config.get("RATE_LIMIT_WORKER", "10/minute"))
    per_card = ratelimit.parse(current_app.config.get("RATE_LIMIT_WORKER_SERIAL", "10/hour"))
    db.session.rollback()  # release the session before counting on a connection of its own
    waits = [ratelimit.hit(f"worker:{request.remote_addr}", limit)]
    raw = tok.parse_serial(request.form.get("serial", "")[:64])
    if raw:
        waits.append(ratelimit.hit(f"worker-serial:{tok.serial_text(raw)}", per_card))
    return max((w for w in waits if w), default=None)


def prove(serial_text: str, id_text: str) -> Certificate | None:
    """The certificate if the serial exists and the identity number is its holder's; else None."""
    raw = tok.parse_serial(serial_text)
    try:
        number = normalize_id_number(id_text)
    except IdentityError:
        return None
    cert = db.session.get(Certificate, tok.serial_text(raw)) if raw else None
    protector = current_app.extensions["identity"]
    # Hash even when the serial is unknown, so the time taken does not tell which part was wrong.
    matches = protector.matches(number, cert.worker.id_hash if cert else "0" * 64)
    return cert if cert is not None and matches else None


def _page(status: int = 200, **kw):
    kw.setdefault("serial", "")
    return render_template("worker_lookup.html", **kw), status


@bp.get("/worker")
def lookup_form():
    return _page()


def _standing(cert: Certificate) -> dict:
    worker = cert.worker
    certs = db.session.scalars(select(Certificate).where(Certificate.worker_id == worker.id)
                               .order_by(Certificate.issued_at.desc())).all()
    named = select(FindingParty.finding_id).where(FindingParty.role == "worker", FindingParty.party_id == worker.id)
    findings = db.session.scalars(select(Finding).where(
        or_(Finding.worker_id == worker.id, Finding.id.in_(named)), Finding.status == "confirmed")
        .order_by(Finding.created_at.desc())).all()
    cat = load_catalogue()
    from verify.cases.models import Appeal
    pending = set(db.session.scalars(select(Appeal.finding_id).where(
        Appeal.by_worker == worker.id, Appeal.status == "pending", Appeal.finding_id.in_([x.id for x in findings]))))
    return {"worker": worker, "serial": cert.serial, "findings": findings, "finding_kind": finding_kind, "pending": pending,
            "certs": [{"c": c, "status": _status(c), "category": t(cat.category(c.category).name,
                                                                    cat.category(c.category).name_en),
                       "review_required": cat.review_required(c.category, c.review_due)}
                      for c in certs]}


@bp.post("/worker")
def lookup():
    wait = _limited()
    if wait:
        return _page(429, error=t(f"查询次数过多，请 {wait} 秒后再试。", f"Too many lookups; try again in {wait} seconds."))
    serial = request.form.get("serial", "")[:64]
    cert = prove(serial, request.form.get("id_number", ""))
    if cert is None:
        return _page(404, serial=serial, error=t(
            "没有找到与这个证书编号和身份证号相符的证书。请核对证卡上的证书编号和您的身份证号。",
            "No certificate matches this serial and identity number. Check the serial on the card and your identity number."))
    return render_template("worker_result.html", **_standing(cert), appealed=None, error=None)


@bp.post("/worker/appeal")
def appeal():
    wait = _limited()
    if wait:
        return _page(429, error=t(f"操作次数过多，请 {wait} 秒后再试。", f"Too many attempts; try again in {wait} seconds."))
    serial, number = request.form.get("serial", "")[:64], request.form.get("id_number", "")
    cert = prove(serial, number)
    if cert is None:
        return _page(404, serial=serial, error=t("身份核对不符，申诉未提交。请重新查询后再申诉。",
                                                  "Your identity could not be confirmed; nothing was lodged. Look up again first."))
    finding = db.session.get(Finding, request.form.get("finding_id", "")[:16])
    explanation = request.form.get("explanation", "").strip()
    standing = _standing(cert)
    if finding is None or finding not in standing["findings"]:
        return render_template("worker_result.html", **standing, appealed=None, error=say("not_found")), 404
    if not 10 <= len(explanation) <= 4000:
        return render_template("worker_result.html", **standing, appealed=None, error=t(
            "请用至少10个字说明情况（最多4000字）。", "Explain in at least 10 characters (4000 at most).")), 422
    try:
        lodged = _lodge(serial, number, finding, explanation)
    except ApiError as err:
        db.session.rollback()
        said = {409: t("这条线索已有一份您的申诉在等待答复，请耐心等待。", "An appeal of yours against this finding is already waiting for an answer."),
                429: t("尝试次数过多，请稍后再试。", "Too many attempts; try again later.")}.get(
            err.status, t("申诉未能提交，请核对后重试。", "The appeal could not be lodged; check and try again."))
        return render_template("worker_result.html", **standing, appealed=None, error=said), err.status
    return render_template("worker_result.html", **_standing(cert), appealed=lodged, error=None), 201


def _lodge(serial: str, number: str, finding: Finding, explanation: str) -> bool:
    """Hand the appeal to the appeals service (the same one behind ``POST /api/v1/appeals``)."""
    from verify.cases.appeals import lodge_worker_appeal
    lodge_worker_appeal({"serial": serial, "id_number": number, "finding_id": finding.id,
                         "explanation": explanation}, request.remote_addr)
    db.session.commit()
    return True
