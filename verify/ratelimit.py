"""Rate limits shared by every worker process: fixed windows counted in the database.

A counter row per (bucket, window) is bumped in its own short transaction, so the limit holds
across gunicorn workers and nodes without another service. Limits read like "60/minute";
"off" disables one (benchmarks do). Two limits use it: public verification per client
(``RATE_LIMIT_VERIFY``, in the views) and failed API keys per client
(``RATE_LIMIT_AUTH_FAILURES``, counted here when ``training.auth`` reports one).
"""
from __future__ import annotations

import random
import time
from contextlib import nullcontext

from flask import current_app
from sqlalchemy import delete
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from training.auth import auth_failed
from training.db import db

from .models import RateCounter

PERIODS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400}


def parse(spec: str | None) -> tuple[int, int] | None:
    """"60/minute" → (60, 60); "off" or empty → None. Raises ValueError on nonsense."""
    if spec is None or spec.strip().lower() in ("", "off", "none"):
        return None
    count, _, unit = spec.strip().partition("/")
    return int(count), PERIODS[unit.strip().lower().rstrip("s")]


def hit(bucket: str, limit: tuple[int, int] | None, conn=None) -> int | None:
    """Count one request; None if allowed, else the seconds to wait (for Retry-After).

    Counted in its own short transaction, or on ``conn`` (in the caller's) when given.
    """
    if limit is None:
        return None
    allowed, period = limit
    now = time.time()
    window = int(now // period)
    table = RateCounter.__table__
    insert = pg_insert if db.engine.dialect.name == "postgresql" else sqlite_insert
    stmt = (insert(table).values(bucket=bucket[:100], window=window, count=1)
            .on_conflict_do_update(index_elements=["bucket", "window"], set_={"count": table.c.count + 1})
            .returning(table.c.count))
    with (nullcontext(conn) if conn is not None else db.engine.begin()) as conn:
        count = conn.execute(stmt).scalar()
        if random.random() < 0.01:  # keep the table small without a separate job
            conn.execute(delete(table).where(table.c.window < window - 1))
    if count > allowed:
        return max(1, int((window + 1) * period - now + 0.999))
    return None


@auth_failed.connect
def count_auth_failure(client, **_) -> int | None:
    """One failed key from this client: None while within the limit, else the seconds to wait."""
    limit = current_app.extensions.get("auth_failure_limit", "unset")
    if limit == "unset":
        limit = current_app.extensions["auth_failure_limit"] = parse(current_app.config["RATE_LIMIT_AUTH_FAILURES"])
    # In the session's transaction: training.auth commits it with the audit entry.
    return hit(f"auth:{client}", limit, db.session.connection())
