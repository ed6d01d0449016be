"""Tables of on-site inspections: one inspection, and each person checked in it."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from training.db import db, new_id, utcnow
from training.db.models import ID


class Inspection(db.Model):
    __tablename__ = "inspections"
    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    organization_id: Mapped[str] = mapped_column(ForeignKey("organizations.id"))
    key_id: Mapped[str] = mapped_column(ID)
    officer_name: Mapped[str | None] = mapped_column(String(100))
    officer_badge: Mapped[str | None] = mapped_column(String(50))
    officers: Mapped[str] = mapped_column(Text, default="[]")  # JSON: accompanying officers
    site_id: Mapped[str] = mapped_column(ForeignKey("sites.id"))
    started_at: Mapped[datetime] = mapped_column(DateTime)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    __table_args__ = (Index("ix_inspections_org_time", "organization_id", "created_at"),)


class InspectionCheck(db.Model):
    __tablename__ = "inspection_checks"
    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    inspection_id: Mapped[str] = mapped_column(ForeignKey("inspections.id"))
    seq: Mapped[int] = mapped_column(Integer)
    task_role: Mapped[str] = mapped_column(String(40))
    at: Mapped[datetime] = mapped_column(DateTime)
    serial: Mapped[str | None] = mapped_column(String(19))
    card_result: Mapped[str | None] = mapped_column(String(30))
    scan_id: Mapped[str | None] = mapped_column(ID)
    worker_id: Mapped[str | None] = mapped_column(ForeignKey("workers.id"))
    id_hash: Mapped[str | None] = mapped_column(String(64))
    id_masked: Mapped[str | None] = mapped_column(String(18))
    holder_matches: Mapped[int | None] = mapped_column(Integer)
    verdict: Mapped[str] = mapped_column(String(20))  # cleared | not_cleared
    reasons: Mapped[str] = mapped_column(Text, default="")  # space-separated codes
    detail: Mapped[str] = mapped_column(Text, default="{}")  # JSON: certificates seen, findings raised
    __table_args__ = (Index("ix_inspection_checks_inspection", "inspection_id", "seq"),
                      Index("ix_inspection_checks_worker_time", "worker_id", "at"))
