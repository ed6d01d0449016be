"""Reads the rule families share: a worker's attendance joined to its sessions, and when a scan
happened as the rules weigh it."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from training.db import db
from training.evidence.models import Attendance, TrainingSession

A, _S = Attendance.__table__.c, TrainingSession.__table__.c  # A: attendance columns, shared
ATT = (select(A.id, A.worker_id, A.session_id, A.check_in, A.check_out, A.hours, A.created_at,
              _S.organization_id, _S.category, _S.kind, _S.starts_at, _S.ends_at, _S.trainer_id, _S.capacity,
              _S.latitude, _S.longitude, _S.location)
       .join_from(Attendance.__table__, TrainingSession.__table__, _S.id == A.session_id)
       .where(A.voided_at.is_(None)))
SYNC_LAG = timedelta(days=7)  # how late an offline device's scans may reach the server


def worker_rows(worker_id: str) -> list:
    return db.session.execute(ATT.where(A.worker_id == worker_id)).all()


def scan_time(received_at, scanned_at, offline, offset):
    """When a scan happened: the server's receipt for online scans, a device's time only with its
    measured offset (device minus server)."""
    if not offline:
        return received_at
    if scanned_at is None or offset is None:
        return None
    return scanned_at - timedelta(seconds=offset)
