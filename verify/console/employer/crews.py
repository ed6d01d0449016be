"""A crew checked in the console: a CSV or XLSX of workers read and shown first (who each row names, in which role, from which day), then each row checked as one pre-start check, with their receipts in one go."""
from __future__ import annotations

import json
from datetime import date

from flask import Response, current_app, g, render_template, request
from marshmallow import ValidationError

from training.accounts import service as accounts
from training.accounts.guard import page
from training.accounts.words import say
from training.catalogue import load_catalogue
from training.console.uploads import UploadError, read_table
from training.db import db
from training.db.audit import refused
from training.errors import ApiError, TooManyRequests
from training.parties.models import Organization
from training.people.lookups import count as count_lookups, same_name
from training.web.i18n import t
from verify.console.employer import bp
from verify.console.employer.checks import one_check
from verify.console.employer.pages import (
    EMPLOYERS,
    MAX_CREW,
    caller,
    kind,
    partners,
    presented_token,
    roles,
    was_presented,
    worker_by_id,
    worker_by_number,
)
from verify.console.employer.words import OUTCOMES, crew_words, refusal, short_reasons, words
from verify.prestart.service import (
    answer_of,
)

CREW_HEAD = {"id_number": "id_number", "身份证号": "id_number", "身份证号码": "id_number", "公民身份号码": "id_number",
             "worker_id": "worker_id", "人员编号": "worker_id", "name": "name", "姓名": "name",
             "role": "role", "岗位": "role", "工种": "role", "starts_on": "starts_on", "上岗日期": "starts_on"}


CREW_TEMPLATE = ["身份证号", "姓名", "岗位", "上岗日期"]


def read_crew() -> list[tuple[int, dict]]:
    """(spreadsheet row, row) for each row of the uploaded CSV (UTF-8 or GBK) or XLSX."""
    table = read_table("%Y-%m-%d", MAX_CREW)  # more is refused while reading
    head = [CREW_HEAD.get("".join(str(h).split()).lower(), "") for h in (table[0] if table else [])]
    if "id_number" not in head and "worker_id" not in head:
        raise UploadError("missing_column", columns="身份证号")
    rows = [(n, {h: str(v).strip() for h, v in zip(head, r) if h})
            for n, r in enumerate(table[1:], start=2) if any(str(v).strip() for v in r)]
    if len(rows) > MAX_CREW:
        raise UploadError("too_many_rows", limit=MAX_CREW)
    return rows


def find_role(text: str) -> str | None:
    text = text.strip()
    for role in load_catalogue().roles.values():
        if text in (role.code, role.name, role.name_en) or text.lower() == role.name_en.lower():
            return role.code
    return None


def crew_row(n: int, row: dict, role: str, starts_on: str) -> dict:
    """One row of the file as the crew page shows it before checking: who, which role, or why not."""
    out = {"row": n, "name": row.get("name", "")[:100], "masked": "", "role": role, "outcome": "ready", "message": ""}
    if row.get("role"):
        out["role"] = find_role(row["role"]) or ""
    starts_on = row.get("starts_on", "").replace("/", "-")[:10] or starts_on
    worker, problem = None, None
    if row.get("worker_id"):
        worker = worker_by_id(row["worker_id"])
        problem = None if worker else "worker_not_found"
    elif row.get("id_number"):
        worker, problem, _ = worker_by_number(row["id_number"], row.get("name", "")[:100], counted=True)
    else:
        problem = "who_missing"
    if worker is not None:
        out.update(name=worker.name, masked=worker.id_masked)
        if row.get("name") and row["name"] != worker.name:
            out["message"] = say("name_differs")
    try:
        if starts_on:
            date.fromisoformat(starts_on)
    except ValueError:
        problem = problem or "bad_date"
    problem = problem or ("unknown_role" if row.get("role") and not out["role"] else None if out["role"] else "no_role")
    if problem:
        return {**out, "outcome": "refused", "message": crew_words(problem)}
    item = {"w": worker.id, "r": out["role"], "s": starts_on, "n": n}
    if row.get("id_number") and same_name(row.get("name"), worker.name):
        item["p"] = presented_token(worker.id)  # name and number given together: the check may answer
    out["item"] = json.dumps(item, separators=(",", ":"))
    return out


