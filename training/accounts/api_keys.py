"""API keys: made, stored hashed, looked up in constant time, and checked on every endpoint.

A key reads ``az_<key id>_<secret>``. Only SHA-256 of the secret is stored (the secret carries
192 random bits, so a slow hash adds nothing); the row is found by its id and the secret compared
with ``hmac.compare_digest``. The organisation's kind decides what a key may do: every view
names the kinds it admits through ``require``.

A key held by a person (``account_keys``: issued on the console, or minted through the API with
that person's key) is that person's: it stops working once the account is disabled or gone, and
the person's console role narrows it as on the console. ``API_ACTIONS`` names the console action
(``training.accounts.roles.ACTIONS``) each endpoint needs; ``check_role`` applies it to every /api/v1
request before the view runs, and refuses a person's key on a write endpoint the table does not
name, so an endpoint added later is closed to people until it is given its action.

The lookup is one read on the autocommit reader engine (``db.FastRead``), not the ORM
session: it runs on every authenticated request, verification included, and must not open the
request's unit of work. A failed key is written to the audit trail and counted per client;
past ``RATE_LIMIT_AUTH_FAILURES`` the client gets 429 with Retry-After instead of 401.
"""
from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime
from functools import wraps

from blinker import Namespace
from flask import request
from sqlalchemy import bindparam, select

from training.accounts.models import Account, AccountKey
from training.db import FastRead, audit, db, new_id, reader, utcnow
from training.errors import Forbidden, TooManyRequests, Unauthorized
from training.parties.models import ApiKey, Organization

PREFIX = "az_"
# Sent with the client's address on every failed key; a receiver returns the seconds that client
# must wait (over the limit) or None. Sent from here, counted in verify.web.ratelimit.
auth_failed = Namespace().signal("auth-failed")
_K, _O = ApiKey.__table__.c, Organization.__table__.c
_L, _A = AccountKey.__table__.c, Account.__table__.c
# Core, not ORM: this runs on every authenticated request, verification included. The holder's
# account comes in the same read (two primary-key joins), so a dead account's keys cost nothing.
_LOOKUP = FastRead(select(_K.id, _K.secret_hash, _K.expires_at, _K.revoked_at, _K.holder_name, _K.holder_badge,
                           _O.id, _O.kind, _O.name, _L.account_id, _A.id, _A.role, _A.duties, _A.disabled_at)
                  .join_from(ApiKey.__table__, Organization.__table__, _O.id == _K.organization_id)
                  .outerjoin(AccountKey.__table__, _L.key_id == _K.id)
                  .outerjoin(Account.__table__, _A.id == _L.account_id)
                  .where(_K.id == bindparam("id")))


@dataclass(frozen=True)
class Caller:
    key_id: str
    org_id: str
    kind: str
    org_name: str
    holder_name: str | None
    holder_badge: str | None
    # Set when the key is a person's (account_keys): whose, and the console role that narrows it.
    account_id: str | None = None
    role: str | None = None
    duties: frozenset = frozenset()


def make_key() -> tuple[str, str, bytes]:
    """A new key: (key id, the full key shown once, the hash to store)."""
    key_id = new_id()
    secret = secrets.token_urlsafe(24)
    return key_id, f"{PREFIX}{key_id}_{secret}", hashlib.sha256(secret.encode()).digest()


# What make_key gives: a 16-hex-digit id and a token_urlsafe secret. Anything else names no key,
# and is never looked up or written to the audit trail as sent (a NUL byte, say, which
# PostgreSQL refuses in text).
_KEY = re.compile(r"([0-9a-f]{16})_([A-Za-z0-9_-]{1,150})", re.ASCII)


def _parse(header: str) -> tuple[str, str] | None:
    if not header.startswith("Bearer "):
        return None
    token = header[7:].strip()
    if not token.startswith(PREFIX) or len(token) > 200:
        return None
    found = _KEY.fullmatch(token, len(PREFIX))
    return (found[1], found[2]) if found else None


