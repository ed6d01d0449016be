"""Tables of a training body's console: its classes (a course run for a group), their members and the
sessions planned for them..
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from training.db import db, new_id, utcnow
from training.db.models import ID
from training.people.models import Worker


class TrainingClass(db.Model):
    """A training body's class (培训班): one category, a roster, and the sessions it sits."""
    __tablename__ = "training_classes"
    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    organization_id: Mapped[str] = mapped_column(ForeignKey("organizations.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    category: Mapped[str] = mapped_column(String(40))
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    created_by: Mapped[str | None] = mapped_column(ID)


class ClassMember(db.Model):
    __tablename__ = "class_members"
    class_id: Mapped[str] = mapped_column(ForeignKey("training_classes.id"), primary_key=True)
    worker_id: Mapped[str] = mapped_column(ForeignKey("workers.id"), primary_key=True, index=True)
    added_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    added_by: Mapped[str | None] = mapped_column(ID)
    worker: Mapped[Worker] = relationship(lazy="joined")


class ClassSession(db.Model):
    __tablename__ = "class_sessions"
    class_id: Mapped[str] = mapped_column(ForeignKey("training_classes.id"), primary_key=True)
    session_id: Mapped[str] = mapped_column(ForeignKey("sessions.id"), primary_key=True, unique=True)
