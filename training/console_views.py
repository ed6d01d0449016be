"""Pages of a training body's and an exam centre's daily work: classes and their rosters, trainers,
sessions, attendance for a whole class (grid and upload), and exam results (upload, by session).

Every page goes through ``accounts_guard.page`` (signed in, right kind, right role) and every
record of another organisation answers 404. Uploads (CSV in UTF-8 or GBK, or XLSX) are read row
by row, each row standing alone in its own savepoint, and answered with a per-row report.

Must not: issue, print or revoke certificates (``certificates/console_views.py`` does, a layer
up); show a full identity number or put one in a URL (forms POST it; pages show the masked form).
"""
from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import Blueprint, Response, current_app, flash, g, redirect, render_template, request
from sqlalchemy import func, select

from . import accounts
from .account_models import ClassMember, ClassSession, TrainingClass
from .accounts_guard import install, own, page, refuse
from .accounts_words import say
from .catalogue import load_catalogue
from .db import db, utcnow
from .errors import ApiError
from .i18n import t
from .evidence import CHINA, record_attendance, record_exam, record_session, void_record
from .identity import IdentityError, normalize_id_number
from .models import Accreditation, AccreditationCategory, Attendance, Exam, Trainer, TrainingSession, Worker
from .service import register_trainer, register_worker

bp = Blueprint("console", __name__, url_prefix="/console")
install(bp)
BODY, CENTRE = ("training_body",), ("exam_centre",)
PER_PAGE, MAX_ROWS = 25, 2000
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


# --- small pieces every page uses -----------------------------------------------------------

@bp.app_template_filter("cst")
def cst(value, fmt: str = "%Y-%m-%d %H:%M") -> str:
    return (value + CHINA).strftime(fmt) if value else ""


@bp.app_template_global("category_name")
def category_name(code: str | None) -> str:
    cat = load_catalogue().category(code) if code else None
    return t(cat.name, cat.name_en) if cat else (code or "")


@dataclass
class Page:
    items: list
    number: int
    pages: int
    total: int


def paged(stmt, rows: bool = False, per: int = PER_PAGE) -> Page:
    try:
        number = max(1, int(request.args.get("page", 1)))
    except ValueError:
        number = 1
    total = db.session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
    pages = max(1, math.ceil(total / per))
    number = min(number, pages)
    run = db.session.execute if rows else db.session.scalars
    items = run(stmt.limit(per).offset((number - 1) * per)).all()
    return Page(list(items), number, pages, total)


class UploadError(Exception):
    def __init__(self, code: str, **values):
        super().__init__(code)
        self.code, self.values = code, values


def read_upload(required: tuple[str, ...]) -> list[tuple[int, dict]]:
    """(spreadsheet row number, row) for each row of the uploaded CSV or XLSX, headers mapped."""
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        raise UploadError("unreadable_file")
    raw = upload.read()
    try:
        if raw[:2] == b"PK":
            from openpyxl import load_workbook
            sheet = load_workbook(io.BytesIO(raw), read_only=True, data_only=True).active
            table = [["" if v is None else (v.strftime("%Y-%m-%d %H:%M") if isinstance(v, datetime) else str(v))
                      for v in r] for r in sheet.iter_rows(values_only=True)]
        else:
            try:
                text = raw.decode("utf-8-sig")
            except UnicodeDecodeError:
                text = raw.decode("gb18030")  # what Excel in Chinese saves as "CSV"
            table = list(csv.reader(io.StringIO(text)))
    except Exception:  # noqa: BLE001  a file that is not a table of text is a user's mistake, not ours
        raise UploadError("unreadable_file")
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


TEMPLATES_HEAD = {"name": "姓名", "id_number": "身份证号", "check_in": "签到时间", "check_out": "签退时间",
                  "category": "考试类别", "taken_at": "考试时间", "duration_minutes": "考试用时",
                  "theory_score": "理论成绩", "practical_score": "实操成绩", "examiner": "考评员"}


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


def _caller():
    return accounts.caller_for(g.account)


def _protector():
    return current_app.extensions["identity"]


def _one(fn):
    """Run one row in its own savepoint: (ok, error code or None)."""
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


# --- home -----------------------------------------------------------------------------------

