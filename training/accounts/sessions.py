"""Signing in: the password step, the second factor, lock-out, throttling, and server-side sessions.

A session lives in the database (so every gunicorn worker and node sees it) under the SHA-256 of
its cookie value. It ends after 30 minutes idle or 12 hours in all, whichever comes first, and at
sign-out. A session that has passed only the password step opens no page, lasts 10 minutes, and
is replaced by a new token when the second factor is passed (so a token seen before sign-in is
worth nothing after it). Five failures on one account within 15 minutes lock it for 15 minutes
(a name no account has is locked the same way, in ``sign_in_locks``); twenty failures from one client within 15 minutes throttle that client. Every limit can be set
in the app's config (``ACCOUNT_*``).

Must not: say whether a sign-in name exists (unknown names cost the same and read the same);
keep a usable token in the database.
"""
from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import delete, func, select

from training.accounts import service as accounts, totp
from training.accounts.models import Account, AccountSession, SignInFailure, SignInLock
from training.config import secret_bytes
from training.db import db, utcnow

DEFAULTS = {"ACCOUNT_IDLE_MINUTES": 30, "ACCOUNT_ABSOLUTE_HOURS": 12, "ACCOUNT_PENDING_MINUTES": 10,
            "ACCOUNT_LOCK_AFTER": 5, "ACCOUNT_LOCK_WINDOW_MINUTES": 15, "ACCOUNT_LOCK_MINUTES": 15,
            "ACCOUNT_CLIENT_FAILURES": 20}
TOUCH_EVERY = timedelta(seconds=60)  # the idle clock is kept to the minute, not written per request


def setting(name: str) -> int:
    return int(current_app.config.get(name, DEFAULTS[name]))


class SignInRefused(Exception):
    """Why a sign-in was refused: ``bad_credentials``, ``locked``, ``throttled`` or ``bad_code``."""

    def __init__(self, code: str, retry_after: int | None = None):
        super().__init__(code)
        self.code, self.retry_after = code, retry_after


@dataclass
class Opened:
    token: str
    session: AccountSession


