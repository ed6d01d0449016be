"""Reading scanned codes, verdicts, scans, pre-start checks, findings and cases, and pages.

The top layer: it reads certificates' public pieces (token decoding, models, lists) and never the
signer (a pre-start receipt is signed through ``certificates.receipts``). One package per domain:

- ``verification/``: the offline verdict, online verification, the keyless fast path, scan
  records and the page behind every QR code;
- ``rules/``: the fraud rules, one module per evidence family, their thresholds in
  ``rules/data/rules.json``; ``findings/``: raising, reviewing and counting findings;
  ``cases/``: appeals, cases and bulk revocations;
- ``employment/``: placements, standing and notices; ``prestart/``: pre-start checks, their
  receipts and crews; ``inspections/``: the scanner app, inspections and on-site findings;
- ``worker/``: the worker's own page; ``console/employer/`` and ``console/regulator/``: the
  consoles' pages; ``web/``: the API blueprint and rate limits.

Must not: import the signer; be imported by ``training`` or ``certificates`` (they signal).
"""
from __future__ import annotations

from flask import Flask

from verify.verification.service import KeyTable
from verify.web import ratelimit


def init_app(app: Flask) -> None:
    # Tables register with the metadata, and routes with their blueprints, as these are imported.
    from verify.cases import appeals, models as cases_models  # noqa: F401
    from verify.console import employer, regulator
    from verify.console.employer import (  # noqa: F401
        checks,
        crews,
        induction,
        notices as employer_notices,
        pages as employer_pages,
        placements,
    )
    from verify.console.regulator import (  # noqa: F401
        dashboard,
        findings as regulator_findings,
        organisations,
        pages as regulator_pages,
        revocations,
    )
    from verify.employment import models as employment_models, notices, standing  # noqa: F401
    from verify.findings import models as findings_models, views as findings_views  # noqa: F401
    from verify.findings.cli import register_findings_cli
    from verify.inspections import (  # noqa: F401
        bp as inspect_bp,
        models as inspection_models,
        onsite,
        views as inspect_views,  # noqa: F401
    )
    from verify.prestart import models as prestart_models, views as prestart_views  # noqa: F401
    from verify.prestart.cli import register_prestart_cli
    from verify.rules import models as rules_models, wiring  # noqa: F401
    from verify.verification import fastpath, models, moved, views  # noqa: F401
    from verify.web import bp
    from verify.worker import bp as worker_bp, views as worker_views  # noqa: F401
    app.extensions["key_table"] = KeyTable()
    app.extensions["verify_limit"] = ratelimit.parse(app.config["RATE_LIMIT_VERIFY"])
    app.extensions["verify_counts"] = ratelimit.Batched()  # this process's share of that limit
    notices.connect()
    standing.install(app)  # induction is recorded only for workers the employer employs
    onsite.connect()
    wiring.init_app(app)
    register_prestart_cli(app)
    register_findings_cli(app)
    app.register_blueprint(worker_bp)  # the worker's own page
    app.register_blueprint(bp)
    app.register_blueprint(inspect_bp)  # the scanner
    fastpath.install(app)
    app.register_blueprint(regulator.bp)  # the regulator's console pages
    app.register_blueprint(employer.bp)  # enterprises', agencies' and subcontractors' pages
