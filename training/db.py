"""The database handle and its engine settings; nothing here knows any model.

SQLite gets WAL, full synchronous writes and foreign keys, and transactions that take the write
lock up front (BEGIN IMMEDIATE) so that concurrent writers queue on busy_timeout instead of
failing on a lock upgrade; pysqlite's own transaction handling is switched off so that
savepoints (one per batch item) work.

``reader()`` is an engine of its own for hot read paths outside the session's unit of work
(API key lookup, verification): its connections run in autocommit, so a read holds no
transaction, never takes SQLite's write lock nor waits for a writer, and costs no BEGIN or
ROLLBACK round trip on PostgreSQL. With ``replica=True`` it reads from ``DATABASE_REPLICA_URL``
when one is configured. ``FastRead`` runs one select on it straight through the DBAPI.
"""
from __future__ import annotations

import secrets
from collections import namedtuple
from datetime import datetime, timezone

from flask import current_app
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase


class Base(DeclarativeBase):
    pass


db = SQLAlchemy(model_class=Base)


def new_id() -> str:
    """Opaque identifiers: 64 random bits, hex."""
    return secrets.token_hex(8)


def utcnow() -> datetime:
    """Naive UTC: the database stores UTC without an offset, the API adds it back."""
    return datetime.now(timezone.utc).replace(tzinfo=None)


def reader(replica: bool = False) -> Engine:
    """The autocommit engine for hot reads (made once per app): each statement sees what is
    committed. ``replica=True`` picks the replica when one is configured; a replica may lag the
    primary by its replication delay."""
    url = current_app.config.get("DATABASE_REPLICA_URL") if replica else None
    # The hot reads are primary-key probes, prepared by the driver after a few uses: plan them
    # once (generic plan) instead of re-planning a four-table join every time.
    return _autocommit(url, "plan_cache_mode=force_generic_plan", "FULL")


def relaxed() -> Engine:
    """An autocommit engine on the primary whose commits do not wait for the disk, for counts
    that may be lost in a power cut without harm (rate limits): PostgreSQL's
    ``synchronous_commit=off``, SQLite's ``synchronous=NORMAL`` (in WAL mode: durable across a
    crash of the process, not of the machine). Never for anything acknowledged to a user."""
    return _autocommit(None, "synchronous_commit=off", "NORMAL")


def _autocommit(url: str | None, pg_setting: str, sqlite_sync: str) -> Engine:
    cache = current_app.extensions.setdefault("anzheng.autocommit", {})
    engine = cache.get((url, pg_setting))
    if engine is None:
        target = url or db.engine.url
        if isinstance(target, str) and target.startswith("postgresql://"):
            target = "postgresql+psycopg://" + target[len("postgresql://"):]
        options = {}
        if make_url(target).get_backend_name() == "postgresql":
            options["connect_args"] = {"options": f"-c {pg_setting}"}
        # Autocommit connections hold no transaction, so there is nothing to roll back when one
        # goes back to the pool.
        fresh = create_engine(target, isolation_level="AUTOCOMMIT", pool_reset_on_return=None, **options)
        configure_sqlite(fresh, immediate=False, synchronous=sqlite_sync)
        engine = cache.setdefault((url, pg_setting), fresh)
    return engine


class FastRead:
    """One Core select, run on a pooled DBAPI cursor of ``reader()``'s engine.

    On the verification path SQLAlchemy's per-execution bookkeeping cost more than the query
    (profiled: ~70 µs a statement on SQLite; on PostgreSQL the statement took several times
    the raw driver's time). This compiles the statement once per dialect, with the values
    bound at build time (literals) set aside, and converts each value with its column's own
    type, as a Result would; bound values go to the driver as given (ids, text and bytes need
    no conversion). Each pooled connection keeps one cursor for these reads (a new psycopg
    cursor per read cost ~20 µs). A driver error discards the connection instead of returning
    it to the pool. Reads only, of at most one row (keyed probes), for the hottest paths only.
    """

    def __init__(self, stmt):
        self.stmt = stmt
        self.row = namedtuple("Row", [c.key for c in stmt.selected_columns], rename=True)
        self._compiled: dict = {}

    def _for(self, dialect):
        found = self._compiled.get(dialect.name)
        if found is None:
            compiled = self.stmt.compile(dialect=dialect)
            convert = tuple(c.type.dialect_impl(dialect).result_processor(dialect, None)
                            for c in self.stmt.selected_columns)
            fixed = {k: v for k, v in compiled.construct_params(_check=False).items() if v is not None}
            order = tuple(compiled.positiontup) if compiled.positional else None
            found = self._compiled[dialect.name] = (compiled.string, order, fixed, convert if any(convert) else None)
        return found

    def first(self, engine: Engine, **params):
        """The first row (a named tuple) or None."""
        sql, order, fixed, convert = self._for(engine.dialect)
        if order is not None:
            args = tuple(params[k] if k in params else fixed[k] for k in order)
        else:
            args = {**fixed, **params} if fixed else params
        conn = engine.raw_connection()
        try:
            cursor = conn.info.get(_CURSOR)
            if cursor is None or cursor.connection is not conn.driver_connection:
                cursor = conn.info[_CURSOR] = conn.driver_connection.cursor()
            cursor.execute(sql, args)
            row = cursor.fetchone()
        except BaseException:
            conn.invalidate()  # a broken connection must not go back to the pool
            raise
        finally:
            conn.close()
        if row is None:
            return None
        if convert is None:
            return self.row._make(row)
        return self.row._make([f(v) if f else v for f, v in zip(convert, row)])


_CURSOR = "anzheng.fast_read_cursor"


def configure_sqlite(engine: Engine, immediate: bool = True, synchronous: str = "FULL") -> None:
    """WAL, full sync, foreign keys; ``immediate``: transactions take the write lock up front
    (the session's engine; readers, which run in autocommit, need no transactions at all)."""
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record):
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute(f"PRAGMA synchronous={synchronous}")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.close()

    if immediate:
        @event.listens_for(engine, "begin")
        def _on_begin(conn):
            conn.exec_driver_sql("BEGIN IMMEDIATE")
