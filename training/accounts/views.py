"""Pages of accounts: signing in and out, the second factor and its enrolment, changing one's
password, and an administrator's pages for the organisation's accounts and their API keys.

One-time passwords and new API keys are shown once, on the page that answers the form that made
them, and never put in a cookie, a flash message, a URL or a log line.
"""
from __future__ import annotations

from datetime import timedelta

from flask import flash, g, redirect, render_template, request
from sqlalchemy import select

from training.accounts import roles, service as accounts, totp
from training.accounts.guard import clear_cookie, client_id, current_session, page, refuse, safe_next, set_cookie
from training.accounts.models import Account
from training.accounts.sessions import SignInRefused, close_session, second_factor, sign_in
from training.accounts.words import say
from training.console import bp
from training.db import db, utcnow
from training.errors import ApiError
from training.web.i18n import t


def _refusal(err: SignInRefused) -> str:
    minutes = max(1, round((err.retry_after or 60) / 60))
    return say(err.code, minutes=minutes) if err.code in ("locked", "throttled") else say(err.code)


@bp.route("/sign-in", methods=["GET", "POST"])
def sign_in_page():
    target = safe_next(request.values.get("next"))
    if request.method == "GET":
        return render_template("account_sign_in.html", next=target, login="", error=None)
    login = request.form.get("login", "")
    try:
        opened = sign_in(login, request.form.get("password", ""), client_id())
    except SignInRefused as err:
        db.session.commit()  # the failure is counted even though the sign-in is refused
        status = 429 if err.code == "throttled" else 401
        resp = render_template("account_sign_in.html", next=target, login=login[:64], error=_refusal(err))
        return resp, status, ({"Retry-After": str(err.retry_after)} if err.retry_after else {})
    db.session.commit()
    goal = target if opened.session.stage == "full" else "/console/sign-in/code?next=" + target
    resp = redirect(goal)
    set_cookie(resp, opened.token)
    return resp


@bp.route("/sign-in/code", methods=["GET", "POST"])
def code_page():
    row = current_session(stage=None)
    if row is None or row.stage == "full":
        return redirect("/console/sign-in" if row is None else "/console/")
    target = safe_next(request.values.get("next"))
    account, secret, error = row.account, None, None
    if request.method == "POST":
        try:
            opened = second_factor(row, request.form.get("code", ""), client_id())
        except SignInRefused as err:
            db.session.commit()
            if err.code == "locked":
                resp = redirect("/console/sign-in")
                clear_cookie(resp)
                flash(_refusal(err), "bad")
                return resp
            error = _refusal(err)
        else:
            db.session.commit()
            resp = redirect(target)
            set_cookie(resp, opened.token)
            return resp
    if row.stage == "enrol":
        secret = totp.pending_secret(account)
        if secret is None:
            secret, _ = totp.start_enrolment(account)
            db.session.commit()
    return render_template("account_code.html", enrol=row.stage == "enrol", secret=secret, account=account,
                           uri=totp.enrolment_uri(account, secret) if secret else None, next=target,
                           error=error), (401 if error else 200)


@bp.post("/sign-out")
def sign_out():
    row = current_session(stage=None)
    if row is not None:
        close_session(row)
        db.session.commit()
    resp = redirect("/console/sign-in")
    clear_cookie(resp)
    return resp


@bp.route("/password", methods=["GET", "POST"])
@page()
def password():
    error = None
    if request.method == "POST":
        new = request.form.get("new", "")
        if new != request.form.get("new2", ""):
            error = say("password_mismatch")
        else:
            try:
                accounts.change_password(g.account, request.form.get("current", ""), new)
            except ApiError as err:
                db.session.rollback()
                error = say(err.errors[0]["code"])
            else:
                db.session.commit()
                flash(t("密码已更改。", "Password changed."), "ok")
                return redirect("/console/")
    return render_template("account_password.html", error=error, first=bool(g.account.must_change_password)), \
        (422 if error else 200)


# --- administration -------------------------------------------------------------------------

def _org_accounts():
    return db.session.scalars(select(Account).where(Account.organization_id == g.account.organization_id)
                              .order_by(Account.disabled_at.isnot(None), Account.name)).all()


@bp.get("/accounts")
@page("accounts")
def account_list():
    return render_template("account_list.html", accounts=_org_accounts(), roles=roles.ROLES,
                           duties=roles.DUTIES, now=utcnow(), form={}, errors=[])


@bp.post("/accounts")
@page("accounts")
def account_create():
    form = {"login": request.form.get("login", ""), "name": request.form.get("name", ""),
            "badge": request.form.get("badge", "").strip()[:50], "role": request.form.get("role", ""),
            "duties": request.form.getlist("duties")}
    try:
        account, once = accounts.create_account(g.account.organization, form, g.account)
    except ApiError as err:
        db.session.rollback()
        errors = [f"{e['field']}: {say(e['code'])}" for e in (err.errors or [])] or [err.detail]
        return render_template("account_list.html", accounts=_org_accounts(), roles=roles.ROLES,
                               duties=roles.DUTIES, now=utcnow(), form=form, errors=errors), 422
    db.session.commit()
    return render_template("account_once.html", account=account, password=once, key=None), 201


@bp.get("/accounts/<account_id>")
@page("accounts")
def account_detail(account_id):
    account = accounts.own_account(g.account, account_id)
    return render_template("account_detail.html", account=account, keys=accounts.keys_of(account), now=utcnow())


ACTIONS = {"disable": lambda a: accounts.set_disabled(a, True, g.account),
           "enable": lambda a: accounts.set_disabled(a, False, g.account),
           "unlock": lambda a: accounts.unlock(a, g.account),
           "reset-totp": lambda a: accounts.reset_totp(a, g.account)}


@bp.post("/accounts/<account_id>/<action>")
@page("accounts")
def account_action(account_id, action):
    account = accounts.own_account(g.account, account_id)
    if action == "reset-password":
        once = accounts.reset_password(account, g.account)
        db.session.commit()
        return render_template("account_once.html", account=account, password=once, key=None)
    if action not in ACTIONS:
        return refuse(404, say("not_found"))
    ACTIONS[action](account)
    db.session.commit()
    flash(t("已完成。", "Done."), "ok")
    return redirect(f"/console/accounts/{account.id}")


@bp.post("/accounts/<account_id>/keys")
@page("accounts")
def key_issue(account_id):
    account = accounts.own_account(g.account, account_id)
    days = request.form.get("days", "")
    expires = utcnow() + timedelta(days=int(days)) if days.isdigit() and 0 < int(days) <= 3650 else None
    try:
        key, full = accounts.issue_key(account, request.form.get("label", ""), expires, g.account)
    except ApiError as err:
        db.session.rollback()
        flash(say((err.errors or [{}])[0].get("code", "invalid")), "bad")
        return redirect(f"/console/accounts/{account.id}")
    db.session.commit()
    return render_template("account_once.html", account=account, password=None, key=full, key_id=key.id), 201


@bp.post("/keys/<key_id>/revoke")
@page("accounts")
def key_revoke(key_id):
    accounts.revoke_key(key_id, g.account)
    db.session.commit()
    flash(t("密钥已吊销，立即失效。", "Key revoked; it stops working at once."), "ok")
    return redirect(request.form.get("back") if (request.form.get("back") or "").startswith("/console/accounts/")
                    else "/console/accounts")
