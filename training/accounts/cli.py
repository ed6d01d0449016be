"""The ``create-account`` command: how a new organisation gets its first administrator.

Prints the one-time password once (or takes one typed at a hidden prompt with ``--ask``); the
person changes it at first sign-in and, at a regulator, exam centre or training body, sets up
the authenticator then. Errors are sentences with a non-zero exit status, never a traceback.
"""
from __future__ import annotations

import click
from flask import Flask

from training.accounts import roles, service as accounts, totp
from training.db import db
from training.errors import ApiError
from training.parties.models import Organization


def register_cli(app: Flask) -> None:
    @app.cli.command("create-account")
    @click.option("--org", "org_id", required=True, help="Id of the organisation the person belongs to.")
    @click.option("--name", required=True, help="The person's name, as shown on pages and in the audit trail.")
    @click.option("--login", help="Sign-in name (lower-case letters, digits, . _ -); default: made from the org id.")
    @click.option("--role", type=click.Choice(roles.ROLES), default="administrator", show_default=True)
    @click.option("--duty", "duties", multiple=True, type=click.Choice(roles.DUTIES),
                  help="A regulator's duty (repeatable); an administrator defaults to 'accounts'.")
    @click.option("--badge", help="Badge or staff number (optional).")
    @click.option("--ask", is_flag=True, help="Type the first password at a hidden prompt instead of printing one.")
    def create_account_cmd(org_id, name, login, role, duties, badge, ask):
        """Create a personal account for the console (the first administrator of an organisation)."""
        org = db.session.get(Organization, org_id) if len(org_id) <= 16 else None
        if org is None:
            raise click.UsageError(f"no organisation with id {org_id!r}")
        if org.kind == "regulator" and not duties and role == "administrator":
            duties = ("accounts",)
        login = (login or f"admin-{org.id[:8]}").lower()
        try:
            account, once = accounts.create_account(org, {"login": login, "name": name, "role": role,
                                                          "duties": list(duties), "badge": badge}, None)
            if ask:
                chosen = click.prompt("password for the new account", hide_input=True, confirmation_prompt=True)
                problem = accounts.password_problem(chosen, login)
                if problem:
                    raise click.UsageError(f"password refused: {problem.replace('_', ' ')}")
                account.password_hash, once = accounts.hash_password(chosen), None
        except ApiError as err:
            db.session.rollback()
            said = "; ".join(f"{e['field']}: {e['message'] or e['code']}" for e in (err.errors or [])) or err.detail
            raise click.UsageError(said) from err
        db.session.commit()
        click.echo(f"account {account.login} ({account.role}) created for {org.name}")
        if once:
            click.echo(f"one-time password (shown once; changed at first sign-in): {once}")
        if totp.totp_required(account):
            click.echo("an authenticator app (TOTP) is set up at first sign-in")
