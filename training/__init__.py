"""The bottom layer: database, parties and accreditation, people, training evidence, accounts.

- ``db/``: the database handle, the audit trail, and the bookkeeping tables;
- ``web/``: HTTP plumbing (answers, idempotency, OpenAPI, CSRF, words) and the shared page frame;
- ``parties/``: organisations, API keys, accreditation, sites;
- ``people/``: workers, trainers, identity numbers (validated, masked, protected, looked up);
- ``evidence/``: sessions, attendance, exams, credentials, and what they add up to;
- ``accounts/``: personal accounts, sign-in, the second factor, API keys and roles;
- ``console/``: the console of a training body and an exam centre;
- ``clock`` (China time), ``catalogue`` (categories and rule sets), ``config``, ``errors`` (the
  domain errors and problem+json), ``sheets`` (reading CSV/XLSX uploads), ``signals``, ``cli``.

Imports never flow upward from here: ``certificates`` and ``verify`` build on this package and
learn of new evidence through ``training.signals`` (tests/test_layout.py holds this).
"""
from __future__ import annotations

from flask import Flask
from flask_migrate import Migrate

from training.config import secret_bytes
from training.db import configure_sqlite, db
from training.errors import register_handlers
from training.people.protector import IdentityProtector
from training.web import i18n

migrate = Migrate()


def init_app(app: Flask) -> None:
    db.init_app(app)
    with app.app_context():
        configure_sqlite(db.engine)
    migrate.init_app(app, db, directory=str(app.config["MIGRATIONS_DIR"]), render_as_batch=True)
    app.extensions["identity"] = IdentityProtector(secret_bytes(app.config, "ANZHENG_ID_HASH_KEY"),
                                                   secret_bytes(app.config, "ANZHENG_ID_ENC_KEY"))
    register_handlers(app)
    from training.accounts import roles
    roles.init_app(app)  # people's keys: their roles apply on every API endpoint
    i18n.init_app(app)
    # Route modules register on their blueprint when imported; the blueprints are then added.
    from training.accounts import guard, views as account_views  # noqa: F401  (routes register on import)
    from training.accounts.cli import register_cli as register_account_cli
    from training.cli import register_cli
    from training.console import (  # noqa: F401  (routes register on import)
        attendance as console_attendance,
        bp as console_bp,
        classes as console_classes,
        exams as console_exams,
        views as console_views,
    )
    from training.evidence import credentials, views as evidence_views  # noqa: F401  (routes register on import)
    from training.parties import views as party_views  # noqa: F401  (routes register on import)
    from training.people import views as people_views  # noqa: F401  (routes register on import)
    from training.web import bp as web_bp, views as web_views  # noqa: F401  (routes register on import)
    guard.init_app(app)  # the console's sessions and CSRF
    app.register_blueprint(console_bp)
    app.register_blueprint(web_bp)
    register_account_cli(app)
    register_cli(app)
