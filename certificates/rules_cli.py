"""``flask rules``: the rule sets in force over time, listed, checked and loaded by a regulator
without a code change (docs/rules.md, "Loading a new rule set").

A rule-set file is ``rulesets.json`` as shipped in ``training/data``. Loading writes it into the
catalogue folder the service reads (``ANZHENG_CATALOGUE_DIR``; the shipped categories, roles and
industries are copied beside it when the folder is new), after checking it three ways: it loads
(no gap, no overlap, no unknown category or figure), it keeps every set that certificates were
issued under, and it changes no figure of such a set unless ``--amend`` says so. What it does to
certificates already issued is reported, never done: each keeps the set its record names (the
migration path), also one dated after a new set's start, which was issued under the old figures.
Nothing is written when any check fails.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from pathlib import Path

import click
from flask import Flask
from sqlalchemy import func, select

from certificates.models import Certificate
from training import clock
from training.catalogue import DATA, load_catalogue
from training.db import audit, db

CATALOGUE_FILES = ("categories.json", "roles.json", "industries.json")


def _folder() -> Path:
    return Path(os.environ.get("ANZHENG_CATALOGUE_DIR") or DATA)


def _staged(rules_file: Path, base: Path) -> Path:
    """A scratch folder with the catalogue's files and the candidate rulesets.json."""
    scratch = Path(tempfile.mkdtemp(prefix="anzheng-rules-"))
    for name in CATALOGUE_FILES:
        shutil.copy(base / name, scratch / name)
    shutil.copy(rules_file, scratch / "rulesets.json")
    return scratch


