"""Tables around findings: the records each finding rests on, rule counters, appeals, on-site
inspections and their checks, statements heard in cases, and bulk revocations.

Nothing here is ever edited to rewrite history: appeals and statements are appended, decisions
are stamped beside them. Identity numbers appear only as a keyed hash and the masked form.
"""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from training.db import db, new_id, utcnow
from training.models import ID


class FindingRecord(db.Model):
    """Which evidence records a finding rests on (``attendance:<id>``, ``exam:<id>``, ...), so
    voiding a record finds the findings to withdraw with one indexed lookup."""
    __tablename__ = "finding_records"
    ref: Mapped[str] = mapped_column(String(40), primary_key=True)
    finding_id: Mapped[str] = mapped_column(ForeignKey("findings.id"), primary_key=True, index=True)


class RuleCounter(db.Model):
    """Running counts behind the per-body signals (issuance per day, exam scores per month,
    far-from-home trainees per month), so a rule reads a few rows instead of a body's history.
    Rebuilt from the records by ``findings-rerun``."""
    __tablename__ = "rule_counters"
    key: Mapped[str] = mapped_column(String(120), primary_key=True)
    count: Mapped[int] = mapped_column(Integer, default=0)


class Appeal(db.Model):
    __tablename__ = "appeals"
    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    finding_id: Mapped[str] = mapped_column(ForeignKey("findings.id"), index=True)
    by_role: Mapped[str] = mapped_column(String(20))  # worker | the party role of the organisation
    by_org: Mapped[str | None] = mapped_column(ID)
    by_key: Mapped[str | None] = mapped_column(ID)
    by_worker: Mapped[str | None] = mapped_column(ForeignKey("workers.id"))
    explanation: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(12), default="pending")  # pending | upheld | rejected
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(DateTime)
    decided_by: Mapped[str | None] = mapped_column(ID)
    decision_reason: Mapped[str | None] = mapped_column(Text)
    __table_args__ = (Index("ix_appeals_status_time", "status", "created_at"),)


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


class CaseStatement(db.Model):
    """A party's statement in a case (or the record that it declined or did not answer)."""
    __tablename__ = "case_statements"
    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id"), index=True)
    party_role: Mapped[str] = mapped_column(String(20))
    party_id: Mapped[str] = mapped_column(ID)
    kind: Mapped[str] = mapped_column(String(12))  # statement | declined | no_response
    text: Mapped[str] = mapped_column(Text)
    recorded_by_org: Mapped[str] = mapped_column(ID)
    recorded_by_key: Mapped[str | None] = mapped_column(ID)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class CaseRevocation(db.Model):
    """Certificates a confirmed case revoked, kept for the case page and the report."""
    __tablename__ = "case_revocations"
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id"), primary_key=True)
    serial: Mapped[str] = mapped_column(ForeignKey("certificates.serial"), primary_key=True)


class BulkRevocation(db.Model):
    """One action revoking every certificate a body issued in a period, with its report."""
    __tablename__ = "bulk_revocations"
    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    issuer_id: Mapped[str] = mapped_column(ForeignKey("organizations.id"), index=True)
    issued_from: Mapped[date] = mapped_column(Date)
    issued_until: Mapped[date] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(Text)
    case_id: Mapped[str | None] = mapped_column(ForeignKey("cases.id"))
    by_org: Mapped[str] = mapped_column(ID)
    by_key: Mapped[str | None] = mapped_column(ID)
    report: Mapped[str] = mapped_column(Text, default="{}")  # JSON: revoked and skipped serials
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
