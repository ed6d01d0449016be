"""Tables of the verification layer: scans (movement records: regulators only, kept for the
configured retention) and the shared rate-limit counters."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, Float, ForeignKey, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from training.db import db, new_id, utcnow
from training.db.models import ID


class Scan(db.Model):
    __tablename__ = "scans"
    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    serial: Mapped[str | None] = mapped_column(String(19))
    token_hash: Mapped[bytes | None] = mapped_column(LargeBinary(32))
    result: Mapped[str] = mapped_column(String(30))
    reasons: Mapped[str] = mapped_column(Text)  # space-separated reason codes
    organization_id: Mapped[str] = mapped_column(ForeignKey("organizations.id"))
    key_id: Mapped[str] = mapped_column(ID)
    officer_name: Mapped[str | None] = mapped_column(String(100))
    officer_badge: Mapped[str | None] = mapped_column(String(50))
    site_id: Mapped[str | None] = mapped_column(ForeignKey("sites.id"))
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    scanned_at: Mapped[datetime | None] = mapped_column(DateTime)  # as the device said
    clock_offset_s: Mapped[int | None] = mapped_column(Integer)  # device minus server, when measured
    received_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    offline: Mapped[int] = mapped_column(Integer, default=0)
    client_ref: Mapped[str | None] = mapped_column(String(64), unique=True)  # device's id for idempotent sync
    __table_args__ = (Index("ix_scans_serial_time", "serial", "received_at"),
                      Index("ix_scans_received", "received_at"))


class RateCounter(db.Model):
    __tablename__ = "rate_counters"
    bucket: Mapped[str] = mapped_column(String(100), primary_key=True)
    window: Mapped[int] = mapped_column(Integer, primary_key=True)
    count: Mapped[int] = mapped_column(Integer, default=0)
