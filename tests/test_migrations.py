"""The migrations build exactly the schema the models describe, on every backend."""
from __future__ import annotations

import os
import tempfile

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from tests.conftest import PG_BASE, SECRETS, _drop_pg_database, _fresh_pg_database


@pytest.mark.parametrize("backend", ["sqlite"] + (["postgresql"] if PG_BASE else []))
def test_migrations_match_models(backend):
    from training.cli import upgrade_schema
    from training.db import db
    from wsgi import create_app
    if backend == "sqlite":
        url = f"sqlite:///{tempfile.mkdtemp()}/migrations.db"
    else:
        url = _fresh_pg_database(f"mig{os.environ.get('PYTEST_XDIST_WORKER', '')}")
    app = create_app({**SECRETS, "DATABASE_URL": url})
    try:
        with app.app_context():
            upgrade_schema()
            with db.engine.connect() as conn:
                diff = compare_metadata(MigrationContext.configure(conn), db.metadata)
            db.engine.dispose()
        assert diff == [], "models changed without a migration: " + repr(diff)[:2000]
    finally:
        if backend == "postgresql":
            _drop_pg_database(url)
