"""Rate limits shared by every worker process: fixed windows counted in the database.

A counter row per (bucket, window) is bumped in its own short transaction, so the limit holds
across gunicorn workers and nodes without another service. Limits read like "60/minute";
"off" disables one. Failed API keys per client (``RATE_LIMIT_AUTH_FAILURES``, counted here
when ``training.accounts.api_keys`` reports one), appeals, receipts and the worker's page count every request
in the database (``hit``): they are rare, and each count is exact. So do lookups by identity
number (``count_id_lookups``, for ``training.people.lookups``), per organisation and per masked form.

Public verification (``RATE_LIMIT_VERIFY``) is the hottest path, and a database write per
verification would cost more than the verification. ``Batched`` counts it in the process and
adds the counts to the shared row in batches: once a client's unsent count reaches a twentieth
of its limit, and at least once a second while any are unsent. One process alone is exact; with
W processes a client can get at most ``limit + W * ceil(limit / 20)`` answers in a window before
the ``429`` (a process sees the others' counts when it sends its own), never fewer than
``limit``.
"""
from __future__ import annotations

import math
import random
import threading
import time
from collections import Counter
from contextlib import nullcontext

from flask import current_app
from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from training.accounts.api_keys import auth_failed
from training.db import db, relaxed
from training.people.lookups import OVERSIGHT_KINDS, id_lookup
from verify.verification.models import RateCounter

PERIODS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400}


def parse(spec: str | None) -> tuple[int, int] | None:
    """"60/minute" → (60, 60); "off" or empty → None. Raises ValueError on nonsense."""
    if spec is None or spec.strip().lower() in ("", "off", "none"):
        return None
    count, _, unit = spec.strip().partition("/")
    return int(count), PERIODS[unit.strip().lower().rstrip("s")]


