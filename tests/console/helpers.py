"""Helpers for the console's tests: organisations, accounts with known passwords and TOTP
secrets, signing in through the real pages, and the CSRF token of a page."""
from __future__ import annotations

import re
import time

import pyotp

from tests import factories as f

PASSWORD = "correct horse battery"
CSRF = re.compile(r'name="csrf_token" value="([0-9a-f]{64})"')


def csrf_of(html: str | bytes) -> str:
    text = html.decode() if isinstance(html, bytes) else html
    return CSRF.search(text).group(1)


def account(org_id: str, role: str = "clerk", duties=(), login: str | None = None, enrol: bool = True,
            password: str = PASSWORD):
    """(account, totp secret or None): a person with a known password, past the first sign-in."""
    from training.accounts import service as accounts, totp
    from training.db import db, utcnow
    from training.parties.models import Organization
    org = db.session.get(Organization, org_id)
    login = login or f"{role}-{org_id[:6]}-{f.RNG.randrange(10**6)}"
    acc, _ = accounts.create_account(org, {"login": login, "name": f"测试{role}", "role": role,
                                           "duties": list(duties)}, None)
    acc.password_hash, acc.must_change_password = accounts.hash_password(password), 0
    secret = None
    if enrol:
        secret, _ = totp.start_enrolment(acc)
        acc.totp_enrolled_at = utcnow()
    db.session.commit()
    return acc, secret


def code_for(login: str, secret: str) -> str:
    """A code the server will take now: the earliest step not used yet (codes are single-use)."""
    from training.accounts.models import Account
    from training.db import db
    db.session.expire_all()
    last = db.session.query(Account.totp_last_step).filter(Account.login == login).scalar() or 0
    step = max(int(time.time() // 30) - 1, last + 1)
    return pyotp.TOTP(secret).generate_otp(step)


def sign_in(client, login: str, password: str = PASSWORD, secret: str | None = None, code: str | None = None):
    """Sign in through the pages; returns the last response."""
    page = client.get("/console/sign-in")
    r = client.post("/console/sign-in", data={"login": login, "password": password, "csrf_token": csrf_of(page.data)})
    if r.status_code != 302 or "/sign-in/code" not in r.headers["Location"]:
        return r
    page = client.get("/console/sign-in/code")
    return client.post("/console/sign-in/code", data={
        "code": code or code_for(login, secret), "csrf_token": csrf_of(page.data)})


def token(client, path: str = "/console/") -> str:
    return csrf_of(client.get(path).data)


class Setup:
    """A regulator, an accredited training body and exam centre, each with a clerk signed in on
    its own test client, plus an administrator at the body."""

    def __init__(self, app, client, categories=("confined_space", "welding")):
        self.world = f.World(client, categories)
        self.app = app
        self.body_clerk, self.body_secret = account(self.world.body.id, "clerk")
        self.body_admin, self.admin_secret = account(self.world.body.id, "administrator")
        self.centre_clerk, self.centre_secret = account(self.world.centre.id, "clerk")

    def client_for(self, acc, secret):
        c = self.app.test_client()
        r = sign_in(c, acc.login, secret=secret)
        assert r.status_code == 302, r.data[:500]
        return c
