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

import json
from datetime import date

from flask import Response, current_app, g, redirect, render_template, request
from marshmallow import ValidationError

from training import accounts
from training.accounts_guard import page, refuse
from training.accounts_words import say
from training.catalogue import load_catalogue
from training.console_pages import category_name, paged
from training.console_uploads import UploadError, read_table
from training.db import db
from training.errors import ApiError, TooManyRequests
from training.i18n import current_lang, t
from training.lookups import count as count_lookups
from training.lookups import refused, same_name
from training.models import Organization, Worker
from verify.console_employer_views import (
    EMPLOYERS,
    bp,
    caller,
    kind,
    partners,
    presented_token,
    roles,
    was_presented,
    worker_by_id,
    worker_by_number,
)
from verify.console_employer_words import refusal, words
from verify.employment_models import PrestartCheck
from verify.prestart import PrestartCheckRequestSchema, answer_of, check_hire, visible_checks
from verify.service import verify_text

CHUNK, MAX_CREW = 10, 500
CREW_HEAD = {"id_number": "id_number", "身份证号": "id_number", "身份证号码": "id_number", "公民身份号码": "id_number",
             "worker_id": "worker_id", "人员编号": "worker_id", "name": "name", "姓名": "name",
             "role": "role", "岗位": "role", "工种": "role", "starts_on": "starts_on", "上岗日期": "starts_on"}
CREW_TEMPLATE = ["身份证号", "姓名", "岗位", "上岗日期"]
SHORT = {"certificate_revoked": ("证书已撤销", "certificate revoked"),
         "certificate_suspended": ("证书已暂停", "certificate suspended"),
         "certificate_expired": ("证书已过期", "certificate expired"),
         "certificate_expires_before_start": ("证书在上岗日前到期", "certificate lapses before the start"),
         "certificate_review_overdue": ("证书逾期未复审", "certificate review overdue"),
         "national_licence_suspended": ("全国特种作业操作证暂扣（录入信息）", "national licence suspended (as recorded)"),
         "national_licence_revoked": ("全国特种作业操作证已吊销（录入信息）", "national licence revoked (as recorded)"),
         "national_licence_expired": ("全国特种作业操作证已过期（录入信息）", "national licence expired (as recorded)"),
         "open_case": ("涉及在办案件", "named in an open case"),
         "confirmed_finding": ("有已认定的问题", "a confirmed finding"),
         "under_review": ("有线索在核查（不影响结论）", "a finding under review (does not change the answer)"),
         "other_induction_not_counted": ("派遣单位等的教育不计入", "induction by others not counted")}
OUTCOMES = {"cleared": (("可以上岗", "Cleared"), "ok"), "not_cleared": (("不能上岗", "Not cleared"), "bad"),
            "refused": (("未核查", "Not checked"), "warn"), "ready": (("待核查", "To check"), "muted")}
CREW_WORDS = {"who_missing": ("这一行没有身份证号（或人员编号）。", "This row has no identity number (or worker id)."),
              "unknown_role": ("岗位不认识，请写岗位名称（如“焊工”）或代码。",
                               "Unknown role; write its name (e.g. “Welder”) or its code."),
              "no_role": ("没有岗位：请在文件中加“岗位”列，或在上传时选择岗位。",
                          "No role: add a “岗位” (role) column, or choose the role when uploading."),
              "bad_date": ("上岗日期格式不对，请写成 2025-03-01。", "The start date is not readable; write it as 2025-03-01.")}


def crew_words(code: str) -> str:
    pair = CREW_WORDS.get(code)
    return t(*pair) if pair else words(code)


def short_reasons(a: dict) -> str:
    """One line of what stands in the way, for a crew's table (the answer page has the full words)."""
    out = []
    for r in a["reasons"] + a["warnings"]:
        if r["code"] == "missing_certificate":
            out.append(t(f"无“{category_name(r.get('category'))}”证书", f"no {category_name(r.get('category'))} certificate"))
        elif r["code"] == "insufficient_induction":
            ind = a["induction"]
            out.append(t("三级安全教育未完成（%g/%g 小时）", "induction incomplete (%g/%g h)")
                       % (ind["completed_hours"], ind["required_hours"]))
        else:
            out.append(t(*SHORT.get(r["code"], (r["code"], r["code"]))))
    return "；".join(out)


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
    return check_hire(data, caller(), current_app.extensions["signer"], current_lang(), presented=presented)[0]


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
