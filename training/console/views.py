"""The console's home page: a training body's or an exam centre's figures and recent records.

Every page goes through ``training.accounts.guard.page`` (signed in, right kind, right role) and
every record of another organisation answers 404 (``training.console.pages``).
"""
from __future__ import annotations

from datetime import timedelta

from flask import g, render_template
from sqlalchemy import func, select

from training.accounts.guard import page
from training.console import bp
from training.console.models import ClassMember, TrainingClass
from training.db import db, utcnow
from training.evidence.models import Exam, TrainingSession
from training.people.models import Trainer


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
