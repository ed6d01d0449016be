"""Batch issuance, a group of rows at a time: the same checks, signature, QR images and records
as ``service.issue_certificate`` row by row, with the reads and writes of the whole group made
together in one transaction.

For a group: one read finds the workers by identity hash, one the certificates they hold, two
their attendance and exams; the accreditation is read once per category and the signing key
once. Every row is then weighed in the rows' order (a worker's second row for a category finds
the first one's certificate). Refusals are decided before anything is written. The issued rows'
certificates, tokens, events and audit entries go in as one insert each, and the group commits
once: a row's outcome is only reported after that commit, and if anything goes wrong the whole
group is rolled back and none of its rows is reported. Profiled on batch issuance: the
statements (their round trips, and SQLAlchemy's work for each) cost more than everything else;
a group of 50 makes about 17 statements where row by row made 13 per row.
"""
from __future__ import annotations

import hashlib
import json

from flask import current_app
from sqlalchemy import bindparam, select

from certificates import qr, token as tok
from certificates.issuance.queries import CERTS, still_held
from certificates.issuance.service import (
    INSERT_CERTIFICATE,
    INSERT_EVENT,
    INSERT_TOKEN,
    NAME_TOO_LONG,
    claims,
    dates,
    rule_code,
    snapshot,
)
from certificates.keys import active_key, ensure_key
from certificates.signals import Issued, certificates_issued
from training import clock
from training.catalogue import load_catalogue
from training.clock import CHINA
from training.db import audit, db, utcnow
from training.errors import Conflict, Forbidden
from training.evidence.hours import evidence_for, records_of, waivers_of
from training.parties.models import Organization
from training.parties.service import accredited
from training.people.identity import IdentityError, mask_id_number, normalize_id_number
from training.people.models import Worker

GROUP = 50  # rows per transaction: a crash loses at most this many unreported rows

_W = Worker.__table__.c
_WORKERS = select(_W.id, _W.id_hash, _W.name, _W.id_masked).where(_W.id_hash.in_(bindparam("hashes", expanding=True)))
_HELD = (select(CERTS.c.worker_id, CERTS.c.category, CERTS.c.serial, CERTS.c.issuer_id)
         .where(CERTS.c.worker_id.in_(bindparam("worker_ids", expanding=True)), *still_held(bindparam("today"))))


def issue_group(rows: list[dict], caller) -> list[tuple[str, str, str]]:
    """(masked id, outcome, detail) for each row (``id_number``, ``category``), in order, once the
    group is committed; outcome ``issued`` (detail: the serial), ``already_issued`` (this body
    issued it before: the serial) or ``refused`` (the reasons). Raises, with the group rolled
    back, on anything else."""
    try:
        results = _issue(rows, caller)
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    return results


