"""The employment side of standing: whether an organisation employs a worker, answered for the
lower layer, which records induction only for workers the employer holds an open employment of.

One small read through one function, so the meaning of an open employment (for example a
placement still waiting for the host's confirmation) is adjusted here alone. Must not: write
employments, or answer for anyone but the host and the agency or subcontractor in between.
"""
from __future__ import annotations

from datetime import date

from flask import Flask
from sqlalchemy import exists, or_, select

from training.db import db
from training.evidence.standing import install_employment_standing
from verify.employment.models import Employment
from verify.employment.service import counts_for


def employs(org_id: str, worker_id: str, day: date) -> bool:
    """An employment of the worker with the organisation as host (confirmed) or in between
    (``via_id``), not ended before ``day``. It may start later: induction comes before the first
    shift."""
    return db.session.scalar(select(exists().where(
        Employment.worker_id == worker_id, counts_for(org_id),
        or_(Employment.ends_on.is_(None), Employment.ends_on >= day))))


def install(app: Flask) -> None:
    install_employment_standing(app, employs)
