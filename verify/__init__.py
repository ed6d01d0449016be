"""Reading scanned codes, verdicts, scans, pre-start checks, findings and cases, and pages.

The top layer: it reads certificates' public pieces (token decoding, models, lists) and never the
signer.
"""
from __future__ import annotations

from flask import Flask

from . import ratelimit
from .service import KeyTable


def init_app(app: Flask) -> None:
    from . import models  # noqa: F401  (tables register with the metadata)
    from . import views
    app.extensions["key_table"] = KeyTable()
    app.extensions["verify_limit"] = ratelimit.parse(app.config["RATE_LIMIT_VERIFY"])
    app.register_blueprint(views.bp)
