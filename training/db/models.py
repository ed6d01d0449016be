"""Tables of the database's own bookkeeping: the short id type every table uses, idempotency records,
the audit trail and its checkpoints, and settings kept in the database (Meta)..
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    DateTime,
    Integer,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from training.db import db, new_id, utcnow

ID = String(16)


class IdempotencyRecord(db.Model):
    """A created response kept under its Idempotency-Key, committed with the work it describes,
    for ``IDEMPOTENCY_TTL_HOURS``; secrets in the response are kept as null."""
    __tablename__ = "idempotency_records"
    organization_id: Mapped[str] = mapped_column(ID, primary_key=True)
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    endpoint: Mapped[str] = mapped_column(String(200))
    request_hash: Mapped[str] = mapped_column(String(64))
    status: Mapped[int] = mapped_column(Integer)
    body: Mapped[str] = mapped_column(Text)  # the answer as replayed: never a secret (training/web/http.py)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, index=True)  # pruned by age


class AuditEntry(db.Model):
    """Append-only, hash-chained trail of security-relevant events."""
    __tablename__ = "audit_entries"
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    event: Mapped[str] = mapped_column(String(60))
    actor_org: Mapped[str | None] = mapped_column(ID)
    actor_key: Mapped[str | None] = mapped_column(ID)
    subject: Mapped[str | None] = mapped_column(String(100))
    detail: Mapped[str] = mapped_column(Text, default="{}")
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class AuditCheckpoint(db.Model):
    """A signed checkpoint of the audit chain's head (certificates/audit_checkpoints.py makes it).
    Only a copy: what anchors the chain are the copies outside this database, the published
    endpoint's and the append-only file's."""
    __tablename__ = "audit_checkpoints"
    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    size: Mapped[int] = mapped_column(Integer, unique=True)  # entries covered: seq 1..size
    head: Mapped[str] = mapped_column(String(64))  # hash of entry ``size``
    made_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, index=True)
    document: Mapped[str] = mapped_column(Text)  # the signed JSON, byte for byte as published


class Meta(db.Model):
    """Small counters other layers poll cheaply (e.g. the key table's generation)."""
    __tablename__ = "meta"
    key: Mapped[str] = mapped_column(String(50), primary_key=True)
    value: Mapped[int] = mapped_column(Integer, default=0)