def _digest(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


def client_wait(client: str, now: datetime | None = None) -> int | None:
    """Seconds this client must wait before trying again, or None."""
    now = now or utcnow()
    since = now - timedelta(minutes=setting("ACCOUNT_LOCK_WINDOW_MINUTES"))
    count = db.session.scalar(select(func.count()).select_from(SignInFailure).where(
        SignInFailure.client == client, SignInFailure.at > since))
    if count < setting("ACCOUNT_CLIENT_FAILURES"):
        return None
    first = db.session.scalar(select(func.min(SignInFailure.at)).where(
        SignInFailure.client == client, SignInFailure.at > since))
    return max(1, int((first - since).total_seconds()))


def _locked_wait(lock: Account | SignInLock, now: datetime) -> int | None:
    if lock.locked_until and lock.locked_until > now:
        return int((lock.locked_until - now).total_seconds()) + 1
    return None


def _name_digest(login: str) -> bytes:
    key = hmac.new(secret_bytes(current_app.config, "SECRET_KEY"), b"anzheng:sign-in-name:v1", hashlib.sha256)
    return hmac.new(key.digest(), login.encode(), hashlib.sha256).digest()


def _name_lock(login: str) -> SignInLock:
    """The lock of a name no account has (a new, unsaved one when it was never locked)."""
    digest = _name_digest(login)
    return db.session.get(SignInLock, digest) or SignInLock(login_digest=digest, locked_until=None)


def _fail(lock: Account | SignInLock, client: str, now: datetime) -> None:
    """Count the failure against the account, or the unknown name, exactly alike."""
    known = isinstance(lock, Account)
    db.session.add(SignInFailure(account_id=lock.id if known else None, client=client[:64], at=now,
                                 login_digest=None if known else lock.login_digest))
    db.session.flush()
    since = now - timedelta(minutes=setting("ACCOUNT_LOCK_WINDOW_MINUTES"))
    mine = SignInFailure.account_id == lock.id if known else SignInFailure.login_digest == lock.login_digest
    count = db.session.scalar(select(func.count()).select_from(SignInFailure).where(mine, SignInFailure.at > since))
    if count >= setting("ACCOUNT_LOCK_AFTER") and not _locked_wait(lock, now):
        lock.locked_until = now + timedelta(minutes=setting("ACCOUNT_LOCK_MINUTES"))
        if known:
            accounts.record(lock, "account.locked", lock.id, failures=count)
        else:
            db.session.add(lock)


def sign_in(login: str, password: str, client: str) -> Opened:
    """The password step. Commit after it either way: a failure must be counted even though the
    request is refused."""
    now = utcnow()
    wait = client_wait(client, now)
    if wait:
        raise SignInRefused("throttled", wait)
    name = (login or "").strip().lower()[:64]
    account = db.session.scalar(select(Account).where(Account.login == name))
    good = accounts.check_password(account, password or "")
    if account is not None and account.disabled_at is not None:
        good = False
    # An unknown name is locked out like an account, so a lock-out does not tell which exist.
    lock = account if account is not None else _name_lock(name)
    locked = _locked_wait(lock, now)
    if locked:
        # Said whatever the password: a guesser learns nothing while the account is locked.
        _fail(lock, client, now)
        raise SignInRefused("locked", locked)
    if not good:
        _fail(lock, client, now)
        locked = _locked_wait(lock, now)
        raise SignInRefused("locked" if locked else "bad_credentials", locked)
    if account.totp_enrolled_at is not None:
        stage = "password"
    elif totp.totp_required(account):
        stage = "enrol"
    else:
        stage = "full"
    if stage == "full":
        accounts.record(account, "account.signed_in", account.id, factors=1)
    return open_session(account, stage, client, now)


def second_factor(opened: AccountSession, code: str, client: str) -> Opened:
    """The TOTP step (or the enrolment's confirming code): a new token for the full session."""
    account, now = opened.account, utcnow()
    locked = _locked_wait(account, now)
    if locked:
        raise SignInRefused("locked", locked)
    if opened.stage == "enrol":
        good = totp.confirm_enrolment(account, code)
    else:
        good = totp.check_code(account, code)
    if not good:
        _fail(account, client, now)
        locked = _locked_wait(account, now)
        if locked:
            opened.revoked_at = now
            raise SignInRefused("locked", locked)
        raise SignInRefused("bad_code")
    opened.revoked_at = now
    accounts.record(account, "account.signed_in", account.id, factors=2)
    return open_session(account, "full", client, now)


def open_session(account: Account, stage: str, client: str, now: datetime | None = None) -> Opened:
    now = now or utcnow()
    token = secrets.token_urlsafe(32)
    if stage == "full":
        limit = now + timedelta(hours=setting("ACCOUNT_ABSOLUTE_HOURS"))
    else:
        limit = now + timedelta(minutes=setting("ACCOUNT_PENDING_MINUTES"))
    row = AccountSession(token_hash=_digest(token), account_id=account.id, stage=stage, created_at=now,
                         last_seen_at=now, expires_at=limit, client=client[:64])
    row.account = account
    db.session.add(row)
    db.session.flush()
    if secrets.randbelow(50) == 0:
        prune(now)
    return Opened(token, row)


def find_session(token: str | None, now: datetime | None = None) -> AccountSession | None:
    """The live session behind a cookie value, its idle clock moved on; None if it has ended."""
    if not token or len(token) > 100:
        return None
    now = now or utcnow()
    row = db.session.get(AccountSession, _digest(token))
    if row is None or row.revoked_at is not None or row.expires_at <= now:
        return None
    if row.stage == "full" and row.last_seen_at + timedelta(minutes=setting("ACCOUNT_IDLE_MINUTES")) <= now:
        return None
    if row.account.disabled_at is not None:
        return None
    if now - row.last_seen_at >= TOUCH_EVERY:
        row.last_seen_at = now
        db.session.commit()
    return row


def close_session(row: AccountSession) -> None:
    row.revoked_at = utcnow()
    accounts.record(row.account, "account.signed_out", row.account_id)


def prune(now: datetime) -> None:
    """Drop sessions and failures long past any use (a day after they stopped counting)."""
    day = timedelta(days=1)
    db.session.execute(delete(AccountSession).where(AccountSession.expires_at < now - day))
    db.session.execute(delete(SignInFailure).where(SignInFailure.at < now - day))
    db.session.execute(delete(SignInLock).where(SignInLock.locked_until < now - day))
