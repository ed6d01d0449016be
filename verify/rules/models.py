"""Tables of the fraud rules: counters the rules keep per key (a body's issuance per day, a centre's scores per month)."""
from __future__ import annotations

from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from training.db import db


class RuleCounter(db.Model):
    """Running counts behind the per-body signals (issuance per day, exam scores per month,
    far-from-home trainees per month), so a rule reads a few rows instead of a body's history.
    Rebuilt from the records by ``findings-rerun``."""
    __tablename__ = "rule_counters"
    key: Mapped[str] = mapped_column(String(120), primary_key=True)
    count: Mapped[int] = mapped_column(Integer, default=0)
