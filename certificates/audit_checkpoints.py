"""Signed checkpoints of the audit chain's head, and the check of the trail against them.

A checkpoint says: the trail had ``size`` entries and the last one's hash was ``head`` at
``issued_at``; the regulator's list key (the key of the trust and status lists) signs it. Whoever
can write the audit table can recompute every hash after an edit, and a key this server holds
(an HMAC) would not stop them, since they hold it too. What they cannot change is a checkpoint
already copied out of their reach: the append-only file (``AUDIT_CHECKPOINT_FILE``, written once
the transaction that made the checkpoint commits) shipped to write-once storage, and the copies
readers of ``GET /api/v1/audit/checkpoints`` keep. A rewritten or truncated trail no longer hashes
to those. The ``audit_checkpoints`` table is a convenience copy only.

Checkpoints are made when an append finds the newest older than AUDIT_CHECKPOINT_MINUTES or
AUDIT_CHECKPOINT_ENTRIES behind, and on demand. Must not: write an audit entry for a checkpoint
(it would move the head it names), or touch a private key (the signer signs).
"""
from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass
from datetime import UTC, timedelta
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from flask import Flask, current_app, has_app_context
from sqlalchemy import event, inspect, select
from sqlalchemy.orm import Session

from certificates import token as tok
from certificates.keys import list_key
from certificates.models import SigningKey
from training.db import audit, db, utcnow
from training.db.models import AuditCheckpoint
from training.errors import NotFound
from training.web.http import paginate

log = logging.getLogger("anzheng.audit")
KIND = "anzheng.audit-checkpoint"
_BUSY, _PENDING, _LAST = "audit_checkpoint_busy", "audit_checkpoints_pending", "audit_checkpoint_last"


def init_app(app: Flask) -> None:
    audit.appended.connect(_on_append, weak=False)
    if not event.contains(Session, "after_commit", _write_pending):
        event.listen(Session, "after_commit", _write_pending)
        event.listen(Session, "after_transaction_end", _drop_pending)


def _rfc3339(dt) -> str:
    return dt.replace(tzinfo=UTC).isoformat()


def make_checkpoint(signer) -> AuditCheckpoint | None:
    """A signed checkpoint of the head as it is now, in this transaction (the existing one when
    the head has not moved); None for an empty trail. NotFound when no regulator exists yet."""
    info = db.session.info
    info[_BUSY] = True
    try:
        key = list_key(signer)  # first: making the key appends an entry, which this then covers
        size, head, _ = audit.head()
        if size == 0:
            return None
        made = db.session.scalar(select(AuditCheckpoint).where(AuditCheckpoint.size == size))
        if made is not None:
            return made
        now = utcnow()
        doc = signer.sign_document(key, {
            "kind": KIND, "version": 1, "size": size, "head": head, "issued_at": _rfc3339(now),
            "issuer": {"organization_id": key.organization_id, "kid": tok.b64url_encode(bytes(key.kid)),
                       "x": tok.b64url_encode(bytes(key.public_key))}})
        text = json.dumps(doc, ensure_ascii=False, separators=(",", ":"))
        row = AuditCheckpoint(size=size, head=head, made_at=now, document=text)
        db.session.add(row)
        db.session.flush()
        info.setdefault(_PENDING, []).append((row, current_app.config.get("AUDIT_CHECKPOINT_FILE"), text))
        current_app.extensions[_LAST] = {"size": size, "at": now}
        return row
    finally:
        info.pop(_BUSY, None)


def _due(size: int, last: dict, minutes: float, entries: int) -> bool:
    if last.get("at") is None or size < last["size"]:
        return True  # none yet, or the trail is shorter than the last one (a restore): say so now
    return bool((entries and size - last["size"] >= entries)
                or (minutes and utcnow() - last["at"] >= timedelta(minutes=minutes)))


def _on_append(_sender, size: int, **_) -> None:
    """After an append: a checkpoint if the newest is too old. The process remembers the newest
    it knows, so most appends decide without a query; another process's is read before making one."""
    if not has_app_context() or db.session.info.get(_BUSY):
        return
    cfg = current_app.config
    minutes, entries = cfg.get("AUDIT_CHECKPOINT_MINUTES", 10), cfg.get("AUDIT_CHECKPOINT_ENTRIES", 10000)
    if not (minutes or entries) or not _due(size, current_app.extensions.get(_LAST, {}), minutes, entries):
        return
    newest = db.session.execute(select(AuditCheckpoint.size, AuditCheckpoint.made_at)
                                .order_by(AuditCheckpoint.size.desc()).limit(1)).first()
    last = {"size": newest[0], "at": newest[1]} if newest else {"size": 0, "at": None}
    current_app.extensions[_LAST] = last
    if _due(size, last, minutes, entries):
        try:
            make_checkpoint(current_app.extensions["signer"])
        except NotFound:
            pass  # no regulator yet, so no key to sign with: the first append after bootstrap makes one


def _write_pending(session) -> None:
    """Once committed, each checkpoint goes to the append-only file: one line, one write. One
    made in a savepoint that was rolled back is no longer in the session and is not written."""
    for row, path, line in session.info.pop(_PENDING, None) or ():
        if path and inspect(row).persistent:
            _append_line(path, line)


def _drop_pending(session, transaction) -> None:
    if transaction.parent is None:
        session.info.pop(_PENDING, None)


