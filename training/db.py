"""The database handle and its engine settings; nothing here knows any model.

SQLite gets WAL, full synchronous writes and foreign keys, and transactions that take the write
lock up front (BEGIN IMMEDIATE) so that concurrent writers queue on busy_timeout instead of
failing on a lock upgrade; pysqlite's own transaction handling is switched off so that
savepoints (one per batch item) work.
"""
from __future__ import annotations

import secrets
from datetime import datetime, timezone

from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import event
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


def configure_sqlite(engine: Engine) -> None:
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record):
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=FULL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):
        conn.exec_driver_sql("BEGIN IMMEDIATE")
