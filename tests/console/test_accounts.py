"""Accounts as services: argon2 hashes, one-time passwords, single-use TOTP codes, duties kept
apart, lock-out, sessions that end, administration audited under the person, the command."""
from __future__ import annotations

import time
from datetime import timedelta

import pyotp
import pytest

from tests import factories as f
from tests.console.helpers import PASSWORD, account


@pytest.fixture
def body(app, client):
    reg = f.regulator(client)
    return reg, f.org(reg, "training_body")


def test_accounts_password_is_an_argon2id_hash(app, body):
    acc, _ = account(body[1].id)
    assert acc.password_hash.startswith("$argon2id$") and PASSWORD not in acc.password_hash
    from training.accounts import service as accounts
    assert accounts.check_password(acc, PASSWORD) and not accounts.check_password(acc, PASSWORD + "x")
    assert not accounts.check_password(None, PASSWORD)


def test_accounts_new_account_gets_a_one_time_password_to_change(app, body):
    from training.accounts import service as accounts
    from training.db import db
    from training.parties.models import Organization
    org = db.session.get(Organization, body[1].id)
    acc, once = accounts.create_account(org, {"login": "wang.fang", "name": "王芳", "role": "clerk"}, None)
    assert acc.must_change_password and accounts.check_password(acc, once)
    with pytest.raises(Exception):
        accounts.change_password(acc, once, "short")
    accounts.change_password(acc, once, "a much better secret")
    assert not acc.must_change_password and accounts.check_password(acc, "a much better secret")


