"""Keys, signed tokens, QR codes, issuance, revocation, the trust and status lists.

Builds on ``training``; never imports ``verify``. The signer (the only holder of private keys)
is made here once per process and handed to services as a collaborator.
"""
from __future__ import annotations

from flask import Flask

from .signing import Signer


def init_app(app: Flask) -> None:
    from . import models  # noqa: F401  (tables register with the metadata)
    from . import views
    from .cli import register_cli
    app.extensions["signer"] = Signer(app.config["ANZHENG_KEY_PASSPHRASE"])
    app.register_blueprint(views.bp)
    register_cli(app)
