"""What issuance shares with batch issuance and the layers above: the certificates table, and which certificate a worker holds in a category now."""
from __future__ import annotations

from datetime import date

from sqlalchemy import bindparam, literal, select

from certificates.models import Certificate
from training import clock
from training.db import db

CERTS = Certificate.__table__


def still_held(today) -> tuple:
    """A certificate still held: valid or suspended, and not expired."""
    c = CERTS.c
    # Literal statuses, not an expanding list (which is re-rendered at every execution).
    return c.status.in_((literal("valid"), literal("suspended"))), c.valid_until >= today


def _held(worker_id, category, today) -> tuple:
    """Holding a certificate of the category."""
    return (CERTS.c.worker_id == worker_id, CERTS.c.category == category, *still_held(today))


HELD_SERIAL = (select(CERTS.c.serial, CERTS.c.issuer_id)
                .where(*_held(bindparam("worker_id"), bindparam("category"), bindparam("today"))).limit(1))


def current_holding(worker_id: str, category: str) -> Certificate | None:
    """A certificate of the category the worker still holds (valid or suspended, not expired)."""
    return db.session.scalar(select(Certificate).where(*_held(worker_id, category, clock.today())).limit(1))


def held_serial(worker_id: str, category: str):
    """(serial, issuer_id) of ``current_holding``, or None: a plain read that loads no images."""
    return db.session.execute(HELD_SERIAL, {"worker_id": worker_id, "category": category,
                                             "today": clock.today()}).first()


def effective_status(cert: Certificate, today: date | None = None) -> str:
    if cert.status != "valid":
        return cert.status
    return "expired" if cert.valid_until < (today or clock.today()) else "valid"
