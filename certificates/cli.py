"""Commands of the certificates layer: batch issuance, key rotation, marking a key compromised,
the audit trail's signed checkpoints and its check against them.

Each command has help text; batch issuance shows a progress bar and writes a per-row result
file; every row stands alone and a re-run is safe (a row already issued reports its serial).
"""
from __future__ import annotations

import csv
import hashlib
import queue
import sys
import threading
from pathlib import Path

import click
from flask import Flask, current_app

from certificates import audit_checkpoints, keys, token as tok
from certificates.issuance import batch
from training.accounts.api_keys import Caller
from training.db import db
from training.db.models import AuditEntry
from training.errors import ApiError
from training.parties.models import Organization
from training.people.identity import IdentityError, normalize_id_number
from training.sheets import SheetError, read_table

# A file for the command line may be bigger than an upload, not unbounded.
MAX_FILE_ROWS, MAX_FILE_COLUMNS, MAX_FILE_UNPACKED = 200_000, 64, 64 * 1024 * 1024


def read_rows(path: Path) -> list[dict]:
    """Rows of a CSV (UTF-8, optional BOM, or GBK) or XLSX file with a header row, keys
    lower-cased, empty rows left out; read by ``training.sheets.read_table`` with the caps
    applied while reading (a SheetError, a ValueError, says which)."""
    rows = read_table(path.read_bytes(), MAX_FILE_ROWS, MAX_FILE_COLUMNS, MAX_FILE_UNPACKED)
    if not rows:
        return []
    head = [h.strip().lower() for h in rows[0]]
    return [{h: v.strip() for h, v in zip(head, r)} for r in rows[1:] if any(v.strip() for v in r)]


def _shard(row: dict, jobs: int) -> int:
    """The same identity number always goes to the same issuer, so two rows for one worker are
    weighed one after the other (the second then finds the first's certificate) and never race."""
    raw = row.get("id_number", "")
    try:
        raw = normalize_id_number(raw)
    except IdentityError:
        pass
    return hashlib.sha256(raw.encode()).digest()[0] % jobs


def issue_rows(rows: list[dict], caller: Caller, jobs: int = 1, on_result=None,
               group: int = batch.GROUP) -> list[tuple]:
    """Issue every row, ``group`` rows per transaction (``batch.issue_group``), with ``jobs``
    issuers (threads, each with its own session); returns (index, masked id, outcome, detail) per
    row in the rows' order. ``on_result`` is called in this thread with each tuple once its
    group is committed, in completion order. An unexpected error, or one in ``on_result``, stops
    every issuer after the group it is on and is raised here; the failing group is rolled back
    and none of its rows reported, what was committed and reported before stays."""
    results: list = [None] * len(rows)
    done: queue.Queue = queue.Queue()
    stop = threading.Event()
    app = current_app._get_current_object()

    def groups(indexes):
        for start in range(0, len(indexes), group):
            part = indexes[start:start + group]
            yield [(i,) + r for i, r in zip(part, batch.issue_group([rows[i] for i in part], caller))]

    def issuer(indexes):
        try:
            with app.app_context():
                try:
                    for done_group in groups(indexes):
                        done.put(done_group)
                        if stop.is_set():
                            return
                finally:
                    db.session.remove()
        except BaseException as err:  # handed to the caller's thread, which raises it
            done.put(err)
            stop.set()
        finally:
            done.put(None)

    if jobs <= 1:  # in this thread and session: nothing to hand over
        for done_group in groups(list(range(len(rows)))):
            for result in done_group:
                results[result[0]] = result
                if on_result:
                    on_result(result)
        return results
    shards: list[list[int]] = [[] for _ in range(jobs)]
    for i, row in enumerate(rows):
        shards[_shard(row, jobs)].append(i)
    threads = [threading.Thread(target=issuer, args=(s,), name=f"issuer-{n}", daemon=True)
               for n, s in enumerate(shards) if s]
    for t in threads:
        t.start()
    failure, running, unreportable = None, len(threads), False
    while running:
        item = done.get()
        if item is None:
            running -= 1
        elif isinstance(item, BaseException):
            failure = failure or item
        else:
            for result in item:  # committed: reported even after another issuer failed
                results[result[0]] = result
                try:
                    if on_result and not unreportable:
                        on_result(result)
                except BaseException as err:  # the report cannot be written: stop issuing too
                    failure, unreportable = failure or err, True
                    stop.set()
    for t in threads:
        t.join()
    if failure is not None:
        raise failure
    return results