def _issue(rows: list[dict], caller) -> list[tuple[str, str, str]]:
    app = current_app
    catalogue = load_catalogue()
    protector, base_url = app.extensions["identity"], app.config["PUBLIC_BASE_URL"]
    now = utcnow()
    today = clock.today(now)
    out: list = [None] * len(rows)
    wanted = []
    for i, row in enumerate(rows):
        try:
            number = normalize_id_number(row.get("id_number", ""))
        except IdentityError as err:
            out[i] = ("", "refused", err.code)
            continue
        masked, code = mask_id_number(number), row.get("category", "")
        if catalogue.category(code) is None:
            out[i] = (masked, "refused", "unknown_category")
            continue
        wanted.append((i, protector.lookup_hash(number), masked, code))
    workers = {}
    if wanted:
        hashes = sorted({h for _, h, _, _ in wanted})
        workers = {w.id_hash: w for w in db.session.execute(_WORKERS, {"hashes": hashes})}
    ids = sorted({w.id for w in workers.values()})
    held = {}
    if ids:
        held = {(h.worker_id, h.category): (h.serial, h.issuer_id)
                for h in db.session.execute(_HELD, {"worker_ids": ids, "today": today})}
    attendance, exams = records_of(ids)
    waivers = waivers_of(ids)
    allowed: dict[str, bool] = {}
    planned = []
    for i, id_hash, masked, code in wanted:
        worker = workers.get(id_hash)
        if worker is None:
            out[i] = (masked, "refused", "worker_not_registered")
            continue
        holding = held.get((worker.id, code))
        if holding is not None and holding[1] == caller.org_id:
            out[i] = (masked, "already_issued", holding[0])
            continue
        if code not in allowed:
            allowed[code] = accredited(caller.org_id, code, now + CHINA)
        if not allowed[code]:
            out[i] = (masked, "refused", Forbidden.title)  # as the API's 403 is titled
            continue
        if not tok.name_fits(worker.name, base_url):
            out[i] = (masked, "refused", NAME_TOO_LONG)  # as the API's 422
            continue
        ev = evidence_for(worker.id, code, now, attendance=attendance.get(worker.id, []),
                          exams=exams.get((worker.id, code), []), waivers=waivers.get((worker.id, code), []))
        if ev.problems:
            out[i] = (masked, "refused", " ".join(ev.problems))
            continue
        if holding is not None:
            out[i] = (masked, "refused", Conflict.title)  # another body's: the API's 409
            continue
        serial = tok.serial_text(tok.new_serial())
        held[(worker.id, code)] = (serial, caller.org_id)  # the worker's next row for it: already issued
        out[i] = (masked, "issued", serial)
        planned.append((serial, worker, code, ev))
    if planned:
        _write(planned, caller, now, today)
    return out


def _write(planned, caller, now, today) -> None:
    """Sign, render and store the group's certificates, with their tokens, events, audit entries
    and the rules' bookkeeping."""
    signer, base_url = current_app.extensions["signer"], current_app.config["PUBLIC_BASE_URL"]
    catalogue = load_catalogue().at(now)  # validity and review: the rules in force on the day of issue
    rules = rule_code(catalogue)
    key = active_key(caller.org_id) or ensure_key(db.session.get(Organization, caller.org_id), signer)
    kid = bytes(key.kid)
    certs, tokens, events, entries, issued = [], [], [], [], []
    for serial, worker, code, ev in planned:
        valid_until, review_due = dates(catalogue.category(code), today)
        token = signer.sign_token(key, claims(serial, caller.org_id, code, worker, valid_until, review_due, now))
        text = tok.qr_text(token, base_url)
        version, png, svg = qr.render(text)
        evidence = json.dumps(snapshot(ev), ensure_ascii=False)
        certs.append({"serial": serial, "worker_id": worker.id, "category": code, "issuer_id": caller.org_id,
                      "kid": kid, "issued_at": now, "rules": rules, "valid_until": valid_until, "review_due": review_due,
                      "status": "valid", "status_reason": None, "status_at": None, "token": token,
                      "qr_text": text, "qr_version": version, "qr_png": png, "qr_svg": svg, "evidence": evidence,
                      "open_findings": 0, "confirmed_findings": 0, "created_at": utcnow()})
        tokens.append({"token_hash": hashlib.sha256(token).digest(), "serial": serial, "signed_at": now, "kid": kid})
        events.append({"serial": serial, "event": "issued", "reason": None, "by_org": caller.org_id,
                       "by_key": caller.key_id})
        entries.append({"event": "certificate.issued", "actor_org": caller.org_id, "actor_key": caller.key_id,
                        "subject": serial, "detail": {"signing_kid": kid.hex()}})
        issued.append(Issued(serial, worker.id, code, caller.org_id, now, evidence,
                             (ev.attendance_rows, ev.exam_rows)))
    db.session.execute(INSERT_CERTIFICATE, certs)  # the certificates first: the rest refer to them
    db.session.execute(INSERT_TOKEN, tokens)
    db.session.execute(INSERT_EVENT, events)
    audit.record_many(entries)
    certificates_issued.send(caller.org_id, certificates=issued)