def hit(bucket: str, limit: tuple[int, int] | None, conn=None) -> int | None:
    """Count one request; None if allowed, else the seconds to wait (for Retry-After).

    Counted in its own short write, which does not wait for the disk (``training.db.relaxed``),
    or on ``conn`` (in the caller's transaction) when given.
    """
    if limit is None:
        return None
    allowed, period = limit
    now = time.time()
    window = int(now // period)
    with (nullcontext(conn) if conn is not None else relaxed().connect()) as conn:
        count = _add(conn, bucket, window, 1, period)
    return _wait(count, allowed, window, period, now)


# No period is longer than a day: a window that started two days ago is over, whatever its period.
STALE = 2 * PERIODS["day"]


def _add(conn, bucket: str, window: int, n: int, period: int) -> int:
    """Add ``n`` to the shared count of (bucket, window); the count after it.

    The row keeps the window's start in seconds (``window * period``), so windows of every period
    compare on one scale: pruning the old ones by another bucket's window number once deleted a
    day's counts from a minute's bucket (a per-day limit reset at random)."""
    table = RateCounter.__table__
    insert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
    start = window * period
    stmt = (insert(table).values(bucket=bucket[:100], window=start, count=n)
            .on_conflict_do_update(index_elements=["bucket", "window"], set_={"count": table.c.count + n})
            .returning(table.c.count))
    count = conn.execute(stmt).scalar()
    if random.random() < 0.01:  # keep the table small without a separate job
        conn.execute(delete(table).where(table.c.window < int(time.time()) - STALE))
    return count


def shared_count(conn, bucket: str, limit: tuple[int, int]) -> int:
    """The shared count of ``bucket`` in the current window of ``limit``, without adding to it."""
    period = limit[1]
    table = RateCounter.__table__
    start = int(time.time() // period) * period
    return conn.execute(select(table.c.count).where(table.c.bucket == bucket[:100], table.c.window == start)).scalar() or 0


def _wait(count: int, allowed: int, window: int, period: int, now: float) -> int | None:
    if count > allowed:
        return max(1, int((window + 1) * period - now + 0.999))
    return None


class Batched:
    """A process's counts of one limit, sent to the shared rows in batches (see the module's
    docstring for the bound this keeps). ``clock`` and ``ticker`` are for tests."""

    FLUSH_SECONDS = 1.0

    def __init__(self, clock=time.time, ticker=time.monotonic):
        self._clock, self._ticker = clock, ticker
        self._lock = threading.Lock()
        self._unsent: dict[tuple[str, int, int], int] = {}   # counted here, not yet in the shared row
        self._shared: dict[tuple[str, int, int], int] = {}   # the shared row's count when last sent
        self._window = None
        self._sent_at = ticker()

    def hit(self, bucket: str, limit: tuple[int, int] | None) -> int | None:
        """Count one request; None if allowed, else the seconds to wait (for Retry-After)."""
        if limit is None:
            return None
        allowed, period = limit
        now = self._clock()
        window = int(now // period)
        key = (bucket[:100], window, period)
        with self._lock:
            if window != self._window:  # a new window: what was counted before no longer matters
                self._unsent = {k: v for k, v in self._unsent.items() if k[1] >= window}
                self._shared = {k: v for k, v in self._shared.items() if k[1] >= window}
                self._window = window
            self._unsent[key] = self._unsent.get(key, 0) + 1
            due = (self._unsent[key] >= math.ceil(allowed / 20)
                   or self._ticker() - self._sent_at >= self.FLUSH_SECONDS)
        if due:
            self.flush()
        with self._lock:
            count = self._shared.get(key, 0) + self._unsent.get(key, 0)
        return _wait(count, allowed, window, period, now)

    def flush(self) -> None:
        """Send every unsent count (writes that do not wait for the disk: a count lost in a
        power cut only lets a client a little further)."""
        with self._lock:
            batch, self._unsent = self._unsent, {}
            self._sent_at = self._ticker()
        if not batch:
            return
        try:
            with relaxed().connect() as conn:
                counts = {key: _add(conn, key[0], key[1], n, key[2]) for key, n in batch.items()}
        except BaseException:
            with self._lock:  # not sent: count them again next time
                for key, n in batch.items():
                    self._unsent[key] = self._unsent.get(key, 0) + n
            raise
        with self._lock:
            self._shared.update(counts)


@auth_failed.connect
def count_auth_failure(client, **_) -> int | None:
    """One failed key from this client: None while within the limit, else the seconds to wait."""
    limit = current_app.extensions.get("auth_failure_limit", "unset")
    if limit == "unset":
        limit = current_app.extensions["auth_failure_limit"] = parse(current_app.config["RATE_LIMIT_AUTH_FAILURES"])
    # In the session's transaction: training.accounts.api_keys commits it with the audit entry.
    return hit(f"auth:{client}", limit, db.session.connection())


@id_lookup.connect
def count_id_lookups(_, org_id: str, kind: str, persons: list, conn=None, **__):
    """Lookups by identity number (``training.people.lookups``): one organisation's and each person's
    (masked form's) counts, in one short write. (scope, seconds to wait, first refusal in the
    window?) for the tightest limit exceeded, else None. On ``conn`` when given (the session's)."""
    cfg = current_app.config
    org_limit = parse(cfg["RATE_LIMIT_ID_LOOKUP_INSPECTORATE" if kind in OVERSIGHT_KINDS else "RATE_LIMIT_ID_LOOKUP_ORG"])
    person_limit = parse(cfg["RATE_LIMIT_ID_LOOKUP_PERSON"])
    wanted = ([("organization", f"idorg:{org_id}", len(persons), org_limit)] if org_limit else []) + (
        [("person", f"idp:{p}", n, person_limit) for p, n in sorted(Counter(persons).items())] if person_limit else [])
    if not wanted:
        return None
    now, refused = time.time(), []
    with (nullcontext(conn) if conn is not None else relaxed().connect()) as conn:
        for scope, bucket, n, (allowed, period) in wanted:
            window = int(now // period)
            count = _add(conn, bucket, window, n, period)
            wait = _wait(count, allowed, window, period, now)
            if wait:
                refused.append((scope, wait, count - n <= allowed))
    return max(refused, key=lambda r: r[1]) if refused else None
