"""The application: the one module that sees all three packages and wires them together.

``create_app(config=None)`` builds the service; ``app`` is what ``gunicorn wsgi:app`` serves.
"""
from __future__ import annotations

import logging

from flask import Flask

import certificates
import training
import verify
from training import config as settings


def create_app(config: dict | None = None) -> Flask:
    app = Flask(__name__, instance_path=str(settings.INSTANCE))
    app.config.update(settings.load(config))
    app.config.setdefault("MIGRATIONS_DIR", settings.ROOT / "migrations")
    app.json.ensure_ascii = False
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    training.init_app(app)
    certificates.init_app(app)
    verify.init_app(app)
    return app


def __getattr__(name: str):
    # Built on first use, so that importing this module (tests, tools) makes no app by accident.
    if name in ("app", "application"):
        global app
        app = create_app()
        return app
    raise AttributeError(name)
