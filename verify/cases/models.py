"""Tables of cases and appeals: the findings a case bundles, its parties and their statements,
the revocations it decided, appeals against findings, and bulk revocations of a body's certificates."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, DateTime, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from training.db import db, new_id, utcnow
from training.db.models import ID


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
