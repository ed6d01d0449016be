"""Console pages that touch certificates: a class's evidence and issuing everyone ready in one
action (in chunks, with progress), the class's cards as one PDF, the body's certificates with
review, suspension, revocation and reprint, and the QR image of an authenticator enrolment.

Builds on the training console (its guard, words and class tables); every certificate action
goes through ``certificates.issuance.service`` with the signed-in person as the caller, so the audit
trail names them.
"""
from __future__ import annotations

from datetime import datetime

from flask import Blueprint, Response, current_app, flash, g, redirect, render_template, request
from sqlalchemy import or_, select

from certificates import qr, status as cert_status
from certificates.card import render_cards
from certificates.issuance import queries, service
from certificates.models import Certificate, CertificateEvent
from certificates.views import card_data
from training.accounts import service as accounts, totp
from training.accounts.guard import current_session, install, page, refuse
from training.accounts.words import say
from training.console.models import ClassMember, TrainingClass
from training.console.pages import get_class, paged, record_or_404
from training.db import db, utcnow
from training.errors import ApiError
from training.evidence.hours import evidence_for
from training.evidence.models import Exam
from training.people.models import Worker
from training.web.i18n import t

bp = Blueprint("certificates_console", __name__, url_prefix="/console", template_folder="templates")
install(bp)
BODY = ("training_body",)
CHUNK = 5


def _members(cls: TrainingClass) -> list[ClassMember]:
    return db.session.scalars(select(ClassMember).join(Worker).where(ClassMember.class_id == cls.id)
                              .order_by(ClassMember.added_at, Worker.name, Worker.id)).all()


def _last_exam(worker_id: str, category: str) -> Exam | None:
    return db.session.scalar(select(Exam).where(Exam.worker_id == worker_id, Exam.category == category,
                                                Exam.voided_at.is_(None)).order_by(Exam.taken_at.desc()).limit(1))


def standing(member: ClassMember, category: str, now: datetime) -> dict:
    """One trainee's evidence and certificate: what the evidence page shows for them."""
    ev = evidence_for(member.worker_id, category, now)
    held = queries.current_holding(member.worker_id, category)
    state = "issued" if held else ("ready" if not ev.problems else "missing")
    return {"worker": member.worker, "ev": ev, "exam": _last_exam(member.worker_id, category), "held": held,
            "state": state, "missing": [say(p) for p in ev.problems]}


@bp.get("/classes/<class_id>/evidence")
@page(kinds=BODY)
@record_or_404(get_class, "class_id")
def evidence(cls):
    now = utcnow()
    rows = [standing(m, cls.category, now) for m in _members(cls)]
    counts = {k: sum(r["state"] == k for r in rows) for k in ("ready", "issued", "missing")}
    from training.console.classes import class_counts
    return render_template("cert_console_evidence.html", cls=cls, rows=rows, counts=counts,
                           class_counts=class_counts(cls), tab="evidence")


def issue_one(member: ClassMember, category: str, now: datetime) -> dict:
    """Issue to one trainee if the evidence supports it; the row stands alone (savepoint)."""
    worker = member.worker
    row = {"name": worker.name, "masked": worker.id_masked}
    held = queries.current_holding(worker.id, category)
    if held is not None:
        return {**row, "outcome": "skipped", "serial": held.serial, "message": t("已持有证书", "Already holds")}
    problems = evidence_for(worker.id, category, now).problems
    if problems:
        return {**row, "outcome": "not_ready", "message": "；".join(say(p) for p in problems)}
    savepoint = db.session.begin_nested()
    try:
        cert = service.issue_certificate({"worker_id": worker.id, "category": category},
                                         accounts.caller_for(g.account), current_app.extensions["signer"],
                                         current_app.config["PUBLIC_BASE_URL"])
        savepoint.commit()
    except ApiError as err:
        savepoint.rollback()
        codes = [e.get("code") for e in (err.errors or [])]
        message = "；".join(say(c) for c in codes) if codes else (say("not_accredited") if err.status == 403 else err.detail)
        return {**row, "outcome": "refused", "message": message}
    return {**row, "outcome": "issued", "serial": cert.serial, "message": ""}


LABELS = {"issued": (("已发证", "Issued"), "ok"), "skipped": (("已持有证书", "Already holds"), "muted"),
          "not_ready": (("未达条件", "Not ready"), "warn"), "refused": (("未发证", "Refused"), "bad")}


@bp.post("/classes/<class_id>/issue")
@page("issue", kinds=BODY)
@record_or_404(get_class, "class_id")
def issue(cls):
    members, now = _members(cls), utcnow()
    wants_json = request.accept_mimetypes.best == "application/json"
    offset = max(0, int(request.form.get("offset", "0"))) if request.form.get("offset", "0").isdigit() else 0
    chunk = members[offset: offset + CHUNK] if wants_json else members
    results = [issue_one(m, cls.category, now) for m in chunk]
    accounts.record(g.account, "console.issue_class", cls.id, offset=offset,
                    issued=sum(r["outcome"] == "issued" for r in results))
    db.session.commit()
    if not wants_json:
        from training.console.uploads import report
        return report(f"{cls.name} · {t('发证结果', 'Issuing')}", results, f"/console/classes/{cls.id}/evidence")
    done = min(offset + len(chunk), len(members))
    return {"total": len(members), "next_offset": done,
            "results": [{"name": r["name"], "masked": r["masked"], "label": t(*LABELS[r["outcome"]][0]),
                         "style": LABELS[r["outcome"]][1], "detail": r.get("serial") or r["message"]} for r in results],
            "progress_text": t(f"已处理 {done} / {len(members)} 人……", f"{done} of {len(members)} done…"),
            "done_text": t(f"完成：已处理全部 {len(members)} 人。", f"Finished: all {len(members)} trainees processed.")}


