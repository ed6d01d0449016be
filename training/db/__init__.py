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

import itertools
import os
import re
import secrets
from collections import namedtuple
from datetime import UTC, date, datetime

from flask import current_app
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.sql import sqltypes


class Base(DeclarativeBase):
    pass


db = SQLAlchemy(model_class=Base)


def new_id() -> str:
    """Opaque identifiers: 64 random bits, hex."""
    return secrets.token_hex(8)


def utcnow() -> datetime:
    """Naive UTC: the database stores UTC without an offset, the API adds it back."""
    return datetime.now(UTC).replace(tzinfo=None)


def reader(replica: bool = False) -> Engine:
    """The autocommit engine for hot reads (made once per app): each statement sees what is
    committed. ``replica=True`` picks the replica when one is configured; a replica may lag the
    primary by its replication delay."""
    url = current_app.config.get("DATABASE_REPLICA_URL") if replica else None
    # The hot reads are primary-key probes, prepared once per connection: plan them once
    # (generic plan) instead of re-planning a four-table join every time. FastRead reads dates
    # and bytea in PostgreSQL's text format: fix the two settings that shape it.
    return _autocommit(url, "plan_cache_mode=force_generic_plan -c DateStyle=ISO -c bytea_output=hex", "FULL")


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
    """One Core select, run straight through the driver on a pooled connection of ``reader()``'s
    engine.

    On the verification path SQLAlchemy's per-execution bookkeeping cost more than the query
    (profiled: ~70 µs a statement on SQLite; on PostgreSQL the statement took several times
    the raw driver's time). This compiles the statement once per dialect, with the values
    bound at build time (literals) set aside.

    SQLite: one cursor per pooled connection (a new cursor per read cost), values converted by
    each column's own type, as a Result would. PostgreSQL: the statement is prepared once per
    connection and run with libpq's PQexecPrepared through psycopg's documented ``pq`` layer,
    and the text-format values are converted here by column type: psycopg's cursor machinery
    cost about 50 µs of the ~87 µs of client CPU the registry read took (bench: 86.6 against
    36.8 µs). A statement with a column type not converted here keeps psycopg's cursor.

    Bound values go to the driver as given: text, bytes, integers or None. A driver error
    discards the connection instead of returning it to the pool. Reads only, of at most one row
    (keyed probes), for the hottest paths only.
    """

    def __init__(self, stmt):
        self.stmt = stmt
        self.row = namedtuple("Row", [c.key for c in stmt.selected_columns], rename=True)
        self._compiled: dict = {}
        self._name = f"anzheng_fast_{next(_STATEMENTS)}".encode()

    def _for(self, dialect):
        found = self._compiled.get(dialect.name)
        if found is None:
            compiled = self.stmt.compile(dialect=dialect)
            convert = tuple(c.type.dialect_impl(dialect).result_processor(dialect, None)
                            for c in self.stmt.selected_columns)
            fixed = {k: v for k, v in compiled.construct_params(_check=False).items() if v is not None}
            order = tuple(compiled.positiontup) if compiled.positional else None
            pq_plan = _pq_plan(compiled, self.stmt) if dialect.driver == "psycopg" else None
            found = self._compiled[dialect.name] = (compiled.string, order, fixed, convert if any(convert) else None,
                                                    pq_plan)
        return found

    def first(self, engine: Engine, **params):
        """The first row (a named tuple) or None."""
        sql, order, fixed, convert, pq_plan = self._for(engine.dialect)
        if pq_plan is not None:
            return self._first_pq(engine, pq_plan, fixed, params)
        if order is not None:
            args = tuple(params[k] if k in params else fixed[k] for k in order)
        else:
            args = {**fixed, **params} if fixed else params
        with _Pooled(engine) as conn:
            cursor = conn.info.get(_CURSOR)
            if cursor is None or cursor.connection is not conn.driver_connection:
                cursor = conn.info[_CURSOR] = conn.driver_connection.cursor()
            cursor.execute(sql, args)
            row = cursor.fetchone()
        if row is None:
            return None
        if convert is None:
            return self.row._make(row)
        return self.row._make([f(v) if f else v for f, v in zip(convert, row)])

    def _first_pq(self, engine: Engine, plan, fixed: dict, params: dict):
        sql, names, loaders = plan
        values, formats = [], []
        for name in names:
            v = params[name] if name in params else fixed[name]
            if v is None or type(v) is bytes:
                values.append(v)
                formats.append(1)  # bytes go as they are (binary); None is NULL either way
            elif type(v) is str:
                values.append(v.encode())
                formats.append(0)
            elif type(v) is int:
                values.append(str(v).encode())
                formats.append(0)
            else:
                raise TypeError(f"FastRead binds text, bytes, integers or None, not {type(v).__name__}")
        with _Pooled(engine) as conn:
            pg = conn.driver_connection.pgconn
            ready = conn.info.get(_PREPARED)
            if ready is None or ready[0] is not pg:
                ready = conn.info[_PREPARED] = (pg, set())
            if self._name not in ready[1]:
                _pq_check(pg.prepare(self._name, sql, None), _pq.ExecStatus.COMMAND_OK)
                ready[1].add(self._name)
            res = _pq_check(pg.exec_prepared(self._name, values, formats, 0), _pq.ExecStatus.TUPLES_OK)
            raw = [res.get_value(0, i) for i in range(res.nfields)] if res.ntuples else None
        if raw is None:
            return None
        return self.row._make([None if v is None else f(v) for f, v in zip(loaders, raw)])


