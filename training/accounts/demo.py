"""Demo accounts: one person per demo organisation (two at a regulator, whose duties are kept
apart, and a clerk beside each training body's administrator), with a known demo password and
TOTP secret written to ``instance/demo-accounts.json`` so anyone trying the demo can sign in.

Used by ``flask demo`` and nowhere in production: the password is printed in a file on purpose.
"""
from __future__ import annotations

import json
import os
import re
from pathlib import Path

from sqlalchemy import select

from training.accounts import service as accounts, totp
from training.accounts.models import Account
from training.config import INSTANCE
from training.db import db, utcnow
from training.parties.models import Organization

DEMO_PASSWORD = "anzheng-demo-2025"
PEOPLE = {"regulator": [("administrator", ("accounts",), "周建华"), ("analyst", ("findings", "organisations"), "吴丽娟")],
          "training_body": [("administrator", (), "郭志强"), ("clerk", (), "张敏")],
          "exam_centre": [("clerk", (), "陈静")], "enterprise": [("officer", (), "刘洋")],
          "labour_agency": [("officer", (), "黄勇")], "subcontractor": [("officer", (), "杨磊")],
          "inspectorate": [("officer", (), "赵军")]}


def _login(kind: str, role: str, n: int) -> str:
    return re.sub(r"[^a-z0-9.-]", "", f"{kind.replace('_', '-')}{n}.{role}")


def create_demo_accounts(path: Path | None = None) -> list[dict]:
    """Make the demo people (again safe: existing logins are kept) and write who they are."""
    rows, counters = [], {}
    for org in db.session.scalars(select(Organization).order_by(Organization.kind, Organization.created_at)):
        counters[org.kind] = counters.get(org.kind, 0) + 1
        for role, duties, name in PEOPLE.get(org.kind, ()):
            login = _login(org.kind, role, counters[org.kind])
            account = db.session.scalar(select(Account).where(Account.login == login))
            if account is None:
                account, _ = accounts.create_account(org, {"login": login, "name": name, "role": role,
                                                           "duties": list(duties)}, None)
            account.password_hash, account.must_change_password = accounts.hash_password(DEMO_PASSWORD), 0
            secret, uri = totp.start_enrolment(account)
            account.totp_enrolled_at = utcnow()
            rows.append({"organization": org.name, "kind": org.kind, "name": name, "login": login, "role": role,
                         "duties": list(duties), "password": DEMO_PASSWORD, "totp_secret": secret, "otpauth": uri})
    db.session.commit()
    path = path or INSTANCE / "demo-accounts.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        json.dump(rows, fh, ensure_ascii=False, indent=2)
    return rows
