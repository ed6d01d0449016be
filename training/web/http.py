"""The HTTP plumbing every API view shares: body parsing, the unit of work, idempotency, paging.

Views stay thin: parse with a schema, call one service function, dump with a schema. A write
view runs in one transaction that commits only when the view succeeds, so a refused request
changes nothing. Nothing here knows a domain rule.
"""
from __future__ import annotations

import base64
import hashlib
import json
import secrets
from contextlib import contextmanager
from datetime import datetime, timedelta
from functools import wraps

from flask import Response, current_app, request
from sqlalchemy import and_, delete, or_
from sqlalchemy.exc import IntegrityError

from training.accounts.api_keys import current_caller
from training.db import db, utcnow
from training.db.models import IdempotencyRecord
from training.errors import BadRequest, Conflict, NotFound

DEFAULT_LIMIT, MAX_LIMIT = 50, 500


def json_body() -> dict:
    """The request body as a JSON object, or a 400 that says what is wrong with it."""
    raw = request.get_data(cache=True)
    if not raw:
        raise BadRequest("The request needs a JSON body.")
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise BadRequest("The body is not valid JSON.") from None
    except RecursionError:  # 16 KB of "[" is within the size cap and deeper than the parser goes
        raise BadRequest("The body is nested too deeply to be a request of this service.") from None
    if not isinstance(body, dict):
        raise BadRequest("The body must be a JSON object.")
    return body


# Sent with every answer. Pages load their scripts, styles and images from this origin only (the
# scanner also draws camera frames and QR images from blob: and data: URLs); nothing may frame
# them; and no Referer leaves them, since a certificate's token is in the /V/ page's path.
PAGE_POLICY = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
               "media-src 'self' blob:; connect-src 'self'; worker-src 'self'; manifest-src 'self'; "
               "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
SECURITY_HEADERS = (("Content-Security-Policy", PAGE_POLICY), ("X-Frame-Options", "DENY"),
                    ("X-Content-Type-Options", "nosniff"), ("Referrer-Policy", "no-referrer"))


def security_headers(resp: Response) -> Response:
    """The headers above on an answer that has not set its own (the console sets a stricter
    policy for its pages)."""
    for name, value in SECURITY_HEADERS:
        resp.headers.setdefault(name, value)
    return resp


def json_response(body, status: int = 200, headers: dict | None = None) -> Response:
    data = json.dumps(body, ensure_ascii=False, separators=(",", ":"))
    resp = Response(data, status=status, mimetype="application/json")
    for k, v in (headers or {}).items():
        resp.headers[k] = v
    return resp


@contextmanager
def unit_of_work():
    """The session's work inside the block commits together, or rolls back on any refusal."""
    try:
        yield db.session
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise


def write(view):
    """One transaction per write request: commit on success, roll back on any refusal."""
    @wraps(view)
    def wrapper(*args, **kwargs):
        with unit_of_work():
            return view(*args, **kwargs)
    return wrapper


def _replay(record: IdempotencyRecord, request_hash: str) -> Response:
    if record.request_hash != request_hash:
        raise Conflict("This Idempotency-Key was already used with a different request body.")
    return json_response(json.loads(record.body), record.status, {"Idempotent-Replayed": "true"})


def _kept_body(response: Response, secrets_in: tuple[str, ...]) -> str:
    """The body to keep for replays: the response without its secrets (a secret is shown once;
    a table that outlives the request must not hold it), with a ``detail`` saying so."""
    text = response.get_data(as_text=True)
    if not secrets_in:
        return text
    body = json.loads(text)
    hidden = [name for name in secrets_in if isinstance(body, dict) and body.get(name) is not None]
    if not hidden:
        return text
    body.update(dict.fromkeys(hidden, None))
    body["detail"] = (f"A replay of the first answer: {', '.join(hidden)} was shown once, in that answer, "
                      "and is not kept.")
    return json.dumps(body, ensure_ascii=False, separators=(",", ":"))


def _ttl() -> timedelta:
    return timedelta(hours=current_app.config.get("IDEMPOTENCY_TTL_HOURS", 24))


def prune_idempotency(now: datetime | None = None) -> int:
    """Delete idempotency records past their lifetime (``IDEMPOTENCY_TTL_HOURS``); how many went."""
    cutoff = (now or utcnow()) - _ttl()
    return db.session.execute(delete(IdempotencyRecord).where(IdempotencyRecord.created_at < cutoff)).rowcount


