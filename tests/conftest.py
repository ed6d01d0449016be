"""Fixtures: an app per database backend (SQLite always; PostgreSQL when it answers), a fresh
schema per test session (through the real migrations), clean tables per test.

Tests that take ``app``, ``client``, ``runner`` or ``db_session`` run once per backend.
"""
from __future__ import annotations

import os
import socket

import pytest
from sqlalchemy import text

SECRETS = {name: "11" * 32 if "KEY" in name else "test-secret" for name in (
    "ANZHENG_ID_HASH_KEY", "ANZHENG_ID_ENC_KEY", "ANZHENG_KEY_PASSPHRASE", "SECRET_KEY")}
SECRETS["ANZHENG_ID_ENC_KEY"] = "22" * 32


def _postgres_base() -> str | None:
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        return url
    try:
        with socket.create_connection(("127.0.0.1", 5432), timeout=0.5):
            return "postgresql+psycopg://postgres@127.0.0.1:5432/test"
    except OSError:
        return None


PG_BASE = _postgres_base()
BACKENDS = ["sqlite"] + (["postgresql"] if PG_BASE else [])


def _fresh_pg_database(worker: str) -> str:
    import psycopg
    from sqlalchemy.engine import make_url
    base = make_url(PG_BASE.replace("postgresql://", "postgresql+psycopg://", 1))
    # The pid keeps concurrent runs on one machine (a developer's and CI's) out of each other's way.
    name = f"anzheng_test_{worker}_{os.getpid()}"
    admin = base.set(drivername="postgresql")
    with psycopg.connect(admin.render_as_string(hide_password=False), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return base.set(database=name).render_as_string(hide_password=False)


@pytest.fixture(scope="session", params=BACKENDS)
def _app(request, tmp_path_factory):
    from wsgi import create_app
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"
    else:
        url = _fresh_pg_database(worker)
    app = create_app({**SECRETS, "DATABASE_URL": url, "PUBLIC_BASE_URL": "https://verify.example.test",
                      "RATE_LIMIT_VERIFY": "off", "TESTING": True})
    with app.app_context():
        from training.cli import upgrade_schema
        upgrade_schema()
    yield app
    with app.app_context():
        from training.db import db
        db.engine.dispose()
    if request.param == "postgresql":
        _drop_pg_database(url)


def _drop_pg_database(url: str) -> None:
    import psycopg
    from sqlalchemy.engine import make_url
    u = make_url(url)
    admin = u.set(drivername="postgresql", database=make_url(PG_BASE).database)
    with psycopg.connect(admin.render_as_string(hide_password=False), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{u.database}" WITH (FORCE)')


def _clean(app) -> None:
    from training.db import db
    from verify.service import KeyTable
    app.extensions["key_table"] = KeyTable()  # per-process caches start empty with the tables
    with app.app_context():
        tables = [t.name for t in reversed(db.metadata.sorted_tables)] + ["alembic_version_unused"]
        tables = [t for t in tables if t in db.metadata.tables]
        with db.engine.begin() as conn:
            if db.engine.dialect.name == "postgresql":
                conn.execute(text("TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " CASCADE"))
            else:
                for t in tables:
                    conn.execute(text(f'DELETE FROM "{t}"'))


@pytest.fixture
def app(_app):
    _clean(_app)
    with _app.app_context():
        yield _app
        from training.db import db
        db.session.remove()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def backend(app) -> str:
    from training.db import db
    return db.engine.dialect.name