@bp.get("/")
@page()
def home():
    org_id, kind = g.account.organization_id, g.account.organization.kind
    stats, recent = {}, []
    if kind == "training_body":
        stats = {"classes": db.session.scalar(select(func.count()).where(TrainingClass.organization_id == org_id)),
                 "trainees": db.session.scalar(
                     select(func.count(func.distinct(ClassMember.worker_id)))
                     .join(TrainingClass, TrainingClass.id == ClassMember.class_id)
                     .where(TrainingClass.organization_id == org_id)),
                 "sessions": db.session.scalar(select(func.count()).where(TrainingSession.organization_id == org_id)),
                 "trainers": db.session.scalar(select(func.count()).where(Trainer.created_by == org_id))}
        recent = db.session.scalars(select(TrainingClass).where(TrainingClass.organization_id == org_id)
                                    .order_by(TrainingClass.created_at.desc()).limit(5)).all()
    elif kind == "exam_centre":
        since = utcnow() - timedelta(days=30)
        live = (Exam.exam_centre_id == org_id, Exam.voided_at.is_(None))
        stats = {"results": db.session.scalar(select(func.count()).where(*live)),
                 "recent": db.session.scalar(select(func.count()).where(*live, Exam.taken_at >= since)),
                 "passed": db.session.scalar(select(func.count()).where(*live, Exam.taken_at >= since, Exam.passed))}
    return render_template("console_home.html", stats=stats, recent=recent, kind=kind)


# --- classes and rosters ----------------------------------------------------------------------

def accredited_categories(org_id: str) -> list[str]:
    today = (utcnow() + CHINA).date()
    return sorted(set(db.session.scalars(select(AccreditationCategory.category).join(Accreditation).where(
        Accreditation.organization_id == org_id, Accreditation.status == "active",
        Accreditation.valid_from <= today, Accreditation.valid_until >= today))))


def get_class(class_id: str) -> TrainingClass | None:
    return own(db.session.get(TrainingClass, class_id) if len(class_id) <= 16 else None)


def class_counts(cls: TrainingClass) -> dict:
    return {"members": db.session.scalar(select(func.count()).where(ClassMember.class_id == cls.id)),
            "sessions": db.session.scalar(select(func.count()).where(ClassSession.class_id == cls.id))}


@bp.get("/classes")
@page(kinds=BODY)
def classes():
    org_id = g.account.organization_id
    members = select(func.count()).where(ClassMember.class_id == TrainingClass.id).scalar_subquery()
    sessions = select(func.count()).where(ClassSession.class_id == TrainingClass.id).scalar_subquery()
    stmt = select(TrainingClass, members, sessions).where(TrainingClass.organization_id == org_id)
    q, cat = request.args.get("q", "").strip(), request.args.get("category", "")
    if q:
        stmt = stmt.where(TrainingClass.name.contains(q))
    if cat:
        stmt = stmt.where(TrainingClass.category == cat)
    listing = paged(stmt.order_by(TrainingClass.created_at.desc()), rows=True)
    return render_template("console_classes.html", listing=listing, q=q, category=cat,
                           categories=accredited_categories(org_id) or sorted(load_catalogue().categories))


@bp.post("/classes")
@page("records", kinds=BODY)
def create_class():
    name, category = request.form.get("name", "").strip(), request.form.get("category", "")
    if not 1 <= len(name) <= 200 or load_catalogue().category(category) is None:
        flash(say("required"), "bad")
        return redirect("/console/classes")
    cls = TrainingClass(organization_id=g.account.organization_id, name=name, category=category,
                        created_by=g.account.id)
    db.session.add(cls)
    db.session.flush()
    accounts.record(g.account, "console.class_created", cls.id, name=name, category=category)
    db.session.commit()
    return redirect(f"/console/classes/{cls.id}")


@bp.get("/classes/<class_id>")
@page(kinds=BODY)
def roster(class_id):
    cls = get_class(class_id)
    if cls is None:
        return refuse(404, say("not_found"))
    stmt = select(ClassMember).join(Worker).where(ClassMember.class_id == cls.id)
    q = request.args.get("q", "").strip()
    if q:
        stmt = stmt.where(Worker.name.contains(q) | Worker.id_masked.endswith(q[-4:]))
    listing = paged(stmt.order_by(ClassMember.added_at, Worker.name))
    return render_template("console_roster.html", cls=cls, listing=listing, q=q, counts=class_counts(cls), tab="roster")


