"""Tables of pre-start checks: every check an employer made, and the findings each answer rested on."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, DateTime, ForeignKey, Index, String, Text, event
from sqlalchemy.orm import Mapped, mapped_column

from training.db import db, new_id, utcnow
from training.db.models import ID


class PrestartCheck(db.Model):
    """One pre-start check as answered: the inputs, the whole signed answer, who asked and when.

    ``answer`` is the response body exactly as sent (signature included), so the receipt can be
    shown again and compared byte for byte with one a holder presents.
    """
    __tablename__ = "prestart_checks"
    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    worker_id: Mapped[str] = mapped_column(ForeignKey("workers.id"), index=True)
    role: Mapped[str] = mapped_column(String(40))
    employer_id: Mapped[str] = mapped_column(ForeignKey("organizations.id"), index=True)
    via_id: Mapped[str | None] = mapped_column(ForeignKey("organizations.id"))
    site_id: Mapped[str | None] = mapped_column(ForeignKey("sites.id"))
    starts_on: Mapped[date] = mapped_column(Date)
    cleared: Mapped[bool] = mapped_column(Boolean)
    organization_id: Mapped[str] = mapped_column(ForeignKey("organizations.id"), index=True)  # who asked
    key_id: Mapped[str] = mapped_column(ID)
    checked_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    inputs: Mapped[str] = mapped_column(Text)  # JSON: the request as the service read it
    answer: Mapped[str] = mapped_column(Text)  # JSON: the response, signature included
    kid: Mapped[str] = mapped_column(String(16))  # base64url of the list key's kid
    signature: Mapped[str] = mapped_column(String(100))  # base64url Ed25519 signature
    __table_args__ = (Index("ix_prestart_checks_worker_employer", "worker_id", "employer_id", "checked_at"),)


class PrestartCheckFinding(db.Model):
    """A finding a check showed: as a warning (open) or as a reason it was not cleared."""
    __tablename__ = "prestart_check_findings"
    check_id: Mapped[str] = mapped_column(ForeignKey("prestart_checks.id"), primary_key=True)
    finding_id: Mapped[str] = mapped_column(ForeignKey("findings.id"), primary_key=True, index=True)
    effect: Mapped[str] = mapped_column(String(10))  # warning | blocking


class ImmutableRecord(RuntimeError):
    """Raised when code tries to change a stored pre-start check."""


@event.listens_for(PrestartCheck, "before_update")
@event.listens_for(PrestartCheckFinding, "before_update")
def _refuse_update(_mapper, _conn, target):
    raise ImmutableRecord(f"{type(target).__name__} records are never edited")


@event.listens_for(PrestartCheck, "before_delete")
@event.listens_for(PrestartCheckFinding, "before_delete")
def _refuse_delete(_mapper, _conn, target):
    raise ImmutableRecord(f"{type(target).__name__} records are never deleted")
