"""The audit trail: append-only, each entry chained to the one before by SHA-256.

Security-relevant events (key use and creation, issuance, revocation, accreditation changes,
failed authentication) are appended in the same transaction as the change they describe. Editing
or deleting any stored entry breaks the chain, which ``verify_chain`` (and ``flask audit-verify``)
detects. Nothing here ever updates or deletes a row.
"""
from __future__ import annotations

import hashlib
import json

from sqlalchemy import insert, select

from .db import db, utcnow
from .models import AuditEntry, Meta

GENESIS = "0" * 64


def _digest(prev: str, seq: int, at, event: str, actor_org, actor_key, subject, detail: str) -> str:
    material = json.dumps([prev, seq, at.isoformat(), event, actor_org, actor_key, subject, detail],
                          ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(material.encode()).hexdigest()


# Built once: an append runs on every issuance, and building a statement anew (and working out
# its cache key) cost as much as running it.
_ENTRIES, _META = AuditEntry.__table__, Meta.__table__
_HEAD = select(_META.c.value).where(_META.c.key == "audit_head")
_HEAD_LOCKED = _HEAD.with_for_update()
_NEW_HEAD = insert(_META).values(key="audit_head", value=0)
_LAST = select(_ENTRIES.c.seq, _ENTRIES.c.hash).order_by(_ENTRIES.c.seq.desc()).limit(1)
_APPEND = insert(_ENTRIES)


def _lock_head() -> None:
    """Serialise appends so the chain never forks (SQLite already holds the write lock).

    Plain statements, not the ORM: an append is on every issuance, and the unit of work cost
    more than the reads and the insert themselves."""
    locking = db.engine.dialect.name == "postgresql"
    head = _HEAD_LOCKED if locking else _HEAD
    if db.session.execute(head).first() is None:
        db.session.execute(_NEW_HEAD)
        if locking:
            db.session.execute(head)


def record(event: str, *, actor_org=None, actor_key=None, subject=None, detail=None) -> None:
    record_many([{"event": event, "actor_org": actor_org, "actor_key": actor_key, "subject": subject,
                  "detail": detail}])


def record_many(entries: list[dict]) -> None:
    """Append entries (each with ``event`` and optionally ``actor_org``, ``actor_key``,
    ``subject``, ``detail``) in their order: one lock, one read of the chain's end, one insert."""
    if not entries:
        return
    db.session.flush()  # what the entries describe is written first, as an ORM read would have
    _lock_head()
    last = db.session.execute(_LAST).first()
    seq, prev = (last[0] + 1, last[1]) if last else (1, GENESIS)
    rows = []
    for e in entries:
        at = utcnow()
        body = json.dumps(e.get("detail") or {}, ensure_ascii=False, sort_keys=True, default=str)
        actor_org, actor_key, subject = e.get("actor_org"), e.get("actor_key"), e.get("subject")
        digest = _digest(prev, seq, at, e["event"], actor_org, actor_key, subject, body)
        rows.append({"seq": seq, "at": at, "event": e["event"], "actor_org": actor_org, "actor_key": actor_key,
                     "subject": subject, "detail": body, "prev_hash": prev, "hash": digest})
        seq, prev = seq + 1, digest
    db.session.execute(_APPEND, rows)


def verify_chain(batch: int = 5000, progress=None) -> tuple[bool, int, int | None]:
    """Walk the chain: (intact, entries checked, first bad seq)."""
    prev, expected_seq, checked = GENESIS, 1, 0
    last_seq = 0
    while True:
        rows = db.session.scalars(select(AuditEntry).where(AuditEntry.seq > last_seq)
                                  .order_by(AuditEntry.seq).limit(batch)).all()
        if not rows:
            return True, checked, None
        for e in rows:
            good = (e.seq == expected_seq and e.prev_hash == prev and e.hash == _digest(
                prev, e.seq, e.at, e.event, e.actor_org, e.actor_key, e.subject, e.detail))
            if not good:
                return False, checked, e.seq
            prev, expected_seq, checked, last_seq = e.hash, e.seq + 1, checked + 1, e.seq
        if progress:
            progress(len(rows))