def candidate(rules_file: Path, base: Path):
    """The catalogue the file would make, or a UsageError saying why it cannot be loaded."""
    try:
        json.loads(rules_file.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise click.UsageError(f"{rules_file} is not JSON: {err}") from err
    scratch = _staged(rules_file, base)
    try:
        new = load_catalogue.__wrapped__(str(scratch))
    except (ValueError, KeyError, TypeError, AttributeError) as err:
        raise click.UsageError(f"{rules_file} cannot be loaded: {err!r}") from err
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    if not new.rule_sets:
        raise click.UsageError(f"{rules_file} names no rule set")
    return new


def in_use() -> dict[str | None, int]:
    """{rule set code: certificates issued under it}."""
    return dict(db.session.execute(select(Certificate.rules, func.count()).group_by(Certificate.rules)).all())


def impact(new, current) -> tuple[list[str], list[str]]:
    """(refusals, notes) of replacing the current sets by the new ones."""
    refusals, notes = [], []
    now = {rs.code: rs for rs in current.rule_sets}
    for code, n in sorted(in_use().items(), key=lambda kv: str(kv[0])):
        if code is None:
            continue
        if not any(rs.code == code for rs in new.rule_sets):
            refusals.append(f"{n} certificate(s) were issued under set {code}, which the file drops")
            continue
        rs = next(r for r in new.rule_sets if r.code == code)
        old = now.get(code)
        if old is not None and old.categories != rs.categories:
            refusals.append(f"the file changes figures of set {code}, under which {n} certificate(s) were "
                            "issued (their reviews would follow the new figures): pass --amend if that is meant")
        later = db.session.scalar(select(func.count()).select_from(Certificate).where(
            Certificate.rules == code, Certificate.issued_at >= clock.day_end(rs.effective_until))) \
            if rs.effective_until else 0
        if later:
            notes.append(f"{later} certificate(s) issued under set {code} after {rs.effective_until}, where the "
                         "file puts another set in force, keep the rules they were issued under (their records "
                         f"say {code}); re-issue them if the new rules are to apply")
        early = db.session.scalar(select(func.count()).select_from(Certificate).where(
            Certificate.rules == code, Certificate.issued_at < clock.day_start(rs.effective_from)))
        if early:
            notes.append(f"{early} certificate(s) issued under set {code} before its start {rs.effective_from} keep it")
    return refusals, notes


def _describe(catalogue) -> list[str]:
    lines = []
    for rs in catalogue.rule_sets:
        until = rs.effective_until or "until further notice"
        changed = sorted({f for figures in rs.categories.values() for f in figures})
        lines.append(f"{rs.code:8} {rs.effective_from} – {until}  [{rs.status}]  {rs.name}"
                     + (f"\n         changes {', '.join(changed)} for {len(rs.categories)} categories" if changed else ""))
    return lines


def register_rules_cli(app: Flask) -> None:
    @app.cli.group("rules")
    def rules():
        """The rule sets in force over time: list, check and load them (docs/rules.md)."""

    @rules.command("list")
    def list_sets():
        """Show the rule sets the service decides by, and how many certificates each was issued under."""
        catalogue = load_catalogue()
        click.echo(f"catalogue folder: {_folder()}")
        for line in _describe(catalogue):
            click.echo(line)
        counts = in_use()
        click.echo("certificates: " + (", ".join(f"{n} under {code or 'none recorded'}" for code, n in
                                                 sorted(counts.items(), key=lambda kv: str(kv[0]))) or "none"))

    @rules.command("check")
    @click.argument("rules_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
    def check(rules_file: Path):
        """Check a rule-set file without loading it: that it loads, and what loading it would mean."""
        new = candidate(rules_file, _folder())
        for line in _describe(new):
            click.echo(line)
        refusals, notes = impact(new, load_catalogue())
        for note in notes:
            click.echo(f"note: {note}")
        if refusals:
            raise click.UsageError("; ".join(refusals))
        click.echo(f"{rules_file} can be loaded")

    @rules.command("load")
    @click.argument("rules_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
    @click.option("--into", "into", type=click.Path(file_okay=False, path_type=Path),
                  help="Catalogue folder to write to (default: ANZHENG_CATALOGUE_DIR; required when it is unset).")
    @click.option("--amend", is_flag=True, help="Allow changing the figures of a set certificates were issued under.")
    @click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
    def load(rules_file: Path, into: Path | None, amend: bool, yes: bool):
        """Load a rule-set file: checked, then written into the catalogue folder. Restart the service
        (or send gunicorn HUP) for it to take effect."""
        target = into or (Path(os.environ["ANZHENG_CATALOGUE_DIR"]) if os.environ.get("ANZHENG_CATALOGUE_DIR") else None)
        if target is None:
            raise click.UsageError("give --into DIR (a folder of your own; the shipped catalogue is copied there) "
                                   "and set ANZHENG_CATALOGUE_DIR=DIR for the service")
        if target.resolve() == DATA.resolve():
            raise click.UsageError("the shipped catalogue is part of the code: load into a folder of your own")
        base = target if all((target / n).exists() for n in CATALOGUE_FILES) else _folder()
        new = candidate(rules_file, base)
        refusals, notes = impact(new, load_catalogue())
        if amend:
            refusals = [r for r in refusals if "--amend" not in r]
        for line in _describe(new):
            click.echo(line)
        for note in notes:
            click.echo(f"note: {note}")
        if refusals:
            raise click.UsageError("; ".join(refusals) + " (nothing written)")
        if not yes:
            click.confirm(f"write these rule sets into {target}?", abort=True)
        target.mkdir(parents=True, exist_ok=True)
        for name in CATALOGUE_FILES:
            if not (target / name).exists():
                shutil.copy(base / name, target / name)
        raw = rules_file.read_bytes()
        tmp = target / ".rulesets.json.tmp"
        tmp.write_bytes(raw)
        os.replace(tmp, target / "rulesets.json")  # whole or not at all
        audit.record("rules.loaded", subject=",".join(rs.code for rs in new.rule_sets),
                     detail={"folder": str(target), "sha256": hashlib.sha256(raw).hexdigest(), "amend": amend})
        db.session.commit()
        load_catalogue.cache_clear()
        click.echo(f"loaded {len(new.rule_sets)} rule set(s) into {target}")
        if os.environ.get("ANZHENG_CATALOGUE_DIR") != str(target):
            click.echo(f"set ANZHENG_CATALOGUE_DIR={target} for the service, then restart it")
        else:
            click.echo("restart the service (or send gunicorn HUP) for the new rules to take effect")
