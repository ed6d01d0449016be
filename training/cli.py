"""Commands of the bottom layer: bootstrap, schema upgrade, pruning (the audit check needs the
regulator's key, so ``audit-verify`` lives in certificates/cli.py).

Every command has help text; long ones show progress; errors are readable sentences with a
non-zero exit status, never a traceback for bad input.
"""
from __future__ import annotations

import json

import click
from flask import Flask
from flask_migrate import upgrade as alembic_upgrade
from sqlalchemy import select

from training.catalogue import EMPLOYER_KINDS
from training.db import db
from training.parties.models import Organization
from training.parties.service import issue_api_key
from training.people.identity import generate_credit_code
from training.web.http import prune_idempotency


def upgrade_schema() -> None:
    """Bring the schema to the newest migration (creates it on an empty database)."""
    alembic_upgrade()


def bootstrap(name: str) -> dict:
    upgrade_schema()
    org = db.session.scalar(select(Organization).where(Organization.kind == "regulator",
                                                       Organization.name == name))
    if org is None:
        import random
        rng = random.SystemRandom()
        code = generate_credit_code(rng, kind="government_agency")
        while db.session.scalar(select(Organization.id).where(Organization.credit_code == code)):
            code = generate_credit_code(rng, kind="government_agency")
        org = Organization(name=name, kind="regulator", credit_code=code)
        db.session.add(org)
        db.session.flush()
    key, full = issue_api_key(org, {"holder": {"name": "bootstrap"}}, None)
    db.session.commit()
    return {"organization_id": org.id, "api_key": full}


def register_cli(app: Flask) -> None:
    @app.cli.command("bootstrap")
    @click.option("--name", required=True, help="Name of the regulator organisation (created if missing).")
    def bootstrap_cmd(name: str):
        """Create the schema if missing, the regulator if missing, and a new API key for it.

        Prints one JSON line last: {"organization_id": ..., "api_key": ...}.
        """
        name = name.strip()
        if not name or len(name) > 200:
            raise click.BadParameter("the name must be 1 to 200 characters", param_hint="--name")
        click.echo(json.dumps(bootstrap(name), ensure_ascii=False))

    @app.cli.command("sample-ids")
    @click.option("--count", default=3, show_default=True, help="How many of each to print.")
    def sample_ids_cmd(count: int):
        """Print freshly generated, valid identity numbers and credit codes for trying the API.

        They are random and belong to no one; use them only for trials and tests.
        """
        import random

        from training.people.identity import generate_id_number
        rng = random.SystemRandom()
        for _ in range(count):
            click.echo(f"id_number {generate_id_number(rng)}")
        for _ in range(count):
            click.echo(f"credit_code {generate_credit_code(rng)}")

    @app.cli.command("upgrade")
    def upgrade_cmd():
        """Apply any pending schema migrations (safe to run at every deploy)."""
        upgrade_schema()
        click.echo("schema is up to date")

    @app.cli.command("prune")
    def prune_cmd():
        """Delete idempotency records past their lifetime (IDEMPOTENCY_TTL_HOURS, 24 by default).

        Safe to run at any time (from cron, say); a pruned key is treated as new.
        """
        gone = prune_idempotency()
        db.session.commit()
        click.echo(f"pruned {gone} idempotency records older than {app.config['IDEMPOTENCY_TTL_HOURS']:g} hours")


__all__ = ["register_cli", "bootstrap", "upgrade_schema", "EMPLOYER_KINDS"]
