"""Tables of people: workers and trainers, each known by a keyed hash of the identity number and
holding it only encrypted..
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    DateTime,
    LargeBinary,
    String,
)
from sqlalchemy.orm import Mapped, mapped_column

from training.db import db, new_id, utcnow
from training.db.models import ID


class Person:
    """Columns shared by workers and trainers: a person registered once by identity number."""
    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(100))
    id_hash: Mapped[str] = mapped_column(String(64), unique=True)
    id_cipher: Mapped[bytes] = mapped_column(LargeBinary)
    id_masked: Mapped[str] = mapped_column(String(18))
    home_region: Mapped[str] = mapped_column(String(6))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    created_by: Mapped[str | None] = mapped_column(ID)


class Worker(Person, db.Model):
    __tablename__ = "workers"


class Trainer(Person, db.Model):
    __tablename__ = "trainers"