def _claim(org: str, key: str, digest: str) -> IdempotencyRecord | Response:
    """This key's row, inserted before the work; or the replay of the first answer. An expired
    record is gone: the key is new again."""
    found = db.session.get(IdempotencyRecord, (org, key))
    if found is not None and found.created_at >= utcnow() - _ttl():
        return _replay(found, digest)
    if found is not None:
        db.session.delete(found)
        db.session.flush()
    every = current_app.config.get("IDEMPOTENCY_PRUNE_EVERY", 100)
    if every and secrets.randbelow(every) == 0:  # cheap: one indexed delete now and then
        prune_idempotency()
    record = IdempotencyRecord(organization_id=org, key=key, endpoint=request.path,
                               request_hash=digest, status=0, body="")
    db.session.add(record)
    try:
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        return _replay(db.session.get(IdempotencyRecord, (org, key)), digest)
    return record


def idempotent(view=None, *, secrets_in: tuple[str, ...] = ()):
    """Honour Idempotency-Key: the same key and body return the first response again.

    The key's row is inserted before the work and committed with it, so concurrent retries wait
    on the row's unique key and then replay the first answer instead of doing the work twice.
    ``secrets_in`` names response fields that hold a secret: the kept body has them as null, so
    a replay answers the same ids without the secret. Records live ``IDEMPOTENCY_TTL_HOURS``.
    """
    if view is None:
        return lambda v: idempotent(v, secrets_in=secrets_in)

    @wraps(view)
    def wrapper(*args, **kwargs):
        key = request.headers.get("Idempotency-Key")
        if key is None:
            return view(*args, **kwargs)
        if not (0 < len(key) <= 200) or not key.isprintable():
            raise BadRequest("Idempotency-Key must be 1 to 200 printable characters.")
        caller = current_caller()
        org = caller.org_id if caller else "-"
        digest = hashlib.sha256(request.path.encode() + b"\0" + request.get_data(cache=True)).hexdigest()
        record = _claim(org, key, digest)
        if isinstance(record, Response):
            return record
        response = view(*args, **kwargs)
        record.status, record.body = response.status_code, _kept_body(response, secrets_in)
        return response
    return wrapper


def page_args() -> tuple[int, str | None]:
    try:
        limit = int(request.args.get("limit", DEFAULT_LIMIT))
    except ValueError:
        raise BadRequest("limit must be a whole number.") from None
    if not 1 <= limit <= MAX_LIMIT:
        raise BadRequest(f"limit must be between 1 and {MAX_LIMIT}.")
    return limit, request.args.get("cursor") or None


def _decode_cursor(cursor: str) -> tuple[datetime, str]:
    try:
        stamp, ident = json.loads(base64.urlsafe_b64decode(cursor.encode() + b"==="))
        return datetime.fromisoformat(stamp), str(ident)
    except (ValueError, TypeError):
        raise BadRequest("cursor is not one this service handed out.") from None


def paginate(stmt, model, dump, time_col=None) -> dict:
    """Keyset paging, newest first, on (time column, id): stable while rows are added."""
    limit, cursor = page_args()
    time_col = time_col if time_col is not None else model.created_at
    if cursor:
        stamp, ident = _decode_cursor(cursor)
        stmt = stmt.where(or_(time_col < stamp, and_(time_col == stamp, model.id < ident)))
    rows = db.session.scalars(stmt.order_by(time_col.desc(), model.id.desc()).limit(limit + 1)).all()
    items = rows[:limit]
    next_cursor = None
    if len(rows) > limit:
        last = items[-1]
        stamp = getattr(last, time_col.key)
        next_cursor = base64.urlsafe_b64encode(
            json.dumps([stamp.isoformat(), last.id]).encode()).decode().rstrip("=")
    return {"items": [dump(r) for r in items], "next_cursor": next_cursor}


def get_or_404(model, ident: str, what: str):
    obj = db.session.get(model, ident) if isinstance(ident, str) and len(ident) <= 16 else None
    if obj is None:
        raise NotFound(f"No {what} with id {ident!r}." if isinstance(ident, str) and len(ident) <= 40
                       else f"No such {what}.")
    return obj
