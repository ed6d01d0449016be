"""Uploads to the console: a clerk's spreadsheet (CSV in UTF-8 or GBK, or XLSX) read into rows
under known column names, China-time dates read as clerks write them, each row run alone in its
own savepoint, the per-row report that answers an upload, and the blank templates to fill in.

Must not: decide what a row means (the page that takes the upload does) or commit: one bad row
is rolled back to its savepoint and the page commits the rest.
"""
from __future__ import annotations

from datetime import datetime

from flask import Response, flash, redirect, render_template, request

from training import sheets
from training.accounts.guard import page, refuse
from training.accounts.words import say
from training.clock import CHINA
from training.console import bp
from training.db import db
from training.errors import ApiError
from training.people.identity import IdentityError
from training.sheets import SheetError

MAX_ROWS = 2000
MAX_COLUMNS = 50  # the templates have at most 8; clerks add a few of their own
MAX_UNPACKED = 16 * 1024 * 1024  # an XLSX's parts unpacked: 2,000 rows take well under 2 MB
ALIASES = {
    "name": "name", "姓名": "name", "学员姓名": "name",
    "id_number": "id_number", "身份证号": "id_number", "身份证号码": "id_number", "公民身份号码": "id_number",
    "check_in": "check_in", "签到": "check_in", "签到时间": "check_in",
    "check_out": "check_out", "签退": "check_out", "签退时间": "check_out",
    "category": "category", "类别": "category", "培训类别": "category", "考试类别": "category",
    "taken_at": "taken_at", "考试时间": "taken_at", "duration_minutes": "duration_minutes", "用时": "duration_minutes",
    "考试用时": "duration_minutes", "用时分钟": "duration_minutes", "theory_score": "theory_score",
    "理论成绩": "theory_score", "practical_score": "practical_score", "实操成绩": "practical_score",
    "examiner": "examiner", "考评员": "examiner", "answers_digest": "answers_digest", "错题摘要": "answers_digest",
    "wrong_count": "wrong_count", "错题数": "wrong_count",
}
TEMPLATES = {"roster": ["姓名", "身份证号"], "attendance": ["身份证号", "签到时间", "签退时间"],
             "results": ["身份证号", "姓名", "考试类别", "考试时间", "考试用时", "理论成绩", "实操成绩", "考评员"]}
TEMPLATES_HEAD = {"name": "姓名", "id_number": "身份证号", "check_in": "签到时间", "check_out": "签退时间",
                  "category": "考试类别", "taken_at": "考试时间", "duration_minutes": "考试用时",
                  "theory_score": "理论成绩", "practical_score": "实操成绩", "examiner": "考评员"}


class UploadError(Exception):
    def __init__(self, code: str, **values):
        super().__init__(code)
        self.code, self.values = code, values


def read_table(date_format: str = "%Y-%m-%d %H:%M", max_rows: int = MAX_ROWS) -> list[list[str]]:
    """The uploaded CSV (UTF-8 or GBK) or XLSX as rows of text; dates written as ``date_format``.
    More than ``max_rows`` rows under the header, or than MAX_COLUMNS columns, is refused as it is
    read (an XLSX is streamed: training.sheets), never built up in memory first."""
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        raise UploadError("unreadable_file")
    try:
        return sheets.read_table(upload.read(), max_rows, MAX_COLUMNS, MAX_UNPACKED, date_format)
    except SheetError as err:
        raise UploadError(err.code, limit=_shown(err)) from err


def _shown(err: SheetError):
    """The limit as the message shows it: megabytes for a size."""
    return f"{err.limit // (1024 * 1024)} MB" if err.code == "file_too_large" else err.limit


def read_upload(required: tuple[str, ...]) -> list[tuple[int, dict]]:
    """(spreadsheet row number, row) for each row of the uploaded CSV or XLSX, headers mapped."""
    table = read_table()
    if not table:
        raise UploadError("unreadable_file")
    head = [ALIASES.get("".join(str(h).split()).lower().replace("（分钟）", "").replace("(分钟)", ""), "")
            for h in table[0]]
    missing = [c for c in required if c not in head]
    if missing:
        raise UploadError("missing_column", columns=", ".join(TEMPLATES_HEAD.get(c, c) for c in missing))
    rows = [(n, {h: str(v).strip() for h, v in zip(head, r) if h})
            for n, r in enumerate(table[1:], start=2) if any(str(v).strip() for v in r)]
    if len(rows) > MAX_ROWS:
        raise UploadError("too_many_rows", limit=MAX_ROWS)
    return rows


def parse_local(text: str) -> datetime:
    """'2025-03-01 08:30' (China time, as clerks write it; '/' and seconds allowed) → naive UTC."""
    value = text.strip().replace("/", "-").replace("T", " ")
    for fmt in ("%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"):
        try:
            return datetime.strptime(value, fmt) - CHINA
        except ValueError:
            continue
    raise UploadError("bad_time")


def report(title: str, rows: list[dict], back: str, status: int = 200):
    counts: dict[str, int] = {}
    for r in rows:
        counts[r["outcome"]] = counts.get(r["outcome"], 0) + 1
    return render_template("console_report.html", title=title, rows=rows, counts=counts, back=back), status


def upload_refused(err: UploadError, back: str):
    flash(say(err.code, **err.values), "bad")
    return redirect(back)


def run_row(fn):
    """Run one row in its own savepoint: None when it went in, else the error code."""
    savepoint = db.session.begin_nested()
    try:
        fn()
        savepoint.commit()
        return None
    except IdentityError as err:
        savepoint.rollback()
        return err.code
    except UploadError as err:
        savepoint.rollback()
        return err.code
    except ApiError as err:
        savepoint.rollback()
        codes = [e.get("code") for e in (err.errors or [])] or [("not_accredited" if err.status == 403 else "invalid")]
        return codes[0]


@bp.get("/templates/<name>.csv")
@page()
def template_csv(name):
    if name not in TEMPLATES:
        return refuse(404, say("not_found"))
    body = "\ufeff" + ",".join(TEMPLATES[name]) + "\r\n"
    return Response(body, mimetype="text/csv", headers={"Content-Disposition": f'attachment; filename="{name}.csv"'})