def add_member(cls: TrainingClass, name: str, raw_id: str) -> tuple[str, str, str]:
    """(masked id, outcome, code) for one person put on a roster."""
    number = normalize_id_number(raw_id)
    worker, created = register_worker({"name": name, "id_number": number}, _protector(), _caller())
    if db.session.get(ClassMember, (cls.id, worker.id)) is not None:
        return worker.id_masked, "skipped", "already_in_class"
    db.session.add(ClassMember(class_id=cls.id, worker_id=worker.id, added_by=g.account.id))
    db.session.flush()
    if not created and worker.name != name:
        return worker.id_masked, "warning", "name_differs"
    return worker.id_masked, "added", ""


@bp.post("/classes/<class_id>/roster")
@page("records", kinds=BODY)
def roster_add(class_id):
    cls = get_class(class_id)
    if cls is None:
        return refuse(404, say("not_found"))
    back = f"/console/classes/{cls.id}"
    if "file" in request.files:
        try:
            rows = read_upload(("name", "id_number"))
        except UploadError as err:
            return upload_refused(err, back)
    else:
        rows = [(0, {"name": request.form.get("name", ""), "id_number": request.form.get("id_number", "")})]
    out = []
    for n, row in rows:
        name, result = row.get("name", "").strip(), {}

        def one():
            if not name or len(name) > 100:
                raise UploadError("missing_name")
            result["masked"], result["outcome"], result["code"] = add_member(cls, name, row.get("id_number", ""))
        code = _one(one)
        said = code or result.get("code")
        out.append({"row": n, "name": name, "masked": result.get("masked", ""),
                    "outcome": "refused" if code else result["outcome"], "message": say(said) if said else ""})
    accounts.record(g.account, "console.roster_added", cls.id, rows=len(rows),
                    added=sum(r["outcome"] in ("added", "warning") for r in out))
    db.session.commit()
    if len(rows) == 1 and rows[0][0] == 0:
        r = out[0]
        said = r["message"] or t("已加入名单。", "Added to the roster.")
        flash(f"{r['name']} {r['masked']}：{said}", "bad" if r["outcome"] == "refused" else "ok")
        return redirect(back)
    return report(f"{cls.name} · {t('名单上传结果', 'Roster upload')}", out, back)


# --- trainers ---------------------------------------------------------------------------------

@bp.get("/trainers")
@page(kinds=BODY)
def trainers():
    stmt = select(Trainer).where(Trainer.created_by == g.account.organization_id)
    q = request.args.get("q", "").strip()
    if q:
        stmt = stmt.where(Trainer.name.contains(q))
    return render_template("console_trainers.html", listing=paged(stmt.order_by(Trainer.name)), q=q)


@bp.post("/trainers")
@page("records", kinds=BODY)
def add_trainer():
    name = request.form.get("name", "").strip()
    try:
        if not 1 <= len(name) <= 100:
            raise UploadError("missing_name")
        number = normalize_id_number(request.form.get("id_number", ""))
        trainer, _ = register_trainer({"name": name, "id_number": number}, _protector(), _caller())
    except (IdentityError, UploadError) as err:
        flash(say(err.code), "bad")
        return redirect("/console/trainers")
    accounts.record(g.account, "console.trainer_registered", trainer.id)
    db.session.commit()
    flash(t(f"已登记教师 {trainer.name}（{trainer.id_masked}）。",
            f"Trainer {trainer.name} ({trainer.id_masked}) registered."), "ok")
    return redirect("/console/trainers")


# --- sessions and attendance --------------------------------------------------------------------

def class_sessions(cls: TrainingClass) -> list[TrainingSession]:
    return db.session.scalars(select(TrainingSession).join(ClassSession, ClassSession.session_id == TrainingSession.id)
                              .where(ClassSession.class_id == cls.id).order_by(TrainingSession.starts_at)).all()


def org_trainers() -> list[Trainer]:
    return db.session.scalars(select(Trainer).where(Trainer.created_by == g.account.organization_id)
                              .order_by(Trainer.name)).all()


@bp.get("/classes/<class_id>/sessions")
@page(kinds=BODY)
def sessions(class_id):
    cls = get_class(class_id)
    if cls is None:
        return refuse(404, say("not_found"))
    return render_template("console_sessions.html", cls=cls, sessions=class_sessions(cls), trainers=org_trainers(),
                           counts=class_counts(cls), tab="sessions", today=(utcnow() + CHINA).date())


