"""The application: the one module that sees all three packages and wires them together.

``create_app(config=None)`` builds the service; ``app`` is what ``gunicorn wsgi:app`` serves.
The ``demo`` command lives here too, because demo data spans all three packages.
"""
from __future__ import annotations

import json
import logging
import os

import click
from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

import certificates
import training
import verify
from training import config as settings

DEMO_REGULATOR = "郑州市应急管理局"


def create_app(config: dict | None = None) -> Flask:
    app = Flask(__name__, instance_path=str(settings.INSTANCE))
    app.config.update(settings.load(config))
    app.config.setdefault("MIGRATIONS_DIR", settings.ROOT / "migrations")
    app.json.ensure_ascii = False
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    training.init_app(app)
    certificates.init_app(app)
    verify.init_app(app)
    _bound_names(app)
    from training.web.http import security_headers
    app.after_request(security_headers)
    _trust_proxies(app)
    app.cli.add_command(demo_command)
    return app


def _bound_names(app: Flask) -> None:
    """Registration refuses a name the certificate's token could not carry (training.web.fields)."""
    from certificates.token import name_budget
    from training.web.fields import NAME_BUDGET
    budget = app.extensions[NAME_BUDGET] = name_budget(app.config["PUBLIC_BASE_URL"])
    if budget < 12:
        logging.getLogger("anzheng.config").warning(
            "PUBLIC_BASE_URL is so long that a certificate's QR code holds names of at most %d bytes", budget)


def _trust_proxies(app: Flask) -> None:
    """Behind TRUSTED_PROXY_HOPS reverse proxies, the client is the address the outermost of them
    saw (X-Forwarded-For, counted from the right); with none, forwarded headers are ignored, since
    any client can send them. Wrapped outside the verification fast path (verify.verification.fastpath), so
    that it and Flask count each client under the same address."""
    hops = app.config["TRUSTED_PROXY_HOPS"]
    if hops:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=0)  # the address only


@click.command("demo")
@click.option("--seed", default=7, show_default=True, help="Random seed for the generated people and records.")
def demo_command(seed: int):
    """Bootstrap the database and load demo data (organisations, workers, classes, exams, certificates).

    Safe to run again: an existing demo is left as it is. Keys are written to instance/demo-keys.json.
    """
    from flask import current_app
    from sqlalchemy import select

    from training.cli import bootstrap
    from training.db import db
    from training.demo import ORGS, load_demo
    from training.parties.models import Organization

    boot = bootstrap(DEMO_REGULATOR)
    keys_file = settings.INSTANCE / "demo-keys.json"
    if db.session.scalar(select(Organization.id).where(Organization.name == ORGS[0][1])):
        click.echo(f"demo data already present; keys are in {keys_file}")
        return
    regulator = db.session.get(Organization, boot["organization_id"])
    app = current_app._get_current_object()
    # The demo records months of past classes today: that is an import of history, not late records.
    saved = {k: app.config[k] for k in ("FINDINGS_LATE_RECORDS", "FINDINGS_ISSUANCE_SPIKES")}
    app.config.update(dict.fromkeys(saved, False))
    with click.progressbar(length=9, label="loading demo classes and exams") as bar:
        made = load_demo(regulator, seed=seed, progress=bar.update)
    db.session.commit()
    issued = _issue_demo_certificates(made["ready"])
    from training.accounts.demo import create_demo_accounts
    people = create_demo_accounts()
    db.session.commit()
    from verify.demo import stage_demo_frauds
    stage_demo_frauds()  # a few staged frauds, so the review queue, dashboard and a case show something
    db.session.commit()
    app.config.update(saved)
    keys = {DEMO_REGULATOR: boot["api_key"], **made["keys"]}
    settings.INSTANCE.mkdir(exist_ok=True)
    fd = os.open(keys_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        json.dump(keys, fh, ensure_ascii=False, indent=2)
    versions = ", ".join(f"v{v}: {n}" for v, n in sorted(issued.items()))
    click.echo(f"demo loaded: {len(made['workers'])} workers, {sum(issued.values())} certificates "
               f"(QR versions {versions}); API keys written to {keys_file}; "
               f"{len(people)} console accounts (password and authenticator secrets) in "
               f"{settings.INSTANCE / 'demo-accounts.json'}")


def _issue_demo_certificates(worker_ids: list[str]) -> dict[int, int]:
    """Issue what the demo evidence supports, as each class's own training body would."""
    from flask import current_app
    from sqlalchemy import select

    from certificates.issuance.service import issue_certificate
    from training.accounts.api_keys import Caller
    from training.db import db
    from training.errors import ApiError
    from training.evidence.models import Attendance, TrainingSession
    from training.parties.models import Organization

    versions: dict[int, int] = {}
    with click.progressbar(worker_ids, label="issuing demo certificates") as bar:
        for worker_id in bar:
            session = db.session.scalars(select(TrainingSession).join(Attendance).where(
                Attendance.worker_id == worker_id).limit(1)).first()
            body = db.session.get(Organization, session.organization_id)
            caller = Caller("demo", body.id, body.kind, body.name, None, None)
            try:
                cert = issue_certificate({"worker_id": worker_id, "category": session.category}, caller,
                                         current_app.extensions["signer"], current_app.config["PUBLIC_BASE_URL"])
                db.session.commit()
                versions[cert.qr_version] = versions.get(cert.qr_version, 0) + 1
            except ApiError:
                db.session.rollback()  # evidence that does not support it (a failed retake) stays unissued
    return versions


def __getattr__(name: str):
    # Built on first use, so that importing this module (tests, tools) makes no app by accident.
    if name in ("app", "application"):
        global app
        app = create_app()
        return app
    raise AttributeError(name)
