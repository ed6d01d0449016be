"""Issuance, status changes and the three-yearly review of certificates.

Issuance and review (every act that signs a token) check accreditation at that moment first
(403), then the evidence (422, one error per reason), sign the token, render the QR images
once, and write the certificate, its evidence snapshot and its token in the caller's one
transaction. Status changes never delete; they append events.
"""
from __future__ import annotations

import hashlib
import json
from datetime import UTC, date, datetime, timedelta

from flask import current_app
from sqlalchemy import insert, inspect, select
from sqlalchemy.orm import make_transient_to_detached

from certificates import qr, token as tok
from certificates.issuance.queries import CERTS, effective_status, held_serial
from certificates.keys import active_key, ensure_key
from certificates.models import Certificate, CertificateEvent, CertificateToken
from certificates.signals import certificate_issued
from training import clock
from training.catalogue import load_catalogue
from training.clock import CHINA
from training.db import audit, db, utcnow
from training.errors import Conflict, Forbidden, Unprocessable, field_error
from training.evidence.hours import evidence_for, training_hours
from training.parties.models import Organization
from training.parties.service import accredited
from training.people.models import Worker

# Built once, as are the statements below: building and keying a statement per certificate
# cost about as much as running it.
INSERT_CERTIFICATE, INSERT_TOKEN, INSERT_EVENT = (
    insert(CERTS), insert(CertificateToken.__table__), insert(CertificateEvent.__table__))

EVIDENCE_MESSAGES = {
    "insufficient_hours": "The worker has not completed the category's required training hours.",
    "no_passed_exam": "No passed exam recorded by an exam centre for this category.",
    "exam_before_training": "The exam was taken before the required training hours were complete.",
    "exam_expired": "The passed exam is older than the period a pass stays good for (12 months).",
    "retake_beyond_limit": "The pass came on a retake beyond the one allowed without retraining.",
}


def add_years(d: date, years: int) -> date:
    try:
        return d.replace(year=d.year + years)
    except ValueError:  # 29 February
        return d.replace(year=d.year + years, day=28)


def dates(category, today: date, valid_until: date | None = None) -> tuple[date, date]:
    valid_until = valid_until or add_years(today, category.validity_years) - timedelta(days=1)
    if not category.has_review:  # renewed when it expires, never reviewed in between
        return valid_until, valid_until
    review_due = min(add_years(today, category.review_interval_years) - timedelta(days=1), valid_until)
    return valid_until, review_due


def claims(serial: str, issuer_id: str, category: str, worker, valid_until: date, review_due: date,
           now: datetime) -> tok.CertificateClaims:
    """What a certificate's token says; ``worker``: anything with the worker's name and id_masked."""
    return tok.CertificateClaims(
        serial=tok.parse_serial(serial), issuer_id=issuer_id,
        category_code=load_catalogue().category(category).token_code,
        holder_name=worker.name, holder_id_masked=worker.id_masked,
        issued_at=int(now.replace(tzinfo=UTC).timestamp()),
        expires_at=tok.date_to_epoch_end(valid_until), review_due_at=tok.date_to_epoch_end(review_due))


def sign_certificate(cert: Certificate, key, signer, base_url: str, now: datetime) -> None:
    """(Re-)sign the certificate's token under its serial and render its QR images once."""
    cert.token = signer.sign_token(key, claims(cert.serial, cert.issuer_id, cert.category, cert.worker,
                                               cert.valid_until, cert.review_due, now))
    cert.kid = key.kid
    cert.qr_text = tok.qr_text(cert.token, base_url)
    cert.qr_version, cert.qr_png, cert.qr_svg = qr.render(cert.qr_text)
    _store(cert)  # the certificate row first: its tokens refer to it
    # Rows nothing reads back in this transaction go in as plain inserts: a unit-of-work flush
    # per row cost more than the insert (profiled on batch issuance).
    db.session.execute(INSERT_TOKEN, {"token_hash": hashlib.sha256(cert.token).digest(),
                                       "serial": cert.serial, "signed_at": now, "kid": bytes(key.kid)})


def _store(cert: Certificate) -> None:
    """Write the certificate's row. A new one goes in as a plain insert and then joins the session
    as if just loaded: the unit of work's flush of one object cost more than its insert (profiled
    on batch issuance). Columns left unset take their defaults in the insert and are read back
    only if asked for; issuance sets them all."""
    state = inspect(cert)
    if not state.transient:
        db.session.flush()
        return
    db.session.execute(INSERT_CERTIFICATE, {c.key: state.dict[c.key] for c in CERTS.c if c.key in state.dict})
    make_transient_to_detached(cert)
    db.session.add(cert)


def record_event(cert: Certificate, event: str, caller, reason: str | None = None, signed: bool = False) -> None:
    """The certificate's history, and the audit trail; ``signed``: the event used a signing key,
    whose kid the audit entry then names (issuance and review are the only certificate key uses)."""
    db.session.execute(INSERT_EVENT, {"serial": cert.serial, "event": event, "reason": reason,
                                       "by_org": caller.org_id if caller else None,
                                       "by_key": caller.key_id if caller else None})
    detail = {"reason": reason} if reason else {}
    if signed:
        detail["signing_kid"] = bytes(cert.kid).hex()
    audit.record(f"certificate.{event}", actor_org=caller and caller.org_id, actor_key=caller and caller.key_id,
                 subject=cert.serial, detail=detail or None)


NAME_TOO_LONG = "name_too_long_for_certificate"


