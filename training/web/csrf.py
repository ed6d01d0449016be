"""CSRF protection for every HTML form: a token tied to the browser, checked on every POST.

The token is an HMAC, under a key derived from ``SECRET_KEY``, of a value only this browser
holds: its session cookie once signed in, before that a random ``az_pre`` cookie set with the
form. A cross-site page can make the browser send the cookies but cannot read them or the token,
so it cannot produce a matching form field. Pages call ``csrf_token()``; blueprints call
``protect(bp)`` so every unsafe request to them is checked before the view runs.

Must not: accept a token from the query string (it would end up in logs and Referer headers).
"""
from __future__ import annotations

import hashlib
import hmac
import secrets

from flask import Blueprint, Flask, abort, current_app, request

from training.config import secret_bytes

SESSION_COOKIE = "az_session"
PRE_COOKIE = "az_pre"
FIELD = "csrf_token"
HEADER = "X-CSRF-Token"


def _key() -> bytes:
    return hmac.new(secret_bytes(current_app.config, "SECRET_KEY"), b"anzheng:csrf:v1", hashlib.sha256).digest()


def _binding() -> str:
    """The browser's secret this request's token is tied to (made now if it has none yet)."""
    bound = request.cookies.get(SESSION_COOKIE)
    if bound:
        return "s:" + bound
    pre = request.cookies.get(PRE_COOKIE) or request.environ.get("anzheng.pre_new")
    if not pre or len(pre) > 100:
        pre = request.environ["anzheng.pre_new"] = secrets.token_urlsafe(24)
    return "p:" + pre


def csrf_token() -> str:
    return hmac.new(_key(), _binding().encode(), hashlib.sha256).hexdigest()


def valid(offered: str | None) -> bool:
    if not offered or len(offered) != 64:
        return False
    bound = request.cookies.get(SESSION_COOKIE)
    pre = request.cookies.get(PRE_COOKIE)
    for binding in (f"s:{bound}" if bound else None, f"p:{pre}" if pre else None):
        if binding and hmac.compare_digest(
                hmac.new(_key(), binding.encode(), hashlib.sha256).hexdigest(), offered):
            return True
    return False


def protect(bp: Blueprint) -> None:
    @bp.before_request
    def _check():
        if request.method in ("GET", "HEAD", "OPTIONS"):
            return None
        if not valid(request.form.get(FIELD) or request.headers.get(HEADER)):
            abort(400, description="csrf")
        return None


def secure_cookies() -> bool:
    return current_app.config.get("PUBLIC_BASE_URL", "").startswith("https://")


def init_app(app: Flask) -> None:
    app.jinja_env.globals["csrf_token"] = csrf_token

    @app.after_request
    def _set_pre(resp):
        fresh = request.environ.get("anzheng.pre_new")
        if fresh:
            resp.set_cookie(PRE_COOKIE, fresh, httponly=True, samesite="Lax", secure=secure_cookies(),
                            max_age=12 * 3600)
        return resp