def test_accounts_totp_code_is_single_use(app, body):
    from training.accounts import totp
    acc, secret = account(body[1].id)
    step = int(time.time() // 30)
    code = pyotp.TOTP(secret).generate_otp(step)
    assert totp.check_code(acc, code)
    assert not totp.check_code(acc, code)  # replayed
    assert not totp.check_code(acc, pyotp.TOTP(secret).generate_otp(step - 5))  # too old
    assert not totp.check_code(acc, "abcdef")


def test_accounts_duties_are_kept_apart(app, client):
    from training.accounts import service as accounts
    from training.db import db
    from training.errors import Unprocessable
    from training.parties.models import Organization
    reg = f.regulator(client)
    org = db.session.get(Organization, reg.id)
    with pytest.raises(Unprocessable) as err:
        accounts.create_account(org, {"login": "both", "name": "甲", "role": "administrator",
                                      "duties": ["accounts", "findings"]}, None)
    assert err.value.errors[0]["code"] == "separation_of_duties"
    admin, _ = accounts.create_account(org, {"login": "acc-admin", "name": "乙", "role": "administrator",
                                             "duties": ["accounts"]}, None)
    analyst, _ = accounts.create_account(org, {"login": "analyst", "name": "丙", "role": "analyst",
                                               "duties": ["findings"]}, None)
    assert accounts.may(admin, "accounts") and not accounts.may(admin, "findings")
    assert accounts.may(analyst, "findings") and not accounts.may(analyst, "accounts")
    body = db.session.get(Organization, f.org(reg, "training_body").id)
    with pytest.raises(Unprocessable):
        accounts.create_account(body, {"login": "dutiful", "name": "丁", "role": "clerk", "duties": ["findings"]}, None)


def test_accounts_lock_after_five_failures_in_the_window(app, body):
    from training.accounts.sessions import SignInRefused, sign_in
    acc, _ = account(body[1].id)
    for n in range(4):
        with pytest.raises(SignInRefused) as err:
            sign_in(acc.login, "nope nope nope", "10.0.0.1")
        assert err.value.code == "bad_credentials"
    with pytest.raises(SignInRefused) as err:
        sign_in(acc.login, "nope nope nope", "10.0.0.1")
    assert err.value.code == "locked" and 800 < err.value.retry_after <= 901
    with pytest.raises(SignInRefused) as err:
        sign_in(acc.login, PASSWORD, "10.0.0.2")
    assert err.value.code == "locked"
    acc.locked_until -= timedelta(minutes=16)
    assert sign_in(acc.login, PASSWORD, "10.0.0.2").session.stage == "password"


def test_accounts_unknown_names_read_like_wrong_passwords(app, body):
    from training.accounts.sessions import SignInRefused, sign_in
    with pytest.raises(SignInRefused) as err:
        sign_in("no-such-person", PASSWORD, "10.0.0.3")
    assert err.value.code == "bad_credentials"


def test_accounts_sessions_end_idle_absolute_and_pending(app, body):
    from training.accounts.sessions import find_session, open_session
    from training.db import utcnow
    acc, _ = account(body[1].id)
    now = utcnow()
    full = open_session(acc, "full", "c", now)
    assert find_session(full.token, now + timedelta(minutes=29)) is not None
    assert find_session(full.token, now + timedelta(minutes=29 + 31)) is None
    kept = open_session(acc, "full", "c", now)
    for minutes in range(25, 12 * 60 + 30, 25):
        alive = find_session(kept.token, now + timedelta(minutes=minutes))
    assert alive is None  # kept busy, still ended at 12 hours
    pending = open_session(acc, "password", "c", now)
    assert find_session(pending.token, now + timedelta(minutes=11)) is None
    assert find_session("forged-token", now) is None


def test_accounts_disabling_ends_sessions_and_revokes_keys(app, body):
    from training.accounts import service as accounts
    from training.accounts.sessions import find_session, open_session
    from training.db import db
    from training.parties.models import ApiKey
    admin, _ = account(body[1].id, "administrator")
    clerk, _ = account(body[1].id, "clerk")
    key, full = accounts.issue_key(clerk, "考勤机", None, admin)
    opened = open_session(clerk, "full", "c")
    accounts.set_disabled(clerk, True, admin)
    db.session.commit()
    assert find_session(opened.token) is None
    assert db.session.get(ApiKey, key.id).revoked_at is not None


def test_accounts_actions_are_audited_under_the_person(app, body):
    import json

    from training.accounts import service as accounts
    from training.db import db
    from training.db.audit import AuditEntry
    admin, _ = account(body[1].id, "administrator")
    clerk, _ = account(body[1].id, "clerk")
    accounts.issue_key(clerk, "对接系统", None, admin)
    db.session.commit()
    entry = db.session.query(AuditEntry).filter(AuditEntry.event == "account.key_issued").one()
    assert entry.actor_key == admin.id and json.loads(entry.detail)["account_id"] == admin.id
    issued = db.session.query(AuditEntry).filter(AuditEntry.event == "api_key.issued").order_by(AuditEntry.seq.desc()).first()
    assert issued.actor_key == admin.id


def test_accounts_create_account_command(app, runner, body):
    r = runner.invoke(args=["create-account", "--org", body[1].id, "--name", "周杰", "--login", "zhou.jie"])
    assert r.exit_code == 0, r.output
    assert "one-time password" in r.output and "authenticator" in r.output
    once = r.output.split("first sign-in): ")[1].split()[0]
    from training.accounts import service as accounts
    from training.accounts.models import Account
    from training.db import db
    acc = db.session.query(Account).filter_by(login="zhou.jie").one()
    assert acc.role == "administrator" and accounts.check_password(acc, once)
    r = runner.invoke(args=["create-account", "--org", "nope", "--name", "x"])
    assert r.exit_code != 0 and "no organisation" in r.output
    r = runner.invoke(args=["create-account", "--org", body[0].id, "--name", "监管管理员", "--login", "reg.admin"])
    assert r.exit_code == 0 and db.session.query(Account).filter_by(login="reg.admin").one().duties == "accounts"


def test_accounts_demo_people_can_sign_in(app, client, tmp_path):
    import json

    from tests.console.helpers import sign_in
    from training.accounts.demo import create_demo_accounts
    reg = f.regulator(client)
    f.org(reg, "training_body")
    rows = create_demo_accounts(tmp_path / "demo-accounts.json")
    assert {r["kind"] for r in rows} == {"regulator", "training_body"} and len(rows) == 4
    assert json.loads((tmp_path / "demo-accounts.json").read_text())[0]["password"] == rows[0]["password"]
    clerk = next(r for r in rows if r["role"] == "clerk")
    c = app.test_client()
    assert sign_in(c, clerk["login"], clerk["password"], clerk["totp_secret"]).headers["Location"] == "/console/"
    assert create_demo_accounts(tmp_path / "again.json")[0]["login"] == rows[0]["login"]  # safe to run again
