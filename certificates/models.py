"""Tables of certificates: signing keys (public part and encrypted private part), certificates,
every token ever issued for them, and their status history.

Only ``certificates.signing`` ever reads ``SigningKey.private_enc``. Certificates are never
deleted; status changes are appended to ``certificate_events``.
"""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, DateTime, ForeignKey, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from training.db import db, new_id, utcnow
from training.db.models import ID
from training.parties.models import Organization
from training.people.models import Worker


class SigningKey(db.Model):
    __tablename__ = "signing_keys"
    kid: Mapped[bytes] = mapped_column(LargeBinary(8), primary_key=True)
    organization_id: Mapped[str] = mapped_column(ForeignKey("organizations.id"), index=True)
    purpose: Mapped[str] = mapped_column(String(12))  # "certificates" | "lists"
    public_key: Mapped[bytes] = mapped_column(LargeBinary(32))
    private_enc: Mapped[bytes] = mapped_column(LargeBinary)
    status: Mapped[str] = mapped_column(String(12), default="active")  # active | retired | compromised
    not_before: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    not_after: Mapped[datetime | None] = mapped_column(DateTime)
    compromised_at: Mapped[datetime | None] = mapped_column(DateTime)
    organization: Mapped[Organization] = relationship(lazy="joined")


class Certificate(db.Model):
    __tablename__ = "certificates"
    serial: Mapped[str] = mapped_column(String(19), primary_key=True)
    worker_id: Mapped[str] = mapped_column(ForeignKey("workers.id"))
    category: Mapped[str] = mapped_column(String(40))
    issuer_id: Mapped[str] = mapped_column(ForeignKey("organizations.id"), index=True)
    kid: Mapped[bytes] = mapped_column(ForeignKey("signing_keys.kid"))
    issued_at: Mapped[datetime] = mapped_column(DateTime)
    # The rule set it was issued under (training/data/rulesets.json): its validity and review.
    rules: Mapped[str | None] = mapped_column(String(16))
    valid_until: Mapped[date] = mapped_column(Date)
    review_due: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(12), default="valid")  # valid | revoked | suspended
    status_reason: Mapped[str | None] = mapped_column(Text)
    status_at: Mapped[datetime | None] = mapped_column(DateTime)
    token: Mapped[bytes] = mapped_column(LargeBinary)
    qr_text: Mapped[str] = mapped_column(Text)
    qr_version: Mapped[int] = mapped_column(Integer)
    qr_png: Mapped[bytes] = mapped_column(LargeBinary)
    qr_svg: Mapped[bytes] = mapped_column(LargeBinary)
    evidence: Mapped[str] = mapped_column(Text)  # JSON snapshot of what issuance rested on
    open_findings: Mapped[int] = mapped_column(Integer, default=0)
    confirmed_findings: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    worker: Mapped[Worker] = relationship(lazy="joined")
    issuer: Mapped[Organization] = relationship(lazy="joined")
    __table_args__ = (Index("ix_certificates_worker_category", "worker_id", "category"),
                      Index("ix_certificates_issuer_time", "issuer_id", "issued_at"))


class CertificateToken(db.Model):
    """Every token the registry ever signed, so an old card stays recognised after a re-signing
    and a correctly signed token the registry never made is told apart (``unregistered``)."""
    __tablename__ = "certificate_tokens"
    token_hash: Mapped[bytes] = mapped_column(LargeBinary(32), primary_key=True)
    serial: Mapped[str] = mapped_column(ForeignKey("certificates.serial"), index=True)
    signed_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    # Which key signed it: a review may re-sign under another key, so the certificate's own kid
    # names only its latest token. The status list pins a compromised key's tokens by it; rows
    # from before this column (NULL) are pinned for every key of the issuer (lists.py).
    kid: Mapped[bytes | None] = mapped_column(ForeignKey("signing_keys.kid"))
    __table_args__ = (Index("ix_certificate_tokens_kid_signed_at", "kid", "signed_at"),)


class CertificateEvent(db.Model):
    __tablename__ = "certificate_events"
    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    serial: Mapped[str] = mapped_column(ForeignKey("certificates.serial"), index=True)
    event: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str | None] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    by_org: Mapped[str | None] = mapped_column(ID)
    by_key: Mapped[str | None] = mapped_column(ID)