@bp.get("/prestart/crew")
@page(kinds=EMPLOYERS)
def crew():
    return render_template("console_employer_crew.html", roles=roles(),
                           hosts=partners("host") if kind() != "enterprise" else [])


@bp.get("/prestart/crew/template.csv")
@page(kinds=EMPLOYERS)
def crew_template():
    body = "\ufeff" + ",".join(CREW_TEMPLATE) + "\r\n"
    return Response(body, mimetype="text/csv", headers={"Content-Disposition": 'attachment; filename="crew.csv"'})


@bp.post("/prestart/crew")
@page(kinds=EMPLOYERS)
def crew_read():
    role, starts_on = request.form.get("role", "")[:40], request.form.get("starts_on", "")[:10]
    try:
        rows = read_crew()
    except UploadError as err:
        return render_template("console_employer_crew.html", roles=roles(), error=say(err.code, **err.values),
                               hosts=partners("host") if kind() != "enterprise" else []), 422
    try:
        count_lookups([row["id_number"] for _, row in rows if row.get("id_number") and not row.get("worker_id")],
                      caller(), current_app.extensions["identity"])
    except TooManyRequests as err:
        refused(err)
        return render_template("console_employer_crew.html", roles=roles(), error=words("too_many_lookups"),
                               hosts=partners("host") if kind() != "enterprise" else []), 429
    out = [crew_row(n, row, role, starts_on) for n, row in rows]
    db.session.rollback()  # reading only; nothing of this step is kept
    return render_template("console_employer_crew_run.html", rows=out, host=request.form.get("host", "")[:16],
                           host_org=db.session.get(Organization, request.form.get("host", "")[:16] or "-"),
                           filename=(request.files["file"].filename or "")[:100], done=False, receipts_href="",
                           starts_on=starts_on)


def check_item(raw: str, index: int, host: str) -> dict:
    """Check one crew row in its own savepoint: the row's result as the crew table shows it."""
    try:
        item = json.loads(raw)
        worker_id, role, starts_on, n = str(item["w"]), str(item["r"]), str(item.get("s") or ""), int(item["n"])
        presented = was_presented(worker_id, item.get("p", ""))
    except (ValueError, KeyError, TypeError):
        return {"index": index, "row": 0, "outcome": "refused", "message": say("invalid")}
    worker = worker_by_id(worker_id)
    out = {"index": index, "row": n, "role": role, "name": worker.name if worker else "",
           "masked": worker.id_masked if worker else ""}
    savepoint = db.session.begin_nested()
    try:
        check = one_check(worker_id, role, starts_on, host, presented)
        savepoint.commit()
    except (ValidationError, ApiError) as err:
        savepoint.rollback()
        return {**out, "outcome": "refused", "message": refusal(err)}
    a = answer_of(check)
    return {**out, "outcome": "cleared" if check.cleared else "not_cleared", "message": short_reasons(a),
            "check_id": check.id}


@bp.post("/prestart/crew/run")
@page(kinds=EMPLOYERS)
def crew_run():
    host = request.form.get("host", "")[:16]
    indexes = request.form.getlist("index")
    items = request.form.getlist("item")[:MAX_CREW]
    results = [check_item(raw, int(indexes[i]) if i < len(indexes) and indexes[i].isdigit() else i, host)
               for i, raw in enumerate(items)]
    accounts.record(g.account, "console.crew_checked", g.account.organization_id, rows=len(results),
                    cleared=sum(r["outcome"] == "cleared" for r in results))
    db.session.commit()
    if request.accept_mimetypes.best == "application/json":
        return {"results": [{**r, "label": t(*OUTCOMES[r["outcome"]][0]), "style": OUTCOMES[r["outcome"]][1],
                             "href": f"/console/prestart/{r['check_id']}" if r.get("check_id") else ""}
                            for r in results]}
    skipped = []
    for raw in request.form.getlist("skip")[:MAX_CREW]:
        try:
            skipped.append({**json.loads(raw), "outcome": "refused"})
        except ValueError:
            continue
    rows = sorted(results + skipped, key=lambda r: r.get("row", 0))
    ids = [r["check_id"] for r in rows if r.get("check_id")]
    return render_template("console_employer_crew_run.html", rows=rows, host=host, done=True, filename="", starts_on="",
                           host_org=db.session.get(Organization, host or "-"),
                           receipts_href="/console/prestart/receipts?ids=" + ",".join(ids) if ids else "")
