"""Commands of findings and cases: re-run every rule over history, and revoke every certificate a
body issued in a period (with a report file). Both show progress; both are safe to run again
(findings never duplicate; an already revoked certificate is reported as skipped)."""
from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

import click
from flask import Flask
from sqlalchemy import func, select

from certificates.models import Certificate
from training.accounts.api_keys import Caller
from training.clock import CHINA
from training.db import db
from training.errors import ApiError
from training.parties.models import Organization


def register_findings_cli(app: Flask) -> None:
    @app.cli.command("findings-rerun")
    @click.option("--chunk", default=1000, show_default=True, help="Workers read per batch.")
    def findings_rerun(chunk: int):
        """Re-run every fraud rule over all records (after an import or corrections).

        Never duplicates a finding. Rebuilds the counters behind the per-body signals. Keep
        FINDINGS_LATE_RECORDS=off and FINDINGS_ISSUANCE_SPIKES=off while the history was imported.
        """
        from verify.rules.rerun import rerun, rerun_size
        with click.progressbar(length=rerun_size(), label="re-running the rules over history") as bar:
            raised = rerun(progress=bar.update, chunk=chunk)
        click.echo(json.dumps({"raised": raised, "total": sum(raised.values())}, ensure_ascii=False))

    @app.cli.command("revoke-issued")
    @click.option("--issuer", "issuer_id", required=True, help="The training body's organisation id.")
    @click.option("--from", "issued_from", required=True, type=click.DateTime(["%Y-%m-%d"]),
                  help="First day of issue (China time), YYYY-MM-DD.")
    @click.option("--until", "issued_until", required=True, type=click.DateTime(["%Y-%m-%d"]),
                  help="Last day of issue (China time), YYYY-MM-DD.")
    @click.option("--reason", required=True, help="Why; recorded on every certificate's revocation.")
    @click.option("--regulator", "regulator_id", default=None, help="The regulator acting (default: the only one).")
    @click.option("--report", "report_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
                  help="Write the report (JSON) here.")
    def revoke_issued_cmd(issuer_id, issued_from, issued_until, reason, regulator_id, report_path):
        """Revoke every certificate a training body issued in a period, and report what was done."""
        from verify.cases.service import dump_revocation, revoke_issued
        regulator = _regulator(regulator_id)
        data = {"issuer_id": issuer_id, "issued_from": issued_from.date(), "issued_until": issued_until.date(),
                "reason": reason.strip()}
        if not data["reason"] or data["issued_until"] < data["issued_from"]:
            raise click.BadParameter("a reason is needed, and --until must not be before --from")
        caller = Caller(None, regulator.id, "regulator", regulator.name, None, None)
        try:
            with click.progressbar(length=_count(data), label="revoking certificates") as bar:
                report = dump_revocation(revoke_issued(data, caller, progress=bar.update))
            db.session.commit()
        except ApiError as err:
            db.session.rollback()
            raise click.ClickException(err.detail) from err
        if report_path:
            report_path.write_text(json.dumps(report, ensure_ascii=False, indent=2), encoding="utf-8")
        click.echo(f"revoked {report['revoked_count']}, skipped {report['skipped_count']} (already revoked); "
                   f"report {report['id']}")


def _regulator(regulator_id: str | None) -> Organization:
    stmt = select(Organization).where(Organization.kind == "regulator")
    if regulator_id:
        stmt = stmt.where(Organization.id == regulator_id)
    found = db.session.scalars(stmt.limit(2)).all()
    if len(found) != 1:
        raise click.ClickException("name the regulator acting with --regulator <organisation id>")
    return found[0]


def _count(data: dict) -> int:
    start = datetime.combine(data["issued_from"], datetime.min.time()) - CHINA
    end = datetime.combine(data["issued_until"], datetime.min.time()) + timedelta(days=1) - CHINA
    return db.session.scalar(select(func.count()).select_from(Certificate).where(
        Certificate.issuer_id == data["issuer_id"], Certificate.issued_at >= start, Certificate.issued_at < end)) or 0
