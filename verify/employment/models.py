"""Tables of employment and pre-start checks: who works where in which role, every check an
employer ran before a shift (kept, signed, never edited), and the notices sent to employers.

Must not: update or delete a pre-start check (an ORM guard refuses it), or store a full identity
number anywhere (the worker is referred to by id; pages and files show the masked number).
"""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, DateTime, ForeignKey, Index, String, Text, func
from sqlalchemy.orm import Mapped, mapped_column

from training.db import db, new_id, utcnow
from training.db.models import ID


class Employment(db.Model):
    """A worker placed with a host (``employer_id``), perhaps through a labour agency or a
    subcontractor (``via_id``), in a role, from a date, until ``ends_on`` when it ends.

    ``status`` is ``active``, or ``pending`` for a placement an agency or subcontractor recorded
    and the host has not yet confirmed: until then it gives the host nothing (no standing, no
    notices, no place among a case's parties), so no one can attach a host it does not work for."""
    __tablename__ = "employments"
    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    worker_id: Mapped[str] = mapped_column(ForeignKey("workers.id"))
    employer_id: Mapped[str] = mapped_column(ForeignKey("organizations.id"), index=True)
    via_id: Mapped[str | None] = mapped_column(ForeignKey("organizations.id"), index=True)
    site_id: Mapped[str | None] = mapped_column(ForeignKey("sites.id"), index=True)
    role: Mapped[str] = mapped_column(String(40))
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    created_by: Mapped[str] = mapped_column(ID)  # organisation
    created_by_key: Mapped[str | None] = mapped_column(ID)
    ended_by_key: Mapped[str | None] = mapped_column(ID)
    status: Mapped[str] = mapped_column(String(10), default="active", server_default="active")
    confirmed_by_key: Mapped[str | None] = mapped_column(String(16))
    __table_args__ = (Index("ix_employments_worker_employer", "worker_id", "employer_id"),)


# One open employment per worker, host, via and role, held by the database so that two requests
# at once cannot both record it (the service's SELECT alone cannot). COALESCE because NULLs never
# collide in a unique index, and a direct hire (no via) is the commonest case.
Index("uq_employments_open", Employment.worker_id, Employment.employer_id,
      func.coalesce(Employment.via_id, ""), Employment.role, unique=True,
      postgresql_where=Employment.ends_on.is_(None), sqlite_where=Employment.ends_on.is_(None))


class Notice(db.Model):
    """A message to one organisation about a worker placed with it (or a check it ran)."""
    __tablename__ = "notices"
    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    organization_id: Mapped[str] = mapped_column(ForeignKey("organizations.id"))
    kind: Mapped[str] = mapped_column(String(40))
    text: Mapped[str] = mapped_column(Text)
    text_en: Mapped[str] = mapped_column(Text)
    worker_id: Mapped[str | None] = mapped_column(ForeignKey("workers.id"))
    serial: Mapped[str | None] = mapped_column(String(19))
    finding_id: Mapped[str | None] = mapped_column(ID)
    check_id: Mapped[str | None] = mapped_column(ID)
    employment_id: Mapped[str | None] = mapped_column(ID)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(DateTime)
    __table_args__ = (Index("ix_notices_org_time", "organization_id", "created_at"),)
