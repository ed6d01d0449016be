"""The console's door: who is signed in, what each page admits, and how refusals read.

``page(action, kinds)`` wraps a console view: no live session sends the browser to sign in; a
session still owing its second factor or a password change goes there first; an organisation of
another kind or a role without the action is refused (403) in words. ``install(bp)`` gives a
blueprint CSRF checks, security headers and readable error pages. Data of another organisation is
the views' to refuse (as 404), with ``own(...)``.

Must not: decide policy (``accounts.may`` does) or touch sessions' storage (``training.accounts.sessions``).
"""
from __future__ import annotations

from functools import wraps
from urllib.parse import urlencode

from flask import Blueprint, Flask, g, redirect, render_template, request
from werkzeug.exceptions import HTTPException

from training.accounts import service as accounts
from training.accounts.models import Account, AccountSession
from training.accounts.sessions import find_session, setting
from training.db import db
from training.errors import ApiError
from training.web import csrf
from training.web.i18n import t

COOKIE_PATH = "/console"


def client_id() -> str:
    return (request.remote_addr or "unknown")[:64]


def current_session(stage: str | None = "full") -> AccountSession | None:
    # Kept on the request, not on ``g``: an app context can outlive one request (tests, CLI).
    env = request.environ
    if "anzheng.account_session" not in env:
        env["anzheng.account_session"] = find_session(request.cookies.get(csrf.SESSION_COOKIE))
    row = env["anzheng.account_session"]
    if row is None or (stage is not None and row.stage != stage):
        return None
    return row


def current_account() -> Account | None:
    row = current_session()
    return row.account if row else None


def set_cookie(resp, token: str) -> None:
    # No max_age: the cookie dies with the browser; the server enforces the real limits.
    resp.set_cookie(csrf.SESSION_COOKIE, token, httponly=True, samesite="Lax", secure=csrf.secure_cookies(),
                    path=COOKIE_PATH)


def clear_cookie(resp) -> None:
    resp.delete_cookie(csrf.SESSION_COOKIE, path=COOKIE_PATH, httponly=True, samesite="Lax",
                       secure=csrf.secure_cookies())


def safe_next(target: str | None) -> str:
    if target and target.startswith("/console") and not target.startswith("//") and "\\" not in target:
        return target
    return "/console/"


def refuse(status: int, message: str):
    return render_template("console_error.html", status=status, message=message), status


def page(action: str = "view", kinds: tuple[str, ...] | None = None):
    def decorate(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            row = current_session(stage=None)
            if row is None:
                return redirect("/console/sign-in?" + urlencode({"next": request.full_path.rstrip("?")}))
            if row.stage != "full":
                return redirect("/console/sign-in/code")
            account = row.account
            if account.must_change_password and request.endpoint != "console.password":
                return redirect("/console/password")
            if kinds and account.organization.kind not in kinds:
                return refuse(403, t("您所在机构的类型不能使用此页面。", "Your organisation's kind may not use this page."))
            if not accounts.may(account, action):
                return refuse(403, t("您的角色没有此项权限，请联系本单位管理员。",
                                     "Your role does not allow this; ask your organisation's administrator."))
            g.account = request.environ["anzheng.account"] = account
            return view(*args, **kwargs)
        wrapper.console_action, wrapper.console_kinds = action, kinds
        return wrapper
    return decorate


def page_account() -> Account | None:
    """The account a guarded page runs as (None on the sign-in pages)."""
    return request.environ.get("anzheng.account")


def own(obj, org_field: str = "organization_id"):
    """The object if it belongs to the signed-in organisation; a 404 page's worth of None otherwise."""
    if obj is None or getattr(obj, org_field) != g.account.organization_id:
        return None
    return obj


def install(bp: Blueprint) -> None:
    csrf.protect(bp)

    @bp.after_request
    def _headers(resp):
        resp.headers.setdefault("Cache-Control", "no-store")
        resp.headers.setdefault("X-Frame-Options", "DENY")
        resp.headers.setdefault("X-Content-Type-Options", "nosniff")
        resp.headers.setdefault("Content-Security-Policy",
                                "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; "
                                "form-action 'self'; base-uri 'none'")
        return resp

    @bp.errorhandler(HTTPException)
    def _http(err):
        db.session.rollback()
        if err.code == 400 and err.description == "csrf":
            return refuse(400, t("此表单已过期或不是从本站打开的。请刷新页面后再提交一次。",
                                 "This form has expired or did not come from this site. Reload the page and submit again."))
        if err.code == 413:
            return refuse(413, t("上传的文件太大（上限 1 MB）。请分成几个文件上传。",
                                 "The file is too large (limit 1 MB). Split it into several files."))
        if err.code == 404:
            return refuse(404, t("没有找到这一页，或它不属于您的单位。", "No such page, or it belongs to another organisation."))
        return refuse(err.code or 500, t("请求无法处理。", "The request could not be handled."))

    @bp.errorhandler(ApiError)
    def _api(err):
        db.session.rollback()
        return refuse(err.status, describe(err))


def describe(err: ApiError) -> str:
    """An ApiError in the clerk's words (codes known to the console), else its own sentence."""
    from training.accounts.words import words_for
    codes = [e.get("code") for e in (err.errors or [])]
    said = [words_for(c) for c in codes if words_for(c)]
    return "；".join(said) if said else {403: t("没有权限进行此操作。", "You may not do this."),
                                        404: t("没有找到。", "Not found.")}.get(err.status, err.detail)


def init_app(app: Flask) -> None:
    csrf.init_app(app)
    app.config.setdefault("SESSION_COOKIE_SAMESITE", "Lax")
    app.config["SESSION_COOKIE_SECURE"] = (app.config.get("ANZHENG_ENV") == "production"
                                           or app.config.get("PUBLIC_BASE_URL", "").startswith("https://"))
    app.jinja_env.globals["console_account"] = page_account
    app.jinja_env.globals["may"] = lambda action: page_account() is not None and accounts.may(page_account(), action)
    app.jinja_env.globals["idle_minutes"] = lambda: setting("ACCOUNT_IDLE_MINUTES")
