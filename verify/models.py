"""Tables of the verification layer: scans (movement records: regulators only, kept for the
configured retention) and the shared rate-limit counters."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, Float, ForeignKey, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from training.db import db, new_id, utcnow
from training.models import ID


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


class Finding(db.Model):
    """An accusation raised by a rule, with its evidence and parties, until a regulator reviews it.

    ``rule_key`` makes re-running a rule idempotent: the same rule on the same evidence never
    raises a second finding. Status: open → confirmed | dismissed (with reasons, kept).
    """
    __tablename__ = "findings"
    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    kind: Mapped[str] = mapped_column(String(40), index=True)
    status: Mapped[str] = mapped_column(String(12), default="open", index=True)
    severity: Mapped[str] = mapped_column(String(10))  # low | medium | high | critical
    rule_key: Mapped[str] = mapped_column(String(200), unique=True)
    evidence: Mapped[str] = mapped_column(Text)  # JSON: ids of records and the figures that tripped the rule
    explanation: Mapped[str] = mapped_column(Text)
    worker_id: Mapped[str | None] = mapped_column(ForeignKey("workers.id"), index=True)
    certificate_serial: Mapped[str | None] = mapped_column(ForeignKey("certificates.serial"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, index=True)
    reviewed_at: Mapped[datetime | None] = mapped_column(DateTime)
    reviewed_by: Mapped[str | None] = mapped_column(ID)  # api key id
    review_reason: Mapped[str | None] = mapped_column(Text)
    __table_args__ = (Index("ix_findings_status_created", "status", "created_at"),)


class FindingParty(db.Model):
    __tablename__ = "finding_parties"
    finding_id: Mapped[str] = mapped_column(ForeignKey("findings.id"), primary_key=True)
    role: Mapped[str] = mapped_column(String(20), primary_key=True)  # worker | employer | labour_agency | subcontractor | training_body | exam_centre | trainer
    party_id: Mapped[str] = mapped_column(ID, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    __table_args__ = (Index("ix_finding_parties_party", "party_id"),)


class Case(db.Model):
    """A regulator's case bundling confirmed findings, holding every party to account together."""
    __tablename__ = "cases"
    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    status: Mapped[str] = mapped_column(String(12), default="open", index=True)  # open | confirmed | dismissed
    opened_by: Mapped[str] = mapped_column(ID)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(DateTime)
    decision_reason: Mapped[str | None] = mapped_column(Text)


class CaseFinding(db.Model):
    __tablename__ = "case_findings"
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id"), primary_key=True)
    finding_id: Mapped[str] = mapped_column(ForeignKey("findings.id"), primary_key=True, index=True)


class CaseParty(db.Model):
    """Parties resolved when the case opens (from findings and the worker's employments then)."""
    __tablename__ = "case_parties"
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id"), primary_key=True)
    role: Mapped[str] = mapped_column(String(20), primary_key=True)
    party_id: Mapped[str] = mapped_column(ID, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    __table_args__ = (Index("ix_case_parties_party", "party_id"),)