def _append_line(path: str, line: str) -> None:
    try:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            # No fsync: the table holds the checkpoint durably already, and an OS crash that
            # loses this line loses nothing an attacker could use; the next checkpoint follows.
            os.write(fd, (line + "\n").encode())
        finally:
            os.close(fd)
    except OSError as exc:  # the work is committed; the table keeps the checkpoint and the next goes out
        log.error("audit checkpoint not written to %s: %s", path, exc)


def latest() -> dict:
    row = db.session.scalar(select(AuditCheckpoint).order_by(AuditCheckpoint.size.desc()).limit(1))
    if row is None:
        raise NotFound("No audit checkpoint has been made yet.")
    return json.loads(row.document)


def recent() -> dict:
    return paginate(select(AuditCheckpoint), AuditCheckpoint, lambda r: json.loads(r.document),
                    time_col=AuditCheckpoint.made_at)


# --- checking the trail ------------------------------------------------------------------------


@dataclass
class TrailCheck:
    ok: bool
    entries: int
    checkpoints: int
    message: str


def read_checkpoints(path: str) -> list[dict]:
    """Checkpoints kept in a file: JSON lines (the append-only file), or one JSON document (a saved
    answer of the endpoints: one checkpoint, or a list's ``{"items": [...]}``). ValueError says
    which line is wrong."""
    text = Path(path).read_text(encoding="utf-8")
    try:
        whole = json.loads(text)
    except ValueError:
        whole = None
    if isinstance(whole, dict):
        docs = whole["items"] if isinstance(whole.get("items"), list) else [whole]
    else:
        docs = []
        for n, line in enumerate(text.splitlines(), 1):
            if not line.strip():
                continue
            try:
                docs.append(json.loads(line))
            except ValueError:
                raise ValueError(f"{path}, line {n}: not JSON") from None
    for doc in docs:
        if not (isinstance(doc, dict) and doc.get("kind") == KIND and isinstance(doc.get("size"), int)
                and isinstance(doc.get("head"), str) and isinstance(doc.get("signature"), dict)):
            raise ValueError(f"{path}: holds something that is not an audit checkpoint")
    return docs


def _keys(pinned: list[bytes] | None) -> dict[str, bytes]:
    """kid -> public key: the pinned ones if given (the regulator's published key), else every
    list key in the database (retired ones signed older checkpoints)."""
    if pinned:
        return {tok.b64url_encode(tok.kid_for(x)): x for x in pinned}
    rows = db.session.scalars(select(SigningKey).where(SigningKey.purpose == "lists"))
    return {tok.b64url_encode(bytes(k.kid)): bytes(k.public_key) for k in rows}


def _signed(doc: dict, keys: dict[str, bytes]) -> bool:
    sig = doc["signature"]
    kid = sig.get("kid")
    public = keys.get(kid) if isinstance(kid, str) else None
    if public is None:
        return False
    try:  # rfc8785's refusals (a number it cannot write) are ValueErrors too
        Ed25519PublicKey.from_public_bytes(public).verify(tok.b64url_decode(sig.get("value")),
                                                          tok.sign_document_bytes(doc))
        return True
    except (InvalidSignature, ValueError, TypeError):
        return False


def _gather(files: list[str]) -> list[tuple[dict, list[str]]]:
    """Every checkpoint found, once each, with where it was found, smallest size first."""
    found: dict[str, tuple[dict, list[str]]] = {}
    sources = [("the database", [json.loads(d) for d in db.session.scalars(select(AuditCheckpoint.document))])]
    sources += [(path, read_checkpoints(path)) for path in files]
    for source, docs in sources:
        for doc in docs:
            # The whole document, not its signature: a copy with the same signature but another
            # head is a different (forged) checkpoint and must be checked on its own.
            entry = found.setdefault(json.dumps(doc, sort_keys=True, ensure_ascii=False), (doc, []))
            if source not in entry[1]:
                entry[1].append(source)
    return sorted(found.values(), key=lambda e: (e[0]["size"], str(e[0].get("issued_at"))))


def check_trail(files: list[str], pinned: list[bytes] | None = None, progress=None) -> TrailCheck:
    """The chain checked on its own, then against every checkpoint (the table's and the files'):
    each must be signed by a list key, and the trail's first ``size`` entries must end in its
    ``head``. The first checkpoint that disagrees is named."""
    found, keys = _gather(files), _keys(pinned)
    heads = {doc["size"]: None for doc, _ in found}
    intact, checked, bad = audit.verify_chain(progress=progress, heads=heads)
    if not intact:
        return TrailCheck(False, checked, len(found), f"audit trail BROKEN at entry {bad} (after {checked} good entries)")
    for doc, where in found:
        name = f"of {doc.get('issued_at')} (size {doc['size']}, in {', '.join(where)})"
        if not _signed(doc, keys):
            why = "not signed by the regulator's list key: the checkpoint was altered or made elsewhere"
        elif doc["size"] > checked:
            why = f"the trail holds {checked} entries, fewer than the checkpoint's {doc['size']}: entries were deleted"
        elif heads[doc["size"]] != doc["head"]:
            why = f"entry {doc['size']} no longer hashes to the checkpoint's head: entries up to it were rewritten"
        else:
            continue
        return TrailCheck(False, checked, len(found), f"audit trail does NOT MATCH checkpoint {name}: {why}")
    if not found:
        return TrailCheck(True, checked, 0, f"audit trail intact: {checked} entries; no checkpoint found, so a "
                                            "re-chained trail would pass too (run audit-checkpoint)")
    newest = found[-1][0]
    return TrailCheck(True, checked, len(found), f"audit trail intact: {checked} entries, matching {len(found)} "
                                                 f"signed checkpoints (newest: size {newest['size']}, "
                                                 f"{newest.get('issued_at')})")
