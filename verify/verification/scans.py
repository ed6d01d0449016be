"""Scan records: every verification made with an inspector's (or regulator's) key is kept, with
the officer, the place and the time, then handed to the fraud rules through ``scan_recorded``.

Scan locations are movement records: only regulators read them, and they are deleted after the
configured retention (``SCAN_RETENTION_DAYS``).
"""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete, insert

from training.accounts.api_keys import Caller
from training.db import db, new_id, utcnow
from training.errors import Unprocessable, field_error
from training.parties.models import Site
from verify.signals import scan_recorded
from verify.verification.models import Scan
from verify.verification.service import Outcome

_INSERT = insert(Scan.__table__)


def record_scan(outcome: Outcome, caller: Caller, data: dict, offline: bool = False,
                clock_offset_s: int | None = None) -> Scan:
    site_id = data.get("site_id")
    site = db.session.get(Site, site_id) if site_id is not None else None
    if site_id is not None and site is None:
        raise Unprocessable("Unknown site.", [field_error("site_id", "not_found", "No site with this id.")])
    row = {"id": new_id(), "serial": outcome.serial, "token_hash": outcome.token_hash, "result": outcome.result,
           "reasons": " ".join(outcome.reasons), "organization_id": caller.org_id, "key_id": caller.key_id,
           "officer_name": caller.holder_name, "officer_badge": caller.holder_badge, "site_id": site_id,
           "latitude": data.get("latitude"), "longitude": data.get("longitude"),
           "scanned_at": data.get("scanned_at"), "clock_offset_s": clock_offset_s, "received_at": utcnow(),
           "offline": int(offline), "client_ref": data.get("client_ref")}
    # One plain INSERT, not the ORM's flush of a new object (a few times dearer, on every keyed
    # verification). What goes on is the row as a Scan kept out of the session: read, never changed.
    db.session.execute(_INSERT, row)
    scan = Scan(**row)
    # The site goes along (and stays referenced, so the session's weak identity map keeps it for
    # receivers that get it again): no rule reads it a second time.
    scan_recorded.send(scan, outcome=outcome, site=site)
    return scan


def purge_old_scans(retention_days: int) -> int:
    """Delete scans older than the retention; returns how many went."""
    cutoff = utcnow() - timedelta(days=retention_days)
    return db.session.execute(delete(Scan).where(Scan.received_at < cutoff)).rowcount or 0