def lookup(header: str | None, now: datetime | None = None) -> Caller | None:
    """The caller behind an Authorization header, or None if it is not a live key."""
    parsed = _parse(header or "")
    if parsed is None:
        return None
    key_id, secret = parsed
    row = _LOOKUP.first(reader(), id=key_id)
    offered = hashlib.sha256(secret.encode()).digest()
    stored = bytes(row[1]) if row else b"\0" * 32
    # Compare even when the row is missing so timing does not tell which ids exist.
    if not hmac.compare_digest(offered, stored) or row is None:
        return None
    now = now or utcnow()
    if row[3] is not None or (row[2] is not None and row[2] <= now):
        return None
    if row[9] is not None:
        # A person's key lives only as long as the person's account does.
        if row[10] is None or row[13] is not None:
            return None
        return Caller(row[0], row[6], row[7], row[8], row[4], row[5], row[10], row[11],
                      frozenset((row[12] or "").split()))
    return Caller(row[0], row[6], row[7], row[8], row[4], row[5])


def current_caller() -> Caller | None:
    """The authenticated caller of this request, if any (looked up once per request)."""
    env = request.environ
    if "anzheng.caller" not in env:
        # Kept on the request itself, not on ``g``: an app context can outlive one request.
        header = request.environ.get("HTTP_AUTHORIZATION")
        env["anzheng.caller"] = lookup(header) if header else None
        env["anzheng.auth_failed"] = bool(header) and env["anzheng.caller"] is None
        if env["anzheng.auth_failed"]:
            env["anzheng.auth_retry_after"] = _failed(header)
    return env["anzheng.caller"]


def _failed(header: str) -> int | None:
    """Count a failed key against the client and audit it; seconds to wait once over the limit.

    The shared counter lives in the layer above, which answers ``auth_failed`` with the wait,
    counting in the session's transaction. Only failures within the limit are audited, so a
    flood of bad keys cannot grow the trail without bound. Both commit here, at once: the
    request is refused either way, and this runs before the request's own unit of work.
    """
    client = request.remote_addr
    waits = [wait for _, wait in auth_failed.send(client) if wait]
    if not waits:
        parsed = _parse(header)
        audit.record("auth.failed", subject=parsed[0] if parsed else None,
                     detail={"client": client, "path": request.path[:100]})
    db.session.commit()  # the count (the receiver's, in this transaction) and the entry
    return max(waits, default=None)


def require(*kinds: str):
    """Admit only live keys of organisations of these kinds (any kind when none are named)."""
    def decorate(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            caller = current_caller()
            if caller is None:
                wait = request.environ.get("anzheng.auth_retry_after")
                if wait:
                    raise TooManyRequests("Too many failed API keys from this client; try again shortly.",
                                          headers={"Retry-After": str(wait)})
                raise Unauthorized("A valid API key is required: Authorization: Bearer <api key>.",
                                   headers={"WWW-Authenticate": "Bearer"})
            if kinds and caller.kind not in kinds:
                raise Forbidden(f"An organisation of kind '{caller.kind}' may not do this.")
            return view(*args, **kwargs)
        wrapper.required_kinds = kinds
        return wrapper
    return decorate


# --- people's keys: roles and ownership -------------------------------------------------------


def bind_minted(key: ApiKey, caller: Caller | None) -> None:
    """A key a person's key makes for their own organisation is that person's too."""
    if caller is None or caller.account_id is None or key.organization_id != caller.org_id:
        return
    db.session.add(AccountKey(key_id=key.id, account_id=caller.account_id, label=f"API ({caller.key_id})"[:100],
                              issued_by=caller.account_id, minted_with=caller.key_id))


def revoke_minted(key_id: str, caller: Caller) -> None:
    """Revoking a key revokes every key minted with it, and theirs: a stolen key's offspring
    must not outlive it."""
    now, pending = utcnow(), [key_id]
    while pending:
        children = db.session.scalars(select(AccountKey.key_id).where(AccountKey.minted_with.in_(pending))).all()
        pending = []
        for child in db.session.scalars(select(ApiKey).where(ApiKey.id.in_(children), ApiKey.revoked_at.is_(None))):
            child.revoked_at = now
            pending.append(child.id)
            audit.record("api_key.revoked", actor_org=caller.org_id, actor_key=caller.key_id, subject=child.id,
                         detail={"minted_with_revoked": key_id})