def register_cli(app: Flask) -> None:
    @app.cli.command("issue-batch")
    @click.argument("rows_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
    @click.option("--body", "body_id", required=True, help="Id of the issuing training body.")
    @click.option("--out", "out_path", type=click.Path(dir_okay=False, path_type=Path),
                  help="Per-row result CSV (default: <rows_file>.results.csv).")
    # One issuer by default: a group's reads and writes are a handful of statements, so it keeps
    # a core busy on either database, and a second mostly queues on the audit trail's lock
    # (PostgreSQL) or the write lock (SQLite) and on the interpreter's (bench/issuance.py --jobs 2).
    @click.option("--jobs", type=click.IntRange(1, 16), default=1, show_default=True,
                  help="Issuers at once (threads; rows of one identity number stay with one).")
    @click.option("--group", type=click.IntRange(1, 1000), default=batch.GROUP, show_default=True,
                  help="Rows per transaction: an interruption loses at most this many unreported rows "
                       "(a re-run issues them).")
    def issue_batch(rows_file: Path, body_id: str, out_path: Path | None, jobs: int, group: int):
        """Issue certificates for a CSV or XLSX of rows with columns id_number and category.

        Each row is issued or refused on its own; the result file lists the serial or the reasons.
        Rows are committed a group at a time (--group) and their results written once committed,
        so the file is complete up to any interruption; at the end it is put in the rows' order.
        Safe to re-run: rows already issued by this body report their existing serial.
        """
        body = db.session.get(Organization, body_id)
        if body is None or body.kind != "training_body":
            raise click.UsageError(f"--body {body_id!r} is not a registered training body")
        try:
            rows = read_rows(rows_file)
        except SheetError as err:
            raise click.UsageError(f"cannot read {rows_file}: {err}") from err
        if rows and not {"id_number", "category"} <= set(rows[0]):
            raise click.UsageError("the file needs a header row with the columns id_number and category")
        caller = Caller("cli", body.id, body.kind, body.name, None, None)
        db.session.remove()  # the issuers open their own sessions
        out_path = out_path or rows_file.with_suffix(rows_file.suffix + ".results.csv")
        head = ["row", "id_number_masked", "category", "outcome", "serial_or_reasons"]

        def line(result):
            i, masked, outcome, detail = result
            return [i + 2, masked, rows[i].get("category", ""), outcome, detail]

        with out_path.open("w", encoding="utf-8", newline="") as fh, \
                click.progressbar(length=len(rows), label="issuing", file=sys.stderr) as bar:
            out = csv.writer(fh)
            out.writerow(head)

            def written(result):
                out.writerow(line(result))
                fh.flush()
                bar.update(1)
            results = issue_rows(rows, caller, jobs, written, group)
        ordered = out_path.with_name(out_path.name + ".part")
        with ordered.open("w", encoding="utf-8", newline="") as fh:
            out = csv.writer(fh)
            out.writerow(head)
            out.writerows(line(r) for r in results)
        ordered.replace(out_path)
        counts: dict[str, int] = {}
        for _, _, outcome, _ in results:
            counts[outcome] = counts.get(outcome, 0) + 1
        click.echo(f"{len(rows)} rows: " + ", ".join(f"{v} {k}" for k, v in sorted(counts.items()))
                   + f"; results in {out_path}")

    @app.cli.command("rotate-key")
    @click.option("--org", "org_id", required=True, help="Id of the training body (or regulator, with --lists).")
    @click.option("--lists", is_flag=True, help="Rotate the regulator's list-signing key instead.")
    def rotate_key(org_id: str, lists: bool):
        """Make a new signing key; the old one stays on the trust list, retired, for what it signed."""
        org = db.session.get(Organization, org_id)
        if org is None:
            raise click.UsageError(f"no organisation {org_id!r}")
        new = keys.rotate_key(org, current_app.extensions["signer"], "lists" if lists else "certificates")
        db.session.commit()
        click.echo(f"new key {tok.b64url_encode(bytes(new.kid))} is active for {org.name}")

    # A kid is base64url, so one in 64 begins with "-": take it as the KID, not as an option.
    @app.cli.command("compromise-key", context_settings={"ignore_unknown_options": True})
    @click.argument("kid")
    def compromise_key(kid: str):
        """Mark a key compromised (KID in base64url, as on the trust list).

        From now on every token it signed is refused except the tokens recorded before now.
        """
        try:
            raw = tok.b64url_decode(kid)
        except ValueError:
            raise click.UsageError("KID must be base64url, as shown on the trust list") from None
        try:
            key = keys.mark_compromised(raw)
        except ApiError as err:
            raise click.UsageError(err.detail) from err
        db.session.commit()
        click.echo(f"key {kid} marked compromised at {key.compromised_at.isoformat()}Z")

    @app.cli.command("audit-checkpoint")
    def audit_checkpoint():
        """Sign a checkpoint of the audit trail's head now, by the regulator's list key.

        It is kept in the database and appended to AUDIT_CHECKPOINT_FILE, and printed: ship the
        file (or copies of GET /api/v1/audit/checkpoints) where the database's admins cannot write.
        """
        try:
            row = audit_checkpoints.make_checkpoint(current_app.extensions["signer"])
        except ApiError as err:
            raise click.UsageError(err.detail) from err
        if row is None:
            click.echo("the audit trail is empty: nothing to checkpoint")
            return
        db.session.commit()
        click.echo(row.document)

    @app.cli.command("audit-verify")
    @click.option("--checkpoints", "files", multiple=True, type=click.Path(exists=True, dir_okay=False),
                  help="More checkpoints: a copy of the file, or a saved answer of the checkpoint endpoints "
                       "(repeatable).")
    @click.option("--public-key", "pinned", multiple=True,
                  help="The regulator's published list key (base64url, the trust list's issuer.x) to check "
                       "signatures with, instead of the keys in the database (repeatable).")
    def audit_verify(files: tuple[str, ...], pinned: tuple[str, ...]):
        """Check the audit trail's hash chain, and check it against every signed checkpoint found
        (the database's, AUDIT_CHECKPOINT_FILE's, each --checkpoints file's); exit status 1 if an
        entry was altered, the trail was re-chained or truncated, or a checkpoint is not genuine.
        """
        try:
            keys_given = [tok.b64url_decode(x) for x in pinned]
            if any(len(k) != 32 for k in keys_given):
                raise ValueError
        except ValueError:
            raise click.UsageError("--public-key must be a 32-byte Ed25519 key in base64url, as issuer.x") from None
        kept = current_app.config.get("AUDIT_CHECKPOINT_FILE")
        files = ([kept] if kept and Path(kept).is_file() else []) + list(files)
        with click.progressbar(length=db.session.query(AuditEntry).count(),
                               label="checking audit trail", file=sys.stderr) as bar:
            try:
                result = audit_checkpoints.check_trail(files, keys_given or None, progress=bar.update)
            except (OSError, ValueError) as err:
                raise click.UsageError(f"cannot read the checkpoints: {err}") from err
        click.echo(result.message, err=not result.ok)
        if not result.ok:
            raise SystemExit(1)
