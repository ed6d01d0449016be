"""Tables of training evidence: sessions, attendance, enrolments, exams and the credentials (skill
certificates, national licences) that stand for training.

Records are never edited to correct them: a mistaken one is voided (voided_at, void_reason) and a
new one recorded; every row keeps created_at beside the time it describes.
"""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from training.db import db, new_id, utcnow
from training.db.models import ID


class TrainingSession(db.Model):
    __tablename__ = "sessions"
    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    organization_id: Mapped[str] = mapped_column(ForeignKey("organizations.id"), index=True)
    category: Mapped[str | None] = mapped_column(String(40))
    kind: Mapped[str] = mapped_column(String(12))
    level: Mapped[str | None] = mapped_column(String(12))
    starts_at: Mapped[datetime] = mapped_column(DateTime)
    ends_at: Mapped[datetime] = mapped_column(DateTime)
    location: Mapped[str] = mapped_column(String(200))
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    trainer_id: Mapped[str | None] = mapped_column(ForeignKey("trainers.id"))
    capacity: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    __table_args__ = (Index("ix_sessions_trainer_time", "trainer_id", "starts_at"),)


class Attendance(db.Model):
    __tablename__ = "attendance"
    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    session_id: Mapped[str] = mapped_column(ForeignKey("sessions.id"), index=True)
    worker_id: Mapped[str] = mapped_column(ForeignKey("workers.id"))
    check_in: Mapped[datetime] = mapped_column(DateTime)
    check_out: Mapped[datetime] = mapped_column(DateTime)
    hours: Mapped[float] = mapped_column(Float)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    created_by: Mapped[str | None] = mapped_column(ID)
    voided_at: Mapped[datetime | None] = mapped_column(DateTime)
    void_reason: Mapped[str | None] = mapped_column(Text)
    session: Mapped[TrainingSession] = relationship(lazy="joined")
    __table_args__ = (Index("ix_attendance_worker_time", "worker_id", "check_in"),)


class Enrolment(db.Model):
    """A worker enrolled in a training body's session: the body's standing to record the worker's
    attendance there (an employer's induction stands on an employment instead)."""
    __tablename__ = "enrolments"
    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    session_id: Mapped[str] = mapped_column(ForeignKey("sessions.id"))
    worker_id: Mapped[str] = mapped_column(ForeignKey("workers.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    created_by: Mapped[str | None] = mapped_column(ID)  # the key that enrolled
    __table_args__ = (UniqueConstraint("session_id", "worker_id", name="uq_enrolments_session_worker"),)


class Exam(db.Model):
    __tablename__ = "exams"
    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    worker_id: Mapped[str] = mapped_column(ForeignKey("workers.id"))
    category: Mapped[str] = mapped_column(String(40))
    exam_centre_id: Mapped[str] = mapped_column(ForeignKey("organizations.id"), index=True)
    taken_at: Mapped[datetime] = mapped_column(DateTime)
    duration_minutes: Mapped[int] = mapped_column(Integer)
    theory_score: Mapped[float] = mapped_column(Float)
    practical_score: Mapped[float] = mapped_column(Float)
    examiner: Mapped[str] = mapped_column(String(100))
    answers_digest: Mapped[str | None] = mapped_column(String(64), index=True)
    wrong_count: Mapped[int | None] = mapped_column(Integer)
    passed: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    created_by: Mapped[str | None] = mapped_column(ID)
    voided_at: Mapped[datetime | None] = mapped_column(DateTime)
    void_reason: Mapped[str | None] = mapped_column(Text)
    __table_args__ = (Index("ix_exams_worker_category", "worker_id", "category", "taken_at"),)


class Credential(db.Model):
    """A credential the worker holds from outside this service, recorded as evidence by a
    regulator or an exam centre (docs/rules.md): a vocational-skill certificate
    (``skill_certificate``, 职业技能等级证书), which under the 2026 rules stands for the training
    hours of a matching category, or the national licence (``national_licence``,
    特种作业操作证), referenced with its state as last looked up on the national platform, never
    imitated. A licence's number is ``T`` + the holder's identity number, so only its masked form
    is kept. Corrected by voiding and recording again; the latest non-void record of a kind and
    category is the one that counts."""
    __tablename__ = "credentials"
    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    worker_id: Mapped[str] = mapped_column(ForeignKey("workers.id"))
    kind: Mapped[str] = mapped_column(String(20))  # skill_certificate | national_licence
    category: Mapped[str] = mapped_column(String(40))
    number: Mapped[str] = mapped_column(String(40))  # masked for a national licence
    state: Mapped[str] = mapped_column(String(12))  # valid | suspended | revoked | expired
    authority: Mapped[str] = mapped_column(String(200))  # who issued it (the name as printed)
    level: Mapped[str | None] = mapped_column(String(20))  # a skill certificate's grade
    issued_on: Mapped[date] = mapped_column(Date)
    valid_until: Mapped[date | None] = mapped_column(Date)
    checked_on: Mapped[date] = mapped_column(Date)  # when its state was looked up
    recorded_by: Mapped[str] = mapped_column(ForeignKey("organizations.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    created_by: Mapped[str | None] = mapped_column(ID)
    voided_at: Mapped[datetime | None] = mapped_column(DateTime)
    void_reason: Mapped[str | None] = mapped_column(Text)
    __table_args__ = (Index("ix_credentials_worker_kind", "worker_id", "kind", "category"),)