def _class_certificates(cls: TrainingClass) -> list[Certificate]:
    order = {m.worker_id: i for i, m in enumerate(_members(cls))}
    certs = db.session.scalars(select(Certificate).where(
        Certificate.issuer_id == cls.organization_id, Certificate.category == cls.category,
        Certificate.worker_id.in_(list(order)), Certificate.status.in_(("valid", "suspended")))).all()
    return sorted(certs, key=lambda c: order[c.worker_id])


@bp.get("/classes/<class_id>/cards.pdf")
@page(kinds=BODY)
@record_or_404(get_class, "class_id")
def class_cards(cls):
    certs = _class_certificates(cls)
    if not certs:
        flash(t("本班还没有已发的证书可打印。", "No certificates issued in this class yet."), "warn")
        return redirect(f"/console/classes/{cls.id}/evidence")
    accounts.record(g.account, "console.cards_printed", cls.id, count=len(certs))
    db.session.commit()
    return Response(render_cards(card_data(c) for c in certs), mimetype="application/pdf",
                    headers={"Content-Disposition": f'inline; filename="class-{cls.id}-cards.pdf"'})


# --- the body's certificates --------------------------------------------------------------------

@bp.get("/certificates")
@page(kinds=BODY)
def certificates():
    stmt = select(Certificate).join(Worker, Worker.id == Certificate.worker_id).where(
        Certificate.issuer_id == g.account.organization_id)
    q, status = request.args.get("q", "").strip(), request.args.get("status", "")
    if q:
        stmt = stmt.where(or_(Worker.name.contains(q), Certificate.serial.contains(q.upper())))
    if status in ("valid", "revoked", "suspended"):
        stmt = stmt.where(Certificate.status == status)
    listing = paged(stmt.order_by(Certificate.issued_at.desc(), Certificate.serial))
    return render_template("cert_console_list.html", listing=listing, q=q, status=status,
                           effective=queries.effective_status)


def _own_cert(serial: str) -> Certificate | None:
    try:
        cert = cert_status.get_certificate(serial)
    except ApiError:
        return None
    return cert if cert.issuer_id == g.account.organization_id else None


@bp.get("/certificates/<serial>")
@page(kinds=BODY)
@record_or_404(_own_cert, "serial")
def certificate(cert):
    events = db.session.scalars(select(CertificateEvent).where(CertificateEvent.serial == cert.serial)
                                .order_by(CertificateEvent.at)).all()
    return render_template("cert_console_detail.html", cert=cert, events=events,
                           status=queries.effective_status(cert))


@bp.get("/certificates/<serial>/card.pdf")
@page(kinds=BODY)
@record_or_404(_own_cert, "serial")
def certificate_card(cert):
    return Response(render_cards([card_data(cert)]), mimetype="application/pdf",
                    headers={"Content-Disposition": f'inline; filename="{cert.serial}.pdf"'})


@bp.post("/certificates/<serial>/<action>")
@page("issue", kinds=BODY)
@record_or_404(_own_cert, "serial")
def certificate_action(cert, action):
    if action not in ("revoke", "suspend", "reinstate", "review"):
        return refuse(404, say("not_found"))
    if action != "review" and not accounts.may(g.account, "revoke"):
        return refuse(403, t("撤销、暂停和恢复证书须由本单位管理员操作。",
                             "Only your organisation's administrator revokes, suspends or reinstates."))
    reason = request.form.get("reason", "").strip()[:1000]
    if action != "review" and not reason:
        flash(t("请写明原因。", "Give a reason."), "bad")
        return redirect(f"/console/certificates/{cert.serial}")
    caller = accounts.caller_for(g.account)
    try:
        if action == "review":
            service.review_certificate(cert, caller, current_app.extensions["signer"],
                                       current_app.config["PUBLIC_BASE_URL"])
        else:
            cert_status.change_status(cert, action, reason, caller)
    except ApiError as err:
        db.session.rollback()
        from training.accounts.guard import describe
        flash(describe(err), "bad")
        return redirect(f"/console/certificates/{cert.serial}")
    db.session.commit()
    flash(t("已完成。", "Done."), "ok")
    return redirect(f"/console/certificates/{cert.serial}")


# --- the authenticator enrolment's QR image ----------------------------------------------------

@bp.get("/sign-in/qr.svg")
def enrolment_qr():
    row = current_session(stage="enrol")
    secret = totp.pending_secret(row.account) if row else None
    if secret is None:
        return refuse(404, say("not_found"))
    svg = qr.render_svg(totp.enrolment_uri(row.account, secret))
    return Response(svg, mimetype="image/svg+xml", headers={"Cache-Control": "no-store"})
