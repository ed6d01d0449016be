"""Reading scanned codes, verdicts, scans, pre-start checks, findings and cases, and pages.

The top layer: it reads certificates' public pieces (token decoding, models, lists) and never the
signer.
"""
from __future__ import annotations

from flask import Flask

from verify import ratelimit
from verify.service import KeyTable


def init_app(app: Flask) -> None:
    from verify import models, views  # noqa: F401  (tables register with the metadata)
    app.extensions["key_table"] = KeyTable()
    app.extensions["verify_limit"] = ratelimit.parse(app.config["RATE_LIMIT_VERIFY"])
    app.extensions["verify_counts"] = ratelimit.Batched()  # this process's share of that limit
    from verify import employment_models, notices, onsite, prestart_views  # noqa: F401  (tables, routes)
    from verify.prestart_cli import register_prestart_cli
    notices.connect()
    from verify import standing
    standing.install(app)  # induction is recorded only for workers the employer employs
    onsite.connect()
    register_prestart_cli(app)
    from verify import dashboard, findings_models, findings_views, rules  # noqa: F401  (tables, routes, rules)
    from verify.findings_cli import register_findings_cli
    rules.init_app(app)
    register_findings_cli(app)
    from verify.worker_views import bp as worker_bp  # the worker's own page
    app.register_blueprint(worker_bp)
    app.register_blueprint(views.bp)
    from verify import inspect_views
    app.register_blueprint(inspect_views.bp)
    from verify import fastpath
    fastpath.install(app)
    from verify.console_regulator_views import bp as regulator_console  # the regulator's console pages
    app.register_blueprint(regulator_console)
    from verify.console_employer_views import bp as employer_console_bp  # enterprises', agencies' pages
    app.register_blueprint(employer_console_bp)
