"""The crew command: pre-start checks for a CSV or XLSX of workers, with a progress bar and a
results file.

Each row stands alone and commits on its own, so a refused row never undoes the others and a
re-run simply checks again (every check is a new signed record). Must not: write a full identity
number anywhere; the results file and the screen show the masked number only.
"""
from __future__ import annotations

import csv
import sys
from pathlib import Path

import click
from flask import Flask, current_app
from marshmallow import ValidationError
from sqlalchemy import select

from certificates.cli import read_rows
from training import clock
from training.accounts.api_keys import Caller
from training.catalogue import EMPLOYER_KINDS, load_catalogue
from training.db import db
from training.errors import ApiError, flatten
from training.parties.models import Organization
from training.people.identity import IdentityError, mask_id_number, normalize_id_number
from training.people.models import Worker
from verify.employment import service as employment
from verify.prestart import service as prestart

COLUMNS = ("row", "id_number_masked", "worker_id", "name", "role", "employer_id", "outcome", "reasons", "check_id")


def _masked(row: dict) -> str:
    try:
        return mask_id_number(normalize_id_number(row.get("id_number", "")))
    except IdentityError:
        return ""


def _place(item: dict, caller, protector) -> None:
    """Record the placement first (``--place``) unless the worker already holds it."""
    data = prestart.CrewItemSchema().load(item)
    worker = prestart.find_worker(data, protector)
    if worker is None:
        return  # the check itself reports the unknown worker
    body = {"worker_id": worker.id, "role": data["role"], "starts_on": data.get("starts_on") or clock.today(),
            "employer_id": data.get("employer_id") or caller.org_id, "site_id": data.get("site_id")}
    if body["employer_id"] != caller.org_id:
        body["via_id"] = caller.org_id
    try:
        with db.session.begin_nested():
            employment.create_employment(body, caller)
    except ApiError as err:
        if err.status != 409:  # 409: already placed, which is what we wanted
            raise


def check_row(n: int, row: dict, defaults: dict, caller, place: bool) -> list:
    """One results-file line for a row; commits or rolls back that row alone."""
    item = {**defaults, **{k: v for k, v in row.items() if v and k in prestart.CrewItemSchema().fields}}
    protector = current_app.extensions["identity"]
    line = [n, _masked(row), row.get("worker_id", ""), "", item.get("role", ""), item.get("employer_id", "")]
    try:
        if place:
            _place(item, caller, protector)
        check, body = prestart.check_item(item, caller, protector, "zh")
        db.session.commit()
    except (ValidationError, ApiError) as err:
        db.session.rollback()
        errors = flatten(err.messages) if isinstance(err, ValidationError) else (err.errors or [])
        codes = [f"{e['field']}:{e['code']}" for e in errors] or [err.detail]
        return line + ["refused", " ".join(codes), ""]
    line[2:6] = [body["worker_id"], body["worker"]["name"], body["role"], body["employer_id"]]
    line[1] = body["worker"]["id_number_masked"]
    return line + ["cleared" if body["cleared"] else "not_cleared",
                   " ".join(r["code"] for r in body["reasons"]), check.id]


def register_prestart_cli(app: Flask) -> None:
    @app.cli.command("prestart-crew")
    @click.argument("rows_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
    @click.option("--org", "org_id", required=True,
                  help="Id of the enterprise, labour agency or subcontractor running the checks.")
    @click.option("--role", help="Role for rows without a role column (see GET /api/v1/roles).")
    @click.option("--employer", "employer_id", help="Host employer id (default: the host of each placement).")
    @click.option("--site", "site_id", help="Site id for rows without a site_id column.")
    @click.option("--starts-on", "starts_on", help="First day of work, YYYY-MM-DD (default: today).")
    @click.option("--place", is_flag=True, help="Record each worker's employment with the host first.")
    @click.option("--out", "out_path", type=click.Path(dir_okay=False, path_type=Path),
                  help="Per-row results CSV (default: <rows_file>.results.csv).")
    def prestart_crew(rows_file: Path, org_id: str, role, employer_id, site_id, starts_on, place, out_path):
        """Pre-start checks for a crew listed in a CSV or XLSX file.

        The file needs a header row with id_number or worker_id, and optionally role, employer_id,
        site_id and starts_on per row. Each row is checked on its own, recorded and signed; the
        results file lists cleared / not_cleared / refused with the reason codes. Identity numbers
        appear masked only.
        """
        org = db.session.get(Organization, org_id)
        if org is None or org.kind not in EMPLOYER_KINDS:
            raise click.UsageError(f"--org {org_id!r} is not a registered enterprise, labour agency or subcontractor")
        if role is not None and role not in load_catalogue().roles:
            raise click.BadParameter(f"unknown role {role!r}; one of {', '.join(sorted(load_catalogue().roles))}",
                                     param_hint="--role")
        try:
            rows = read_rows(rows_file)
        except (ValueError, KeyError, OSError) as err:
            raise click.UsageError(f"cannot read {rows_file}: {type(err).__name__}") from err
        if not rows:
            raise click.UsageError(f"{rows_file} has no rows under its header")
        if not {"id_number", "worker_id"} & set(rows[0]):
            raise click.UsageError("the file needs a header row with an id_number or worker_id column")
        if role is None and "role" not in rows[0]:
            raise click.UsageError("give --role, or a role column in the file")
        if place and org.kind != "enterprise" and not employer_id and "employer_id" not in rows[0]:
            raise click.UsageError("--place needs the host: give --employer, or an employer_id column")
        defaults = {k: v for k, v in {"role": role, "employer_id": employer_id, "site_id": site_id,
                                      "starts_on": starts_on}.items() if v}
        caller = Caller("cli", org.id, org.kind, org.name, None, None)
        out_path = out_path or rows_file.with_suffix(rows_file.suffix + ".results.csv")
        counts: dict[str, int] = {}
        with out_path.open("w", encoding="utf-8", newline="") as fh, \
                click.progressbar(rows, label="checking crew", file=sys.stderr) as bar:
            out = csv.writer(fh)
            out.writerow(COLUMNS)
            for n, row in enumerate(bar, start=2):
                line = check_row(n, row, defaults, caller, place)
                counts[line[6]] = counts.get(line[6], 0) + 1
                out.writerow(line)
        click.echo(f"{len(rows)} rows: " + ", ".join(f"{v} {k}" for k, v in sorted(counts.items()))
                   + f"; results in {out_path}")

    @app.cli.command("prestart-crew-sample")
    @click.option("--count", default=50, show_default=True, help="How many registered workers to list.")
    @click.option("--out", "out_path", required=True, type=click.Path(dir_okay=False, path_type=Path),
                  help="CSV file to write (worker_id, name, id_number_masked).")
    def prestart_crew_sample(count: int, out_path: Path):
        """Write a crew file of registered workers (for trying prestart-crew on demo data).

        Workers are named by id, with the masked number for reading; no full number is written.
        """
        workers = db.session.scalars(select(Worker).order_by(Worker.created_at, Worker.id).limit(max(count, 0))).all()
        if not workers:
            raise click.UsageError("no workers are registered yet (run: flask --app wsgi demo)")
        with out_path.open("w", encoding="utf-8", newline="") as fh:
            out = csv.writer(fh)
            out.writerow(["worker_id", "name", "id_number_masked"])
            out.writerows([w.id, w.name, w.id_masked] for w in workers)
        click.echo(f"{len(workers)} workers written to {out_path}")
