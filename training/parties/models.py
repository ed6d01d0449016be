"""Tables of the parties: organisations, their API keys, their accreditation (per category, with its
history) and the sites where work is done..
"""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    LargeBinary,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from training.db import db, new_id, utcnow
from training.db.models import ID


class Organization(db.Model):
    __tablename__ = "organizations"
    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20), index=True)
    credit_code: Mapped[str] = mapped_column(String(18), unique=True)
    region: Mapped[str | None] = mapped_column(String(6))
    industry: Mapped[str | None] = mapped_column(String(30))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class ApiKey(db.Model):
    __tablename__ = "api_keys"
    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    organization_id: Mapped[str] = mapped_column(ForeignKey("organizations.id"), index=True)
    secret_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    holder_name: Mapped[str | None] = mapped_column(String(100))
    holder_badge: Mapped[str | None] = mapped_column(String(50))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column(DateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime)
    organization: Mapped[Organization] = relationship(lazy="joined")


class Accreditation(db.Model):
    __tablename__ = "accreditations"
    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    organization_id: Mapped[str] = mapped_column(ForeignKey("organizations.id"), index=True)
    valid_from: Mapped[date] = mapped_column(Date)
    valid_until: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(12), default="active")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    categories: Mapped[list[AccreditationCategory]] = relationship(
        lazy="selectin", cascade="all, delete-orphan", order_by="AccreditationCategory.category")
    events: Mapped[list[AccreditationEvent]] = relationship(
        lazy="selectin", order_by="AccreditationEvent.at")


class AccreditationCategory(db.Model):
    __tablename__ = "accreditation_categories"
    accreditation_id: Mapped[str] = mapped_column(ForeignKey("accreditations.id"), primary_key=True)
    category: Mapped[str] = mapped_column(String(40), primary_key=True)
    __table_args__ = (Index("ix_accreditation_categories_category", "category"),)


class AccreditationEvent(db.Model):
    """History of an accreditation's status: kept, never rewritten."""
    __tablename__ = "accreditation_events"
    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    accreditation_id: Mapped[str] = mapped_column(ForeignKey("accreditations.id"), index=True)
    status: Mapped[str] = mapped_column(String(12))
    reason: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    by_key_id: Mapped[str | None] = mapped_column(ID)


class Site(db.Model):
    __tablename__ = "sites"
    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(200))
    enterprise_id: Mapped[str | None] = mapped_column(ForeignKey("organizations.id"), index=True)
    latitude: Mapped[float] = mapped_column(Float)
    longitude: Mapped[float] = mapped_column(Float)
    risk_class: Mapped[str] = mapped_column(String(12), default="normal")
    created_by: Mapped[str] = mapped_column(ID)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
