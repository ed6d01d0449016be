"""Tables around findings: the records each finding rests on, rule counters, appeals, on-site
inspections and their checks, statements heard in cases, and bulk revocations.

Nothing here is ever edited to rewrite history: appeals and statements are appended, decisions
are stamped beside them. Identity numbers appear only as a keyed hash and the masked form.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from training.db import db, new_id, utcnow
from training.db.models import ID


class FindingRecord(db.Model):
    """Which evidence records a finding rests on (``attendance:<id>``, ``exam:<id>``, ...), so
    voiding a record finds the findings to withdraw with one indexed lookup."""
    __tablename__ = "finding_records"
    ref: Mapped[str] = mapped_column(String(40), primary_key=True)
    finding_id: Mapped[str] = mapped_column(ForeignKey("findings.id"), primary_key=True, index=True)


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
