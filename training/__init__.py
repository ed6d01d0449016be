"""The bottom layer: database, parties and accreditation, people, training evidence.

Imports never flow upward from here: ``certificates`` and ``verify`` build on this package and
learn of new evidence through ``training.signals``.
"""
from __future__ import annotations

from flask import Flask
from flask_migrate import Migrate

from training import i18n
from training.config import secret_bytes
from training.db import configure_sqlite, db
from training.errors import register_handlers
from training.identity import IdentityProtector

migrate = Migrate()


def init_app(app: Flask) -> None:
    db.init_app(app)
    with app.app_context():
        configure_sqlite(db.engine)
    migrate.init_app(app, db, directory=str(app.config["MIGRATIONS_DIR"]), render_as_batch=True)
    app.extensions["identity"] = IdentityProtector(secret_bytes(app.config, "ANZHENG_ID_HASH_KEY"),
                                                   secret_bytes(app.config, "ANZHENG_ID_ENC_KEY"))
    register_handlers(app)
    from training.auth import init_app as init_auth
    init_auth(app)  # people's keys: their roles apply on every API endpoint
    i18n.init_app(app)
    from training import credentials, evidence_views, views  # noqa: F401  (routes register on import)
    from training.accounts_views import register as register_console  # personal accounts and the console
    from training.cli import register_cli
    register_console(app)
    app.register_blueprint(views.bp)
    register_cli(app)
