"""An exam centre's results in the console: uploaded as a sheet (a person not yet registered is
registered from the row's name), listed by exam session (a category on a day), and voided with a
reason.

A result already recorded is skipped, not doubled; every record of another centre answers 404.
Must not: decide a pass (``evidence.record_exam`` does, from the scores).
"""
from __future__ import annotations

import math
from datetime import datetime, timedelta

from flask import flash, g, redirect, render_template, request
from sqlalchemy import select

from training.accounts import service as accounts
from training.accounts.guard import own, page, refuse
from training.accounts.words import say
from training.catalogue import load_catalogue
from training.clock import CHINA
from training.console.pages import CENTRE, PER_PAGE, Page, accredited_categories, bp, caller, page_number, protector
from training.console.uploads import UploadError, parse_local, read_upload, report, run_row, upload_refused
from training.db import db
from training.db.audit import refused
from training.errors import TooManyRequests
from training.evidence.models import Exam
from training.evidence.service import record_exam, void_record
from training.people.identity import normalize_id_number
from training.people.lookups import count as count_lookups
from training.people.models import Worker
from training.people.service import register_worker
from training.web.i18n import t


def find_category(text: str):
    text = text.strip()
    for cat in load_catalogue().categories.values():
        if text in (cat.code, cat.name, cat.name_en):
            return cat
    raise UploadError("unknown_category")


def _number(text: str, low: float, high: float, code: str, whole: bool = False):
    try:
        value = int(text) if whole else float(text)
    except ValueError:
        raise UploadError(code) from None
    if not low <= value <= high or value != value:
        raise UploadError(code)
    return value


def exam_row(row: dict) -> tuple[Worker, Exam | None]:
    """Record one uploaded result: (worker, exam); exam None when it was already recorded."""
    number = normalize_id_number(row.get("id_number", ""))
    # By number and name together, never by number alone: a number's existence is no answer an
    # upload gives (a registered number under another name is 409 name_mismatch, as registering).
    if not row.get("name"):
        raise UploadError("not_registered_or_no_name")
    worker, _ = register_worker({"name": row["name"][:100], "id_number": number}, protector(), caller())
    data = {"worker_id": worker.id, "category": find_category(row.get("category", "")).code,
            "taken_at": parse_local(row.get("taken_at", "")),
            "duration_minutes": _number(row.get("duration_minutes", ""), 1, 600, "bad_minutes", whole=True),
            "theory_score": _number(row.get("theory_score", ""), 0, 100, "bad_score"),
            "practical_score": _number(row.get("practical_score", ""), 0, 100, "bad_score"),
            "examiner": (row.get("examiner") or g.account.name)[:100]}
    if row.get("answers_digest"):
        data["answers_digest"] = row["answers_digest"].lower()[:64]
        data["wrong_count"] = _number(row.get("wrong_count") or "0", 0, 1000, "range", whole=True)
    if db.session.scalar(select(Exam.id).where(
            Exam.worker_id == worker.id, Exam.category == data["category"], Exam.taken_at == data["taken_at"],
            Exam.exam_centre_id == g.account.organization_id, Exam.voided_at.is_(None))):
        return worker, None
    return worker, record_exam(data, caller())


@bp.get("/exams")
@page(kinds=CENTRE)
def exams():
    cat = request.args.get("category", "")
    stmt = select(Exam.category, Exam.taken_at, Exam.passed).where(
        Exam.exam_centre_id == g.account.organization_id, Exam.voided_at.is_(None))
    if cat:
        stmt = stmt.where(Exam.category == cat)
    groups: dict[tuple, list] = {}
    for category, taken_at, passed in db.session.execute(stmt):
        groups.setdefault(((taken_at + CHINA).date(), category), []).append(passed)
    ordered = sorted(groups.items(), key=lambda kv: (kv[0][0], kv[0][1]), reverse=True)
    number = page_number()
    pages = max(1, math.ceil(len(ordered) / PER_PAGE))
    number = min(number, pages)
    items = [{"day": day, "category": category, "count": len(v), "passed": sum(v)}
             for (day, category), v in ordered[(number - 1) * PER_PAGE: number * PER_PAGE]]
    return render_template("console_exams.html", listing=Page(items, number, pages, len(ordered)), category=cat,
                           categories=accredited_categories(g.account.organization_id))


@bp.post("/exams/upload")
@page("records", kinds=CENTRE)
def exams_upload():
    try:
        rows = read_upload(("id_number", "category", "taken_at", "duration_minutes", "theory_score", "practical_score"))
    except UploadError as err:
        return upload_refused(err, "/console/exams")
    try:
        count_lookups([row.get("id_number", "") for _, row in rows], caller(), protector())
    except TooManyRequests as err:
        refused(err)
        return upload_refused(UploadError("too_many_lookups"), "/console/exams")
    out = []
    for n, row in rows:
        result = {}

        def one():
            worker, exam = exam_row(row)
            result.update(name=worker.name, masked=worker.id_masked,
                          outcome="skipped" if exam is None else ("passed" if exam.passed else "failed"))
        code = run_row(one)
        outcome = "refused" if code else result["outcome"]
        said = code or ("already_recorded" if outcome == "skipped" else None)
        out.append({"row": n, "name": result.get("name", row.get("name", "")), "masked": result.get("masked", ""),
                    "outcome": outcome, "message": say(said) if said else ""})
    accounts.record(g.account, "console.results_upload", g.account.organization_id, rows=len(rows),
                    recorded=sum(r["outcome"] in ("passed", "failed") for r in out))
    db.session.commit()
    return report(t("考试成绩上传结果", "Exam results upload"), out, "/console/exams")


@bp.get("/exams/<category>/<day>")
@page(kinds=CENTRE)
def exam_session(category, day):
    try:
        start = datetime.strptime(day, "%Y-%m-%d") - CHINA
    except ValueError:
        return refuse(404, say("not_found"))
    rows = db.session.execute(select(Exam, Worker).join(Worker, Worker.id == Exam.worker_id).where(
        Exam.exam_centre_id == g.account.organization_id, Exam.category == category,
        Exam.taken_at >= start, Exam.taken_at < start + timedelta(days=1)).order_by(Exam.taken_at, Worker.name)).all()
    if not rows:
        return refuse(404, say("not_found"))
    return render_template("console_exam_session.html", rows=rows, category=category, day=day)


@bp.post("/exams/<exam_id>/void")
@page("records", kinds=CENTRE)
def void_exam(exam_id):
    exam = own(db.session.get(Exam, exam_id) if len(exam_id) <= 16 else None, "exam_centre_id")
    if exam is None:
        return refuse(404, say("not_found"))
    reason = request.form.get("reason", "").strip()[:500]
    if not reason:
        flash(t("作废须写明原因。", "Give a reason for voiding."), "bad")
    elif exam.voided_at is None:
        void_record(exam, reason, caller(), exam.exam_centre_id)
        accounts.record(g.account, "console.exam_voided", exam.id, reason=reason)
        db.session.commit()
        flash(t("成绩已作废。", "Result voided."), "ok")
    return redirect(f"/console/exams/{exam.category}/{(exam.taken_at + CHINA):%Y-%m-%d}")
