"""Keys, signed tokens, QR codes, issuance, revocation, the trust and status lists.

Builds on ``training``; never imports ``verify``. The signer (the only holder of private keys)
is made here once per process and handed to services as a collaborator.
"""
from __future__ import annotations

from flask import Flask

from certificates.signing import Signer
from training.signals import accreditation_changed


def init_app(app: Flask) -> None:
    from certificates import models, views  # noqa: F401  (tables register with the metadata)
    from certificates.cli import register_cli
    app.extensions["signer"] = Signer(app.config["ANZHENG_KEY_PASSPHRASE"])
    from certificates.issuance.console import bp as console_bp  # the console's certificate pages
    app.register_blueprint(console_bp)
    app.register_blueprint(views.bp)
    register_cli(app)
    from certificates.rules_cli import register_rules_cli
    register_rules_cli(app)
    accreditation_changed.connect(_on_accreditation, weak=False)
    from certificates import audit_checkpoints
    audit_checkpoints.init_app(app)  # the audit trail's head, signed now and then


def _on_accreditation(acc, **_):
    """Accreditation is part of the trust list: a change must reach every verifier's key table;
    an accredited training body gets its own signing key straight away."""
    from flask import current_app

    from certificates.keys import bump_generation, ensure_key
    from training.db import db
    from training.parties.models import Organization
    org = db.session.get(Organization, acc.organization_id)
    if org.kind == "training_body" and acc.status == "active":
        ensure_key(org, current_app.extensions["signer"])
    bump_generation()