@bp.post("/classes/<class_id>/sessions")
@page("records", kinds=BODY)
def add_session(class_id):
    cls = get_class(class_id)
    if cls is None:
        return refuse(404, say("not_found"))
    back = f"/console/classes/{cls.id}/sessions"
    f = request.form
    try:
        start = parse_local(f"{f.get('date', '')} {f.get('start', '')}")
        hours = float(f.get("hours", "0"))
        capacity = int(f.get("capacity") or class_counts(cls)["members"] or 1)
        if not 0 < hours <= 12 or not 1 <= capacity <= 1000:
            raise UploadError("range")
    except (UploadError, ValueError) as err:
        flash(say(getattr(err, "code", "range")), "bad")
        return redirect(back)
    trainer = db.session.get(Trainer, f.get("trainer_id", "")[:16])
    if trainer is None or trainer.created_by != g.account.organization_id:
        flash(t("请选择本机构登记的教师。", "Choose a trainer registered by your organisation."), "bad")
        return redirect(back)
    location = (f.get("location", "").strip() or g.account.organization.name)[:200]
    session = record_session({"category": cls.category, "kind": "initial", "starts_at": start,
                              "ends_at": start + timedelta(hours=hours), "location": location,
                              "trainer_id": trainer.id, "capacity": capacity}, _caller())
    db.session.add(ClassSession(class_id=cls.id, session_id=session.id))
    accounts.record(g.account, "console.session_recorded", session.id, class_id=cls.id)
    db.session.commit()
    flash(t("已添加课程。", "Session added."), "ok")
    return redirect(back)


def attendance_map(cls: TrainingClass, sessions_: list[TrainingSession]) -> dict[tuple[str, str], Attendance]:
    ids = [s.id for s in sessions_]
    if not ids:
        return {}
    rows = db.session.scalars(select(Attendance).where(Attendance.session_id.in_(ids), Attendance.voided_at.is_(None)))
    return {(a.session_id, a.worker_id): a for a in rows}


@bp.get("/classes/<class_id>/attendance")
@page(kinds=BODY)
def attendance(class_id):
    cls = get_class(class_id)
    if cls is None:
        return refuse(404, say("not_found"))
    sessions_ = class_sessions(cls)
    members = db.session.scalars(select(ClassMember).join(Worker).where(ClassMember.class_id == cls.id)
                                 .order_by(ClassMember.added_at, Worker.name)).all()
    return render_template("console_attendance.html", cls=cls, sessions=sessions_, members=members,
                           marks=attendance_map(cls, sessions_), counts=class_counts(cls), tab="attendance")


def _attend(session: TrainingSession, worker_id: str, check_in: datetime, check_out: datetime) -> None:
    if db.session.scalar(select(Attendance.id).where(
            Attendance.session_id == session.id, Attendance.worker_id == worker_id, Attendance.voided_at.is_(None))):
        raise UploadError("already_recorded")
    record_attendance(session, {"worker_id": worker_id, "check_in": check_in, "check_out": check_out}, _caller())


@bp.post("/classes/<class_id>/attendance")
@page("records", kinds=BODY)
def attendance_grid(class_id):
    cls = get_class(class_id)
    if cls is None:
        return refuse(404, say("not_found"))
    sessions_ = {s.id: s for s in class_sessions(cls)}
    members = set(db.session.scalars(select(ClassMember.worker_id).where(ClassMember.class_id == cls.id)))
    done, refused = 0, []
    for cell in request.form.getlist("cell")[: 1000 * 50]:
        session_id, _, worker_id = cell.partition(":")
        session = sessions_.get(session_id)
        if session is None or worker_id not in members:
            continue
        code = _one(lambda: _attend(session, worker_id, session.starts_at, session.ends_at))
        if code is None:
            done += 1
        elif code != "already_recorded":
            refused.append(say(code))
    accounts.record(g.account, "console.attendance_grid", cls.id, recorded=done)
    db.session.commit()
    flash(t(f"已记录 {done} 条考勤。", f"{done} attendance records saved."), "ok")
    for message in sorted(set(refused)):
        flash(message, "bad")
    return redirect(f"/console/classes/{cls.id}/attendance")