class _Pooled:
    """A pooled DBAPI connection for one read; one a driver error broke is discarded, not pooled."""

    __slots__ = ("engine", "conn")

    def __init__(self, engine: Engine):
        self.engine = engine

    def __enter__(self):
        self.conn = self.engine.raw_connection()
        return self.conn

    def __exit__(self, kind, _error, _trace):
        if kind is not None:
            self.conn.invalidate()
        self.conn.close()
        return False


_CURSOR = "anzheng.fast_read_cursor"
_PREPARED = "anzheng.fast_read_prepared"  # (the libpq connection, names prepared on it)
_pq = None  # psycopg.pq, imported by _pq_plan
_STATEMENTS = itertools.count(1)


def _pq_check(res, wanted):
    if res.status != wanted:
        import psycopg
        message = (res.error_message or b"").decode(errors="replace").strip()
        raise psycopg.DatabaseError(message or f"unexpected result status {res.status!r}")
    return res


def _bytea(v: bytes) -> bytes:
    if not v.startswith(b"\\x"):
        raise ValueError("bytea in text format other than hex")
    return bytes.fromhex(v[2:].decode())


# PostgreSQL's text format, read back as psycopg would for these column types.
_LOADERS = (
    (sqltypes.Boolean, lambda v: v == b"t"),
    (sqltypes.Integer, int),
    (sqltypes.DateTime, lambda v: datetime.fromisoformat(v.decode())),
    (sqltypes.Date, lambda v: date.fromisoformat(v.decode())),
    (sqltypes.String, bytes.decode),
    (sqltypes.LargeBinary, _bytea),
)


def _pq_plan(compiled, stmt):
    """($n-numbered SQL, parameter names in order, a loader per column) for libpq, or None when
    a column's type is not one read here (that statement keeps psycopg's cursor)."""
    global _pq
    from psycopg import pq as _pq  # only where the engine is psycopg's
    loaders = []
    for column in stmt.selected_columns:
        kind = column.type
        if isinstance(kind, sqltypes.DateTime) and getattr(kind, "timezone", False):
            return None
        loader = next((f for t, f in _LOADERS if isinstance(kind, t)), None)
        if loader is None:
            return None
        loaders.append(loader)
    if "%%" in compiled.string:
        return None
    names: list[str] = []

    def number(match):
        if match.group(1) not in names:
            names.append(match.group(1))
        return f"${names.index(match.group(1)) + 1}"
    sql = re.sub(r"%\((\w+)\)s", number, compiled.string)
    if "%" in sql:
        return None
    return sql.encode(), tuple(names), tuple(loaders)


def private_file(path: str | None) -> None:
    """Make the SQLite file (and its WAL files, which SQLite gives the main file's mode) readable
    by the service's user only: it holds the encrypted keys and the people's records."""
    if not path or path == ":memory:" or path.startswith("file:"):
        return
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        for name in (path, path + "-wal", path + "-shm"):
            if os.path.exists(name) and os.stat(name).st_mode & 0o077:
                os.chmod(name, 0o600)
    except FileNotFoundError:
        pass  # no such folder: SQLite says so itself when it connects


def configure_sqlite(engine: Engine, immediate: bool = True, synchronous: str = "FULL") -> None:
    """WAL, full sync, foreign keys; ``immediate``: transactions take the write lock up front
    (the session's engine; readers, which run in autocommit, need no transactions at all)."""
    if engine.dialect.name != "sqlite":
        return
    private_file(engine.url.database)

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
