"""A certificate read back (by its issuer, a regulator, or through the public view), its status on a day, and its status changes: revoke, suspend, reinstate."""
from __future__ import annotations

from datetime import date

from sqlalchemy import and_, or_

from certificates import token as tok
from certificates.issuance.service import record_event
from certificates.models import Certificate
from certificates.signals import certificate_status_changed
from training import clock
from training.catalogue import load_catalogue
from training.db import db, utcnow
from training.errors import Conflict, Forbidden, NotFound
from training.evidence.standing import employs


def get_certificate(serial: str) -> Certificate:
    raw = tok.parse_serial(serial) if isinstance(serial, str) and len(serial) <= 40 else None
    cert = db.session.get(Certificate, tok.serial_text(raw)) if raw else None
    if cert is None:
        raise NotFound("No certificate with this serial.")
    return cert


def readable_certificate(serial: str, caller) -> Certificate:
    """A certificate for a keyed reader: its issuer, a regulator or inspectorate (whose officers
    look a damaged card up by its serial on site), or an organisation that employs the holder (a confirmed employment as host, or as the agency or subcontractor in between).
    For anyone else it does not exist (404): the record names the holder and links the person
    to an employer, which is no stranger's business; the public verdict is ``POST /verify``."""
    cert = get_certificate(serial)
    if caller.kind in ("regulator", "inspectorate") or caller.org_id == cert.issuer_id:
        return cert
    if employs(caller.org_id, cert.worker_id, clock.today()):
        return cert
    raise NotFound("No certificate with this serial.")


def review_in_order(table, day: date):
    """SQL: a certificate's review is not overdue on ``day`` (due on or after it, or falling due
    where the rules in force then have no review: ``Catalogue.review_required``)."""
    catalogue, spans = load_catalogue(), {}
    for code in catalogue.categories:
        for span in catalogue.no_review(code):
            spans.setdefault(span, []).append(code)
    lapsed = [and_(table.c.category.in_(codes), table.c.review_due >= start,
                   *([table.c.review_due <= until] if until else [])) for (start, until), codes in spans.items()]
    return or_(table.c.review_due >= day, *lapsed)


TRANSITIONS = {"revoke": ({"valid", "suspended"}, "revoked"), "suspend": ({"valid"}, "suspended"),
               "reinstate": ({"suspended"}, "valid")}


def change_status(cert: Certificate, action: str, reason: str, caller) -> Certificate:
    if caller.kind != "regulator" and caller.org_id != cert.issuer_id:
        raise Forbidden("Only the certificate's issuer or a regulator may do this.")
    allowed, target = TRANSITIONS[action]
    if cert.status not in allowed:
        raise Conflict(f"A {cert.status} certificate cannot be {target}.")
    cert.status, cert.status_reason, cert.status_at = target, reason, utcnow()
    db.session.flush()
    record_event(cert, {"revoke": "revoked", "suspend": "suspended", "reinstate": "reinstated"}[action], caller, reason)
    certificate_status_changed.send(cert, event=action)
    return cert
