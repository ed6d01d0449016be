"""Tables of the web console: personal accounts, their sign-in sessions and failures, the keys
issued to them, and the class roster that a training body's pages group their work by.

An account belongs to one organisation and acts with that organisation's rights, narrowed by its
role (and, at a regulator, its duties). Passwords are stored only as argon2 hashes and TOTP
secrets only encrypted. A session row is found by the SHA-256 of the cookie's value, so the table
never holds a usable session token. Nothing here decides policy: ``training.accounts.service`` does.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Index, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from training.db import db, new_id, utcnow
from training.db.models import ID
from training.parties.models import Organization


class Account(db.Model):
    __tablename__ = "accounts"
    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    organization_id: Mapped[str] = mapped_column(ForeignKey("organizations.id"), index=True)
    login: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    badge: Mapped[str | None] = mapped_column(String(50))
    role: Mapped[str] = mapped_column(String(20))  # administrator | clerk | officer | analyst
    duties: Mapped[str] = mapped_column(String(200), default="")  # space-separated, regulators only
    password_hash: Mapped[str] = mapped_column(String(200))
    must_change_password: Mapped[int] = mapped_column(Integer, default=1)
    totp_secret_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    totp_enrolled_at: Mapped[datetime | None] = mapped_column(DateTime)
    totp_last_step: Mapped[int] = mapped_column(Integer, default=0)  # refuses a code used once already
    locked_until: Mapped[datetime | None] = mapped_column(DateTime)
    disabled_at: Mapped[datetime | None] = mapped_column(DateTime)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    created_by: Mapped[str | None] = mapped_column(ID)  # the administrator's account id, or None (command line)
    organization: Mapped[Organization] = relationship(lazy="joined")

    @property
    def duty_set(self) -> frozenset[str]:
        return frozenset(self.duties.split())


class AccountSession(db.Model):
    """A signed-in browser. ``stage`` is ``password`` (second factor still owed), ``enrol``
    (second factor being set up) or ``full``; only ``full`` opens pages."""
    __tablename__ = "account_sessions"
    token_hash: Mapped[bytes] = mapped_column(LargeBinary(32), primary_key=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"), index=True)
    stage: Mapped[str] = mapped_column(String(10))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime)  # the absolute limit
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime)
    client: Mapped[str | None] = mapped_column(String(64))
    account: Mapped[Account] = relationship(lazy="joined")


class SignInFailure(db.Model):
    """One refused sign-in: counted per account (or, for a name no account has, per keyed hash
    of the name) for lock-out and per client for throttling."""
    __tablename__ = "sign_in_failures"
    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    account_id: Mapped[str | None] = mapped_column(ID)
    login_digest: Mapped[bytes | None] = mapped_column(LargeBinary(32))  # unknown names only
    client: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    __table_args__ = (Index("ix_sign_in_failures_account_at", "account_id", "at"),
                      Index("ix_sign_in_failures_client_at", "client", "at"),
                      Index("ix_sign_in_failures_login_digest_at", "login_digest", "at"))


class SignInLock(db.Model):
    """The lock-out of a sign-in name no account has, kept as an account's would be, so that a
    lock-out does not tell which names exist. The name is kept only as a keyed hash (a password
    typed into the name field must not be readable here)."""
    __tablename__ = "sign_in_locks"
    login_digest: Mapped[bytes] = mapped_column(LargeBinary(32), primary_key=True)
    locked_until: Mapped[datetime | None] = mapped_column(DateTime)


class AccountKey(db.Model):
    """Which person an API key belongs to (the key itself lives in ``api_keys``): issued to them
    on the console, or minted with one of their keys."""
    __tablename__ = "account_keys"
    key_id: Mapped[str] = mapped_column(ForeignKey("api_keys.id"), primary_key=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"), index=True)
    label: Mapped[str] = mapped_column(String(100))
    issued_by: Mapped[str | None] = mapped_column(ID)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    # The key whose holder minted this one through the API (None: issued on the console); revoking
    # that key revokes this one.
    minted_with: Mapped[str | None] = mapped_column(ID, index=True)
