"""The console of a training body and an exam centre: its home page, and the page families put
together on the one ``console`` blueprint (``bp``), which ``accounts_views`` registers.

- ``console_pages``: the blueprint, paging, the filters and what every page needs;
- ``console_uploads``: reading a clerk's spreadsheet, a row at a time, and the report on it;
- ``console_classes``: classes, rosters and trainers;
- ``console_attendance``: sessions and attendance, by grid or upload, and voiding;
- ``console_exams``: an exam centre's results, by upload and by exam session, and voiding.

Every page goes through ``accounts_guard.page`` (signed in, right kind, right role) and every
record of another organisation answers 404. ``certificates`` and ``verify`` build their consoles
on ``console_pages`` (paging, filters) and ``console_uploads`` (spreadsheets).

Must not: issue, print or revoke certificates (``certificates/issuance/console.py`` does, a layer
up); show a full identity number or put one in a URL (forms POST it; pages show the masked form).
"""
from __future__ import annotations

from datetime import timedelta

from flask import g, render_template
from sqlalchemy import func, select

from training import console_attendance, console_classes, console_exams  # noqa: F401  (routes register on import)
from training.account_models import ClassMember, TrainingClass
from training.accounts_guard import page
from training.console_pages import bp
from training.db import db, utcnow
from training.models import Exam, Trainer, TrainingSession


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
