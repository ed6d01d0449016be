"""The audit trail: append-only, each entry chained to the one before by SHA-256.

Security-relevant events (key use and creation, issuance, revocation, accreditation changes,
failed authentication) are appended in the same transaction as the change they describe. Editing
or deleting any stored entry breaks the chain, which ``verify_chain`` (and ``flask audit-verify``)
detects. Nothing here ever updates or deletes a row.

The chain alone cannot stop whoever can write the table from editing an entry and re-chaining
every later one: an unkeyed hash (or one keyed by a secret of this server) is recomputed as
easily. So each append sends ``appended``, and the certificates layer answers with a checkpoint
of the head signed by the regulator and kept outside this table (certificates/audit_checkpoints.py);
``verify_chain`` hands back the hashes at the sizes those checkpoints name. This module signs
nothing and never imports the layer above.
"""
from __future__ import annotations

import hashlib
import json
from datetime import datetime

from blinker import Namespace
from sqlalchemy import insert, select

from training.db import db, utcnow
from training.db.models import AuditEntry, Meta

GENESIS = "0" * 64

# The trail's own signal (sender: None; size, head): sent after each append, in its transaction
# and under its lock, so a receiver that checkpoints the head sees no other append in between.
appended = Namespace().signal("audit-appended")


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
_LAST_AT = select(_ENTRIES.c.seq, _ENTRIES.c.hash, _ENTRIES.c.at).order_by(_ENTRIES.c.seq.desc()).limit(1)
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
    if appended.receivers:
        appended.send(None, size=seq - 1, head=prev)


def head() -> tuple[int, str, datetime | None]:
    """The chain's newest entry as (size, hash, time), read under the append lock so that no
    append comes in between before this transaction ends; (0, GENESIS, None) when empty."""
    db.session.flush()
    _lock_head()
    last = db.session.execute(_LAST_AT).first()
    return (last[0], last[1], last[2]) if last else (0, GENESIS, None)


def verify_chain(batch: int = 5000, progress=None, heads: dict | None = None) -> tuple[bool, int, int | None]:
    """Walk the chain: (intact, entries checked, first bad seq). ``heads`` maps sizes (entry
    counts) to None; each size the walk reaches gets the hash of its last entry, to compare with
    a checkpoint of that size."""
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
            if heads is not None and e.seq in heads:
                heads[e.seq] = e.hash
        if progress:
            progress(len(rows))


def refused(err) -> None:
    """After a refusal that carries an audit entry (a ``429`` from ``training.people.lookups.count``):
    roll the request back and record the refusal. The API's error handler calls this; a page that
    catches the refusal itself calls it too."""
    entry = err.extra.get("audit")
    db.session.rollback()
    if entry:
        record(entry["event"], actor_org=entry["actor_org"], actor_key=entry["actor_key"], detail=entry["detail"])
        db.session.commit()