@bp.post("/classes/<class_id>/attendance/upload")
@page("records", kinds=BODY)
def attendance_upload(class_id):
    cls = get_class(class_id)
    if cls is None:
        return refuse(404, say("not_found"))
    back = f"/console/classes/{cls.id}/attendance"
    try:
        rows = read_upload(("id_number", "check_in", "check_out"))
    except UploadError as err:
        return upload_refused(err, back)
    sessions_ = class_sessions(cls)
    members = {m.worker.id_hash: m.worker
               for m in db.session.scalars(select(ClassMember).where(ClassMember.class_id == cls.id))}
    out = []
    for n, row in rows:
        result = {}

        def one():
            digest = _protector().lookup_hash(row.get("id_number", ""))
            worker = members.get(digest)
            if worker is None:
                raise UploadError("not_in_class")
            result.update(name=worker.name, masked=worker.id_masked)
            check_in, check_out = parse_local(row.get("check_in", "")), parse_local(row.get("check_out", ""))
            session = next((s for s in sessions_ if s.starts_at <= check_in < s.ends_at), None)
            if session is None:
                raise UploadError("no_session")
            _attend(session, worker.id, check_in, check_out)
        code = _one(one)
        out.append({"row": n, "name": result.get("name", ""), "masked": result.get("masked", ""),
                    "outcome": "refused" if code else "recorded", "message": say(code) if code else ""})
    accounts.record(g.account, "console.attendance_upload", cls.id, rows=len(rows),
                    recorded=sum(r["outcome"] == "recorded" for r in out))
    db.session.commit()
    return report(f"{cls.name} · {t('考勤上传结果', 'Attendance upload')}", out, back)


@bp.get("/sessions/<session_id>")
@page(kinds=BODY)
def session_detail(session_id):
    session = own(db.session.get(TrainingSession, session_id) if len(session_id) <= 16 else None)
    if session is None:
        return refuse(404, say("not_found"))
    link = db.session.scalar(select(ClassSession).where(ClassSession.session_id == session.id))
    rows = db.session.execute(select(Attendance, Worker).join(Worker, Worker.id == Attendance.worker_id)
                              .where(Attendance.session_id == session.id).order_by(Worker.name)).all()
    return render_template("console_session.html", session=session, rows=rows,
                           cls=db.session.get(TrainingClass, link.class_id) if link else None)


@bp.post("/attendance/<att_id>/void")
@page("records", kinds=BODY)
def void_attendance(att_id):
    att = db.session.get(Attendance, att_id) if len(att_id) <= 16 else None
    if att is None or att.session.organization_id != g.account.organization_id:
        return refuse(404, say("not_found"))
    reason = request.form.get("reason", "").strip()[:500]
    if not reason:
        flash(t("作废须写明原因。", "Give a reason for voiding."), "bad")
    elif att.voided_at is None:
        void_record(att, reason, _caller(), att.session.organization_id)
        accounts.record(g.account, "console.attendance_voided", att.id, reason=reason)
        db.session.commit()
        flash(t("考勤记录已作废；学时将重新计算。", "Attendance voided; hours will be counted again."), "ok")
    return redirect(f"/console/sessions/{att.session_id}")

# --- the exam centre: results by exam session, upload, void ---------------------------------------

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
        raise UploadError(code)
    if not low <= value <= high or value != value:
        raise UploadError(code)
    return value


def exam_row(row: dict) -> tuple[Worker, Exam | None]:
    """Record one uploaded result: (worker, exam); exam None when it was already recorded."""
    number = normalize_id_number(row.get("id_number", ""))
    worker = db.session.scalar(select(Worker).where(Worker.id_hash == _protector().lookup_hash(number)))
    if worker is None:
        if not row.get("name"):
            raise UploadError("not_registered")
        worker, _ = register_worker({"name": row["name"][:100], "id_number": number}, _protector(), _caller())
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
    return worker, record_exam(data, _caller())


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
    try:
        number = max(1, int(request.args.get("page", 1)))
    except ValueError:
        number = 1
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
    out = []
    for n, row in rows:
        result = {}

        def one():
            worker, exam = exam_row(row)
            result.update(name=worker.name, masked=worker.id_masked,
                          outcome="skipped" if exam is None else ("passed" if exam.passed else "failed"))
        code = _one(one)
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
        void_record(exam, reason, _caller(), exam.exam_centre_id)
        accounts.record(g.account, "console.exam_voided", exam.id, reason=reason)
        db.session.commit()
        flash(t("成绩已作废。", "Result voided."), "ok")
    return redirect(f"/console/exams/{exam.category}/{(exam.taken_at + CHINA):%Y-%m-%d}")
