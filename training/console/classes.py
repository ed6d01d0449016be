"""A training body's classes, their rosters (one person by form, or a whole sheet uploaded) and
its trainers, in the console.

Every record of another organisation answers 404. Must not: show a full identity number or put
one in a URL (forms POST it; pages show the masked form), or issue certificates
(``certificates/issuance/console.py`` does, a layer up).
"""
from __future__ import annotations

from flask import flash, g, redirect, render_template, request
from sqlalchemy import func, select

from training.accounts import service as accounts
from training.accounts.guard import page
from training.accounts.words import say
from training.catalogue import load_catalogue
from training.console.models import ClassMember, ClassSession, TrainingClass
from training.console.pages import BODY, accredited_categories, bp, caller, get_class, paged, protector, record_or_404
from training.console.uploads import UploadError, read_upload, report, run_row, upload_refused
from training.db import db
from training.db.audit import refused
from training.errors import TooManyRequests
from training.people.identity import IdentityError, normalize_id_number
from training.people.lookups import count as count_lookups
from training.people.models import Trainer, Worker
from training.people.service import register_trainer, register_worker
from training.web.i18n import t


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
@record_or_404(get_class, "class_id")
def roster(cls):
    stmt = select(ClassMember).join(Worker).where(ClassMember.class_id == cls.id)
    q = request.args.get("q", "").strip()
    if q:
        stmt = stmt.where(Worker.name.contains(q) | Worker.id_masked.endswith(q[-4:]))
    listing = paged(stmt.order_by(ClassMember.added_at, Worker.name))
    return render_template("console_roster.html", cls=cls, listing=listing, q=q, counts=class_counts(cls), tab="roster")


def add_member(cls: TrainingClass, name: str, raw_id: str) -> tuple[str, str, str]:
    """(masked id, outcome, code) for one person put on a roster."""
    number = normalize_id_number(raw_id)
    worker, created = register_worker({"name": name, "id_number": number}, protector(), caller())
    if db.session.get(ClassMember, (cls.id, worker.id)) is not None:
        return worker.id_masked, "skipped", "already_in_class"
    db.session.add(ClassMember(class_id=cls.id, worker_id=worker.id, added_by=g.account.id))
    db.session.flush()
    return worker.id_masked, "added", ""


@bp.post("/classes/<class_id>/roster")
@page("records", kinds=BODY)
@record_or_404(get_class, "class_id")
def roster_add(cls):
    back = f"/console/classes/{cls.id}"
    if "file" in request.files:
        try:
            rows = read_upload(("name", "id_number"))
        except UploadError as err:
            return upload_refused(err, back)
    else:
        rows = [(0, {"name": request.form.get("name", ""), "id_number": request.form.get("id_number", "")})]
    try:
        count_lookups([row.get("id_number", "") for _, row in rows], caller(), protector())
    except TooManyRequests as err:
        refused(err)
        return upload_refused(UploadError("too_many_lookups"), back)
    out = []
    for n, row in rows:
        name, result = row.get("name", "").strip(), {}

        def one():
            if not name or len(name) > 100:
                raise UploadError("missing_name")
            result["masked"], result["outcome"], result["code"] = add_member(cls, name, row.get("id_number", ""))
        code = run_row(one)
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
        trainer, _ = register_trainer({"name": name, "id_number": number}, protector(), caller())
    except (IdentityError, UploadError) as err:
        flash(say(err.code), "bad")
        return redirect("/console/trainers")
    accounts.record(g.account, "console.trainer_registered", trainer.id)
    db.session.commit()
    flash(t(f"已登记教师 {trainer.name}（{trainer.id_masked}）。",
            f"Trainer {trainer.name} ({trainer.id_masked}) registered."), "ok")
    return redirect("/console/trainers")