def _name_fits(worker, base_url: str) -> None:
    """A name registered before names were bounded, or under a shorter PUBLIC_BASE_URL, may not
    fit the token's QR code: refused, never signed into a code nobody can print or scan."""
    if not tok.name_fits(worker.name, base_url):
        raise Unprocessable("The worker's name is too long for a certificate's QR code.", [field_error(
            "name", NAME_TOO_LONG, f"A certificate's QR code holds a name of at most {tok.name_budget(base_url)} "
            "bytes in UTF-8; correct the worker's registered name first.")])


def issue(data: dict, caller) -> Certificate:
    """``issue_certificate`` with this app's signer and public address: how callers outside
    ``certificates/`` (demo data, commands) issue one without holding the signer."""
    return issue_certificate(data, caller, current_app.extensions["signer"], current_app.config["PUBLIC_BASE_URL"])


def issue_certificate(data: dict, caller, signer, base_url: str) -> Certificate:
    """One certificate (the API's); batch issuance is ``certificates.issuance.batch``, which makes the
    same checks and records a group of rows at a time."""
    worker = db.session.get(Worker, data["worker_id"])
    category = load_catalogue().category(data["category"])
    now = utcnow()
    if not accredited(caller.org_id, category.code, now + CHINA):
        raise Forbidden("This training body holds no active accreditation for the category today.")
    if worker is None:
        raise Unprocessable("Unknown worker.", [field_error("worker_id", "not_found", "No worker with this id.")])
    _name_fits(worker, base_url)
    ev = evidence_for(worker.id, category.code, now)
    if ev.problems:
        raise Unprocessable("The evidence does not support issuing this certificate.",
                            [field_error("evidence", p, EVIDENCE_MESSAGES[p]) for p in ev.problems])
    # Only the serial: loading the certificate would load its images and joined rows too.
    held = held_serial(worker.id, category.code)
    if held is not None:
        raise Conflict(f"The worker already holds certificate {held.serial} for this category; "
                       "reprint its card instead of issuing another.", serial=held.serial)
    # Validity and review follow the rule set in force on the day of issue (docs/rules.md).
    rules = load_catalogue().at(now)
    valid_until, review_due = dates(rules.category(category.code), clock.today(now))
    cert = Certificate(serial=tok.serial_text(tok.new_serial()), worker=worker, worker_id=worker.id,
                       category=category.code, issuer_id=caller.org_id, issued_at=now, rules=rule_code(rules),
                       valid_until=valid_until, review_due=review_due, status="valid", status_reason=None,
                       status_at=None, evidence=json.dumps(snapshot(ev), ensure_ascii=False),
                       open_findings=0, confirmed_findings=0, created_at=utcnow())
    # The active key's row brings its organisation, the issuer, along (a joined load): one read.
    key = active_key(caller.org_id) or ensure_key(db.session.get(Organization, caller.org_id), signer)
    cert.issuer = key.organization
    sign_certificate(cert, key, signer, base_url, now)
    record_event(cert, "issued", caller, signed=True)
    certificate_issued.send(cert, evidence=(ev.attendance_rows, ev.exam_rows))
    return cert


def rule_code(catalogue) -> str | None:
    """The code of the rule set a catalogue is as (None for a folder without rule sets)."""
    return catalogue.rules.code if catalogue.rules is not None else None


def snapshot(ev) -> dict:
    return {"required_hours": ev.required_hours, "credited_hours": ev.credited_hours,
            "hours_completed_at": ev.hours_completed_at.isoformat() if ev.hours_completed_at else None,
            "exam_id": ev.exam_id, "exam_taken_at": ev.exam_passed_at.isoformat() if ev.exam_passed_at else None,
            "attendance_ids": ev.attendance_ids, "exam_ids": ev.exam_ids, "waived_by": ev.waived_by}


def review_certificate(cert: Certificate, caller, signer, base_url: str) -> Certificate:
    if caller.org_id != cert.issuer_id:
        raise Forbidden("Only the certificate's issuer reviews it.")
    # A review re-signs the token: like issuance, it needs the accreditation now, not at issuance.
    if not accredited(caller.org_id, cert.category, utcnow() + CHINA):
        raise Forbidden("This training body holds no active accreditation for the category today.")
    if effective_status(cert) != "valid":
        raise Conflict(f"A {effective_status(cert)} certificate cannot be reviewed.")
    catalogue = load_catalogue()
    # The rules the certificate was issued under: their review interval and refresher hours.
    category = catalogue.under(cert.rules, cert.issued_at).category(cert.category)
    if not category.has_review or not catalogue.review_required(cert.category, cert.review_due):
        raise Conflict("No review is due for this certificate under the rules in force: it is renewed when it "
                       "expires (docs/rules.md).", code="no_review")
    last = db.session.scalar(select(CertificateEvent.at).where(
        CertificateEvent.serial == cert.serial, CertificateEvent.event.in_(("issued", "reviewed")))
        .order_by(CertificateEvent.at.desc()).limit(1)) or cert.issued_at
    hours = training_hours(cert.worker_id, cert.category, kinds=("refresher",), since=last)[0]
    if hours < category.refresher_hours:
        raise Unprocessable("Not enough refresher training recorded since the last review.", [field_error(
            "evidence", "insufficient_refresher_hours",
            f"{hours:g} of {category.refresher_hours:g} refresher hours recorded since {last.date()}.")])
    _name_fits(cert.worker, base_url)
    base = max(cert.review_due + timedelta(days=1), clock.today())
    cert.review_due = min(add_years(base, category.review_interval_years) - timedelta(days=1), cert.valid_until)
    issuer = db.session.get(Organization, cert.issuer_id)
    sign_certificate(cert, ensure_key(issuer, signer), signer, base_url, utcnow())
    db.session.flush()
    record_event(cert, "reviewed", caller, f"{hours:g} refresher hours", signed=True)
    return cert
