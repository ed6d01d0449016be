"""API keys: made, stored hashed, looked up in constant time, and checked on every endpoint.

A key reads ``az_<key id>_<secret>``. Only SHA-256 of the secret is stored (the secret carries
192 random bits, so a slow hash adds nothing); the row is found by its id and the secret compared
with ``hmac.compare_digest``. The organisation's kind decides what a key may do: every view
names the kinds it admits through ``require``.
"""
from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime
from functools import wraps

from flask import request
from sqlalchemy import bindparam, select

from .db import db, new_id, utcnow
from .errors import Forbidden, Unauthorized
from .models import ApiKey, Organization

PREFIX = "az_"
_K, _O = ApiKey.__table__.c, Organization.__table__.c
# Core, not ORM: this runs on every authenticated request, verification included.
_LOOKUP = (select(_K.id, _K.secret_hash, _K.expires_at, _K.revoked_at, _K.holder_name, _K.holder_badge,
                  _O.id, _O.kind, _O.name)
           .join_from(ApiKey.__table__, Organization.__table__, _O.id == _K.organization_id)
           .where(_K.id == bindparam("id")))


@dataclass(frozen=True)
class Caller:
    key_id: str
    org_id: str
    kind: str
    org_name: str
    holder_name: str | None
    holder_badge: str | None


def make_key() -> tuple[str, str, bytes]:
    """A new key: (key id, the full key shown once, the hash to store)."""
    key_id = new_id()
    secret = secrets.token_urlsafe(24)
    return key_id, f"{PREFIX}{key_id}_{secret}", hashlib.sha256(secret.encode()).digest()


def _parse(header: str) -> tuple[str, str] | None:
    if not header.startswith("Bearer "):
        return None
    token = header[7:].strip()
    if not token.startswith(PREFIX) or len(token) > 200:
        return None
    parts = token[len(PREFIX):].split("_", 1)
    if len(parts) != 2 or len(parts[0]) != 16:
        return None
    return parts[0], parts[1]


def lookup(header: str | None, now: datetime | None = None) -> Caller | None:
    """The caller behind an Authorization header, or None if it is not a live key."""
    parsed = _parse(header or "")
    if parsed is None:
        return None
    key_id, secret = parsed
    row = db.session.execute(_LOOKUP, {"id": key_id}).first()
    offered = hashlib.sha256(secret.encode()).digest()
    stored = bytes(row[1]) if row else b"\0" * 32
    # Compare even when the row is missing so timing does not tell which ids exist.
    if not hmac.compare_digest(offered, stored) or row is None:
        return None
    now = now or utcnow()
    if row[3] is not None or (row[2] is not None and row[2] <= now):
        return None
    return Caller(row[0], row[6], row[7], row[8], row[4], row[5])


def current_caller() -> Caller | None:
    """The authenticated caller of this request, if any (looked up once per request)."""
    env = request.environ
    if "anzheng.caller" not in env:
        # Kept on the request itself, not on ``g``: an app context can outlive one request.
        header = request.headers.get("Authorization")
        env["anzheng.caller"] = lookup(header) if header else None
        env["anzheng.auth_failed"] = bool(header) and env["anzheng.caller"] is None
    return env["anzheng.caller"]


def require(*kinds: str):
    """Admit only live keys of organisations of these kinds (any kind when none are named)."""
    def decorate(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            caller = current_caller()
            if caller is None:
                raise Unauthorized("A valid API key is required: Authorization: Bearer <api key>.",
                                   headers={"WWW-Authenticate": "Bearer"})
            if kinds and caller.kind not in kinds:
                raise Forbidden(f"An organisation of kind '{caller.kind}' may not do this.")
            return view(*args, **kwargs)
        wrapper.required_kinds = kinds
        return wrapper
    return decorate
