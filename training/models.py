"""Tables of the bottom layer: parties, keys, accreditation, people, sites and training evidence.

Times are stored as naive UTC. Records are never edited to correct them: a mistaken attendance
or exam is voided (``voided_at`` and ``void_reason``) and a new one recorded. Every evidence row
keeps ``created_at`` (when it was entered) beside the time it describes.
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
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from training.db import db, new_id, utcnow

ID = String(16)


class Organization(db.Model):
    __tablename__ = "organizations"
    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20), index=True)
    credit_code: Mapped[str] = mapped_column(String(18), unique=True)
    region: Mapped[str | None] = mapped_column(String(6))
    industry: Mapped[str | None] = mapped_column(String(30))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class ApiKey(db.Model):
    __tablename__ = "api_keys"
    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    organization_id: Mapped[str] = mapped_column(ForeignKey("organizations.id"), index=True)
    secret_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    holder_name: Mapped[str | None] = mapped_column(String(100))
    holder_badge: Mapped[str | None] = mapped_column(String(50))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column(DateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime)
    organization: Mapped[Organization] = relationship(lazy="joined")


class Accreditation(db.Model):
    __tablename__ = "accreditations"
    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    organization_id: Mapped[str] = mapped_column(ForeignKey("organizations.id"), index=True)
    valid_from: Mapped[date] = mapped_column(Date)
    valid_until: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(12), default="active")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    categories: Mapped[list[AccreditationCategory]] = relationship(
        lazy="selectin", cascade="all, delete-orphan", order_by="AccreditationCategory.category")
    events: Mapped[list[AccreditationEvent]] = relationship(
        lazy="selectin", order_by="AccreditationEvent.at")


class AccreditationCategory(db.Model):
    __tablename__ = "accreditation_categories"
    accreditation_id: Mapped[str] = mapped_column(ForeignKey("accreditations.id"), primary_key=True)
    category: Mapped[str] = mapped_column(String(40), primary_key=True)
    __table_args__ = (Index("ix_accreditation_categories_category", "category"),)


class AccreditationEvent(db.Model):
    """History of an accreditation's status: kept, never rewritten."""
    __tablename__ = "accreditation_events"
    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    accreditation_id: Mapped[str] = mapped_column(ForeignKey("accreditations.id"), index=True)
    status: Mapped[str] = mapped_column(String(12))
    reason: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    by_key_id: Mapped[str | None] = mapped_column(ID)


class Person:
    """Columns shared by workers and trainers: a person registered once by identity number."""
    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(100))
    id_hash: Mapped[str] = mapped_column(String(64), unique=True)
    id_cipher: Mapped[bytes] = mapped_column(LargeBinary)
    id_masked: Mapped[str] = mapped_column(String(18))
    home_region: Mapped[str] = mapped_column(String(6))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    created_by: Mapped[str | None] = mapped_column(ID)


class Worker(Person, db.Model):
    __tablename__ = "workers"


class Trainer(Person, db.Model):
    __tablename__ = "trainers"


class Site(db.Model):
    __tablename__ = "sites"
    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(200))
    enterprise_id: Mapped[str | None] = mapped_column(ForeignKey("organizations.id"), index=True)
    latitude: Mapped[float] = mapped_column(Float)
    longitude: Mapped[float] = mapped_column(Float)
    risk_class: Mapped[str] = mapped_column(String(12), default="normal")
    created_by: Mapped[str] = mapped_column(ID)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


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


class IdempotencyRecord(db.Model):
    """A created response kept under its Idempotency-Key, committed with the work it describes,
    for ``IDEMPOTENCY_TTL_HOURS``; secrets in the response are kept as null."""
    __tablename__ = "idempotency_records"
    organization_id: Mapped[str] = mapped_column(ID, primary_key=True)
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    endpoint: Mapped[str] = mapped_column(String(200))
    request_hash: Mapped[str] = mapped_column(String(64))
    status: Mapped[int] = mapped_column(Integer)
    body: Mapped[str] = mapped_column(Text)  # the answer as replayed: never a secret (training/http.py)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, index=True)  # pruned by age


class AuditEntry(db.Model):
    """Append-only, hash-chained trail of security-relevant events."""
    __tablename__ = "audit_entries"
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    event: Mapped[str] = mapped_column(String(60))
    actor_org: Mapped[str | None] = mapped_column(ID)
    actor_key: Mapped[str | None] = mapped_column(ID)
    subject: Mapped[str | None] = mapped_column(String(100))
    detail: Mapped[str] = mapped_column(Text, default="{}")
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class AuditCheckpoint(db.Model):
    """A signed checkpoint of the audit chain's head (certificates/audit_checkpoints.py makes it).
    Only a copy: what anchors the chain are the copies outside this database, the published
    endpoint's and the append-only file's."""
    __tablename__ = "audit_checkpoints"
    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    size: Mapped[int] = mapped_column(Integer, unique=True)  # entries covered: seq 1..size
    head: Mapped[str] = mapped_column(String(64))  # hash of entry ``size``
    made_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, index=True)
    document: Mapped[str] = mapped_column(Text)  # the signed JSON, byte for byte as published


class Meta(db.Model):
    """Small counters other layers poll cheaply (e.g. the key table's generation)."""
    __tablename__ = "meta"
    key: Mapped[str] = mapped_column(String(50), primary_key=True)
    value: Mapped[int] = mapped_column(Integer, default=0)
