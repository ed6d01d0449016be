"""Pre-start checks in the console: one worker (typed identity number, a scanned certificate code,
or a placement's worker), a crew from a CSV or XLSX file (read and shown first, then checked in
chunks with a progress bar, each row on its own), the answer, and printable signed receipts (one
A4 page per check; a crew's receipts in one go).

Routes attach to ``console_employer_views.bp``. Every check is ``prestart.check_hire`` with the
signed-in person as the caller: recorded, signed, never edited. Must not: show, log or put in a
URL a full identity number (the file and the form carry it in POST bodies only; pages, hidden
fields and results show the masked number or the worker's id).
"""
from __future__ import annotations

from flask import current_app, g, redirect, render_template, request
from marshmallow import ValidationError

from training.accounts import service as accounts
from training.accounts.guard import page, refuse
from training.console.pages import paged
from training.db import db
from training.db.audit import refused
from training.errors import ApiError, TooManyRequests
from training.people.lookups import same_name
from training.people.models import Worker
from training.web.i18n import current_lang
from verify.console.employer import bp
from verify.console.employer.pages import (
    EMPLOYERS,
    MAX_CREW,
    caller,
    kind,
    partners,
    roles,
    worker_by_id,
    worker_by_number,
)
from verify.console.employer.words import crew_words, refusal, words
from verify.prestart.models import PrestartCheck
from verify.prestart.service import (
    PrestartCheckRequestSchema,
    answer_of,
    check_hire,
    visible_checks,
)
from verify.verification.service import verify_text


def own_check(check_id: str) -> PrestartCheck | None:
    if not 0 < len(check_id) <= 16:
        return None
    return db.session.scalar(visible_checks(caller()).where(PrestartCheck.id == check_id))


def who_is(text: str, worker_id: str, name: str = "") -> tuple[Worker | None, str | None, bool]:
    """The worker a check form names: a placement's worker id, a typed identity number (with
    the name, for someone not employed here yet), or the text a scanner read from a
    certificate's QR code; and whether the name and number were presented together."""
    if worker_id:
        worker = worker_by_id(worker_id.strip())
        return worker, None if worker else "worker_not_found", False
    text = (text or "").strip()
    if not text:
        return None, "who_required", False
    if len(text) <= 24:
        worker, problem, _ = worker_by_number(text, name)
        return worker, problem, bool(worker and same_name(name, worker.name))
    outcome = verify_text(text[:4096], current_app.extensions["key_table"], None)
    worker = db.session.get(Worker, outcome.worker_id) if outcome.worker_id else None
    if worker is not None:
        return worker, None, False
    return None, outcome.result if outcome.result in ("not_ours", "forged", "unregistered") else "forged", False


def one_check(worker_id: str, role: str, starts_on: str = "", host: str = "", presented: bool = False) -> PrestartCheck:
    """Ask, sign and record one check for the signed-in person (raises the service's refusals)."""
    body = {"worker_id": worker_id, "role": role}
    if starts_on:
        body["starts_on"] = starts_on
    if host and kind() != "enterprise":
        body["employer_id"] = host
    data = PrestartCheckRequestSchema().load(body)
    return check_hire(data, caller(), current_lang(), presented=presented)[0]


# --- one worker -------------------------------------------------------------------------------


def history():
    stmt = visible_checks(caller()).add_columns(Worker).join(Worker, Worker.id == PrestartCheck.worker_id)
    q, result, role = (request.args.get(k, "").strip() for k in ("q", "result", "role"))
    if q:
        stmt = stmt.where(Worker.name.contains(q) | Worker.id_masked.endswith(q[-4:]))
    if result in ("cleared", "not_cleared"):
        stmt = stmt.where(PrestartCheck.cleared.is_(result == "cleared"))
    if role:
        stmt = stmt.where(PrestartCheck.role == role)
    listing = paged(stmt.order_by(PrestartCheck.checked_at.desc(), PrestartCheck.id), rows=True)
    listing.items = [(c, w, answer_of(c)) for c, w in listing.items]
    return listing, {"q": q, "result": result, "role": role}


def prestart_page(status: int = 200, error: str | None = None, form: dict | None = None):
    listing, filters = history()
    hosts = partners("host") if kind() != "enterprise" else []
    return render_template("console_employer_prestart.html", listing=listing, filters=filters, roles=roles(),
                           hosts=hosts, error=error, form=form or {}), status


@bp.get("/prestart")
@page(kinds=EMPLOYERS)
def prestart():
    return prestart_page(form={"role": request.args.get("role", "")[:40]})


@bp.post("/prestart")
@page(kinds=EMPLOYERS)
def prestart_check():
    f = request.form
    form = {k: f.get(k, "").strip()[:40] for k in ("role", "starts_on", "host")}
    form["name"] = f.get("name", "").strip()[:100]
    try:
        worker, problem, presented = who_is(f.get("who", ""), f.get("worker_id", ""), f.get("name", "").strip()[:100])
    except TooManyRequests as err:
        refused(err)
        return prestart_page(429, words("too_many_lookups"), form)
    if worker is None:
        return prestart_page(422, crew_words(problem), form)
    try:
        check = one_check(worker.id, form["role"], form["starts_on"], form["host"], presented)
    except (ValidationError, ApiError) as err:
        db.session.rollback()
        return prestart_page(422, refusal(err), form)
    accounts.record(g.account, "console.prestart_checked", check.id, cleared=check.cleared)
    db.session.commit()
    return redirect(f"/console/prestart/{check.id}", 303)


@bp.get("/prestart/<check_id>")
@page(kinds=EMPLOYERS)
def answer(check_id):
    check = own_check(check_id)
    if check is None:
        return refuse(404, words("not_found"))
    return render_template("console_employer_answer.html", a=answer_of(check), check=check)


def receipts_page(checks: list[PrestartCheck]):
    return render_template("console_employer_receipt.html", receipts=[(answer_of(c), c.answer) for c in checks],
                           base=current_app.config["PUBLIC_BASE_URL"].rstrip("/"))


@bp.get("/prestart/<check_id>/receipt")
@page(kinds=EMPLOYERS)
def receipt(check_id):
    check = own_check(check_id)
    if check is None:
        return refuse(404, words("not_found"))
    return receipts_page([check])


@bp.get("/prestart/receipts")
@page(kinds=EMPLOYERS)
def receipts():
    wanted = [i for i in request.args.get("ids", "").split(",") if 0 < len(i) <= 16][:MAX_CREW]
    found = {c.id: c for c in db.session.scalars(visible_checks(caller()).where(PrestartCheck.id.in_(wanted)))}
    checks = [found[i] for i in dict.fromkeys(wanted) if i in found]
    if not checks:
        return refuse(404, words("not_found"))
    return receipts_page(checks)


# --- a crew -------------------------------------------------------------------------------------
