"""Security of the console: every page and form refuses the anonymous, the wrong kind of
organisation, the wrong role and another organisation's data; CSRF tokens are required; a
password alone never opens a regulator's, exam centre's or training body's account; repeated
failures lock; sessions end; cookies are set as they must be; identity numbers are never echoed."""
from __future__ import annotations

import io
import re
from datetime import timedelta

import pytest

from tests import factories as f
from tests.console.helpers import PASSWORD, Setup, account, code_for, csrf_of, sign_in, token

ANY_ID = "0123456789abcdef"


def _console_rules(app):
    """(rule, method, view) for every guarded console route, with dummy ids filled in."""
    out = []
    for rule in app.url_map.iter_rules():
        view = app.view_functions[rule.endpoint]
        if not hasattr(view, "console_action"):
            continue
        url = re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", lambda m: {"day": "2025-01-01", "category": "welding",
                                                          "name": "roster", "action": "disable"}.get(m.group(1), ANY_ID),
                     rule.rule)
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            out.append((url, method, view))
    return out


def _hit(client, url, method, csrf):
    if method == "GET":
        return client.get(url)
    return client.post(url, data={"csrf_token": csrf})


def test_security_every_page_sends_the_anonymous_to_sign_in(app, client):
    rules = _console_rules(app)
    assert len(rules) > 30
    csrf = token(client, "/console/sign-in")
    for url, method, _ in rules:
        r = _hit(client, url, method, csrf)
        assert r.status_code == 302 and r.headers["Location"].startswith("/console/sign-in"), (method, url)


def test_security_every_page_refuses_the_wrong_kind_and_role(app, client):
    s = Setup(app, client)
    enterprise = f.org(s.world.reg, "enterprise", "某建筑公司", industry="construction")
    ent_admin, _ = account(enterprise.id, "administrator", enrol=False)
    officer, officer_secret = account(s.world.body.id, "officer")
    centre = s.client_for(s.centre_clerk, s.centre_secret)
    body_officer = s.client_for(officer, officer_secret)
    ent = app.test_client()
    assert sign_in(ent, ent_admin.login).status_code == 302
    tokens = {id(c): token(c) for c in (centre, body_officer, ent)}
    for url, method, view in _console_rules(app):
        kinds = view.console_kinds
        if kinds:  # an organisation of another kind is refused before anything is looked up
            for c in [c for c, k in ((centre, "exam_centre"), (body_officer, "training_body"),
                                     (ent, "enterprise")) if k not in kinds]:
                r = _hit(c, url, method, tokens[id(c)])
                assert r.status_code == 403, (method, url, r.status_code)
        if view.console_action not in ("view",) and (not kinds or "training_body" in kinds):
            r = _hit(body_officer, url, method, tokens[id(body_officer)])
            assert r.status_code == 403, ("officer", method, url, r.status_code)


def test_security_another_organisations_data_is_not_found(app, client):
    s = Setup(app, client)
    other = f.org(s.world.reg, "training_body", "另一家培训学校")
    f.accredit(s.world.reg, other, ["confined_space"])
    other_clerk, other_secret = account(other.id, "administrator")
    mine = s.client_for(s.body_admin, s.admin_secret)
    theirs = s.client_for(other_clerk, other_secret)
    r = mine.post("/console/classes", data={"name": "我的班", "category": "confined_space", "csrf_token": token(mine)})
    cls = r.headers["Location"]
    t = token(theirs)
    for path in ("", "/sessions", "/attendance", "/evidence", "/cards.pdf"):
        assert theirs.get(cls + path).status_code == 404, path
    for path in ("/roster", "/sessions", "/attendance", "/issue"):
        assert theirs.post(cls + path, data={"csrf_token": t, "name": "x", "id_number": f.id_number()}).status_code == 404, path
    assert theirs.get(f"/console/accounts/{s.body_clerk.id}").status_code == 404
    assert theirs.post(f"/console/accounts/{s.body_clerk.id}/disable", data={"csrf_token": t}).status_code == 404
    from training.accounts.models import Account
    from training.db import db
    assert db.session.get(Account, s.body_clerk.id).disabled_at is None


def test_security_forms_need_the_csrf_token(app, client):
    s = Setup(app, client)
    c = s.client_for(s.body_clerk, s.body_secret)
    r = c.post("/console/classes", data={"name": "无令牌", "category": "confined_space"})
    assert r.status_code == 400 and "刷新" in r.get_data(as_text=True)
    other = s.client_for(s.body_admin, s.admin_secret)
    r = c.post("/console/classes", data={"name": "他人令牌", "category": "confined_space", "csrf_token": token(other)})
    assert r.status_code == 400
    fresh = app.test_client()
    r = fresh.post("/console/sign-in", data={"login": s.body_clerk.login, "password": PASSWORD})
    assert r.status_code == 400
    r = fresh.post("/worker", data={"serial": "x", "id_number": "y"})
    assert r.status_code == 400
    assert c.post("/console/classes", data={"name": "有令牌", "category": "confined_space",
                                            "csrf_token": token(c)}).status_code == 302


@pytest.mark.parametrize("kind", ["regulator", "training_body", "exam_centre"])
def test_security_password_alone_does_not_open_a_totp_account(app, client, kind):
    reg = f.regulator(client)
    org_id = reg.id if kind == "regulator" else f.org(reg, kind).id
    acc, secret = account(org_id, "administrator", duties=("accounts",) if kind == "regulator" else ())
    c = app.test_client()
    page = c.get("/console/sign-in")
    r = c.post("/console/sign-in", data={"login": acc.login, "password": PASSWORD, "csrf_token": csrf_of(page.data)})
    assert r.status_code == 302 and r.headers["Location"].startswith("/console/sign-in/code")
    for path in ("/console/", "/console/accounts"):
        r = c.get(path)
        assert r.status_code == 302 and r.headers["Location"] == "/console/sign-in/code", path
    page = c.get("/console/sign-in/code")
    r = c.post("/console/sign-in/code", data={"code": "000000", "csrf_token": csrf_of(page.data)})
    assert r.status_code == 401
    assert c.get("/console/").status_code == 302
    # Not yet enrolled: the password leads to enrolment, never to a page.
    fresh, _ = account(org_id, "clerk", enrol=False)
    c2 = app.test_client()
    page = c2.get("/console/sign-in")
    c2.post("/console/sign-in", data={"login": fresh.login, "password": PASSWORD, "csrf_token": csrf_of(page.data)})
    assert c2.get("/console/").headers["Location"] == "/console/sign-in/code"
    assert b"totp-secret" in c2.get("/console/sign-in/code").data


def test_security_an_enterprise_password_alone_is_enough_until_it_enrols(app, client):
    reg = f.regulator(client)
    ent = f.org(reg, "enterprise", industry="construction")
    acc, _ = account(ent.id, "officer", enrol=False)
    c = app.test_client()
    assert sign_in(c, acc.login).headers["Location"] == "/console/"
    assert c.get("/console/").status_code == 200


def test_security_repeated_failures_lock_the_account(app, client):
    s = Setup(app, client)
    c = app.test_client()
    for _ in range(5):
        page = c.get("/console/sign-in")
        r = c.post("/console/sign-in", data={"login": s.body_clerk.login, "password": "wrong password!",
                                             "csrf_token": csrf_of(page.data)})
        assert r.status_code == 401
    assert "锁定" in r.get_data(as_text=True)
    page = c.get("/console/sign-in")
    r = c.post("/console/sign-in", data={"login": s.body_clerk.login, "password": PASSWORD,
                                         "csrf_token": csrf_of(page.data)})
    assert r.status_code == 401 and "锁定" in r.get_data(as_text=True)
    from training.db import db
    from training.db.audit import AuditEntry
    assert db.session.query(AuditEntry).filter(AuditEntry.event == "account.locked").count() == 1


def test_security_lock_out_does_not_tell_which_names_exist(app, client, backend):
    """Enumeration by lock-out: a real name and an unknown one get the same codes, status and
    words, in about the same time, and the unknown name is stored only as a keyed hash."""
    import time

    from sqlalchemy import select

    from training.accounts.models import SignInFailure, SignInLock
    from training.db import db
    reg = f.regulator(client)
    real, _ = account(f.org(reg, "training_body").id, enrol=False)
    names = (real.login, "nobody.at.all")
    clients = {}
    for n, name in enumerate(names):
        clients[name] = app.test_client()
        clients[name].environ_base["REMOTE_ADDR"] = f"10.0.2.{n}"

    def attempt(name, password):
        c = clients[name]
        page = c.get("/console/sign-in")
        start = time.perf_counter()
        r = c.post("/console/sign-in", data={"login": name, "password": password, "csrf_token": csrf_of(page.data)})
        words = re.search(r'role="alert">(.*?)<', r.get_data(as_text=True), re.S)[1]
        return (r.status_code, words), time.perf_counter() - start

    app.config["ACCOUNT_LOCK_AFTER"] = 2
    try:
        seen = {name: [attempt(name, "wrong one!")[0] for _ in range(2)] for name in names}
        took = {name: [] for name in names}
        # Timed on SQLite only: the cost to compare is the password hash's, not the database's.
        for _ in range(2 if backend == "sqlite" else 1):  # interleaved: a busy machine slows both alike
            for name in names:
                answer, spent = attempt(name, PASSWORD)  # locked: even the right password is refused
                seen[name].append(answer)
                took[name].append(spent)
    finally:
        app.config.pop("ACCOUNT_LOCK_AFTER")
    assert seen[names[0]] == seen[names[1]]
    assert {status for status, _ in seen[names[1]]} == {401}
    assert "锁定" not in seen[names[1]][0][1] and all("锁定" in words for _, words in seen[names[1]][1:])
    if backend == "sqlite":
        known, unknown = (min(took[name]) for name in names)
        assert 1 / 3 < unknown / known < 3, (known, unknown)  # both pay the password hash
    stored = db.session.scalars(select(SignInFailure.login_digest).where(SignInFailure.login_digest.is_not(None))).all()
    assert len(stored) == len(seen[names[1]]) and all(b"nobody" not in bytes(d) for d in stored)
    assert db.session.scalars(select(SignInLock)).one().locked_until is not None


def test_security_wrong_codes_lock_too(app, client):
    s = Setup(app, client)
    c = app.test_client()
    for _ in range(5):
        page = c.get("/console/sign-in")
        c.post("/console/sign-in", data={"login": s.body_clerk.login, "password": PASSWORD, "csrf_token": csrf_of(page.data)})
        page = c.get("/console/sign-in/code")
        if page.status_code != 200:
            break
        c.post("/console/sign-in/code", data={"code": "123456", "csrf_token": csrf_of(page.data)})
    r = sign_in(app.test_client(), s.body_clerk.login, secret=s.body_secret)
    assert r.status_code == 401 and "锁定" in r.get_data(as_text=True)


def test_security_a_client_is_throttled(app, client):
    app.config["ACCOUNT_CLIENT_FAILURES"] = 4
    try:
        c = app.test_client()
        for n in range(5):
            page = c.get("/console/sign-in")
            r = c.post("/console/sign-in", data={"login": f"nobody{n}", "password": "x" * 12,
                                                 "csrf_token": csrf_of(page.data)})
        assert r.status_code == 429 and r.headers["Retry-After"]
    finally:
        app.config.pop("ACCOUNT_CLIENT_FAILURES")


def test_security_session_cookie_flags_and_expiry(app, client):
    s = Setup(app, client)
    c = app.test_client()
    page = c.get("/console/sign-in")
    r = c.post("/console/sign-in", data={"login": s.body_clerk.login, "password": PASSWORD, "csrf_token": csrf_of(page.data)})
    cookie = [h for h in r.headers.getlist("Set-Cookie") if h.startswith("az_session=")][0]
    for flag in ("HttpOnly", "SameSite=Lax", "Secure", "Path=/console"):
        assert flag in cookie
    page = c.get("/console/sign-in/code")
    c.post("/console/sign-in/code", data={"code": code_for(s.body_clerk.login, s.body_secret), "csrf_token": csrf_of(page.data)})
    assert c.get("/console/").status_code == 200
    from training.accounts.models import AccountSession
    from training.db import db
    live = db.session.query(AccountSession).filter(AccountSession.stage == "full",
                                                   AccountSession.revoked_at.is_(None)).one()
    live.last_seen_at -= timedelta(minutes=31)
    db.session.commit()
    assert c.get("/console/").status_code == 302  # idle too long
    live.last_seen_at += timedelta(minutes=31)
    live.expires_at = live.created_at - timedelta(seconds=1)
    db.session.commit()
    assert c.get("/console/").status_code == 302  # past the absolute limit


def test_security_sign_out_ends_the_session(app, client):
    s = Setup(app, client)
    c = s.client_for(s.body_clerk, s.body_secret)
    saved = c.get_cookie("az_session", path="/console").value
    assert c.post("/console/sign-out", data={"csrf_token": token(c)}).status_code == 302
    c.set_cookie("az_session", saved, path="/console")
    assert c.get("/console/").status_code == 302


def test_security_identity_numbers_are_never_echoed(app, client):
    s = Setup(app, client)
    c = s.client_for(s.body_clerk, s.body_secret)
    cls = c.post("/console/classes", data={"name": "班", "category": "confined_space", "csrf_token": token(c)}).headers["Location"]
    number = f.id_number()
    r = c.post(cls + "/roster", data={"name": "王五", "id_number": number, "csrf_token": token(c, cls)}, follow_redirects=True)
    assert number not in r.get_data(as_text=True) and number[:6] + "********" in r.get_data(as_text=True)
    bad = number[:17] + ("0" if number[17] != "0" else "1")
    sheet = f"姓名,身份证号\n李四,{bad}\n"
    r = c.post(cls + "/roster", data={"file": (io.BytesIO(sheet.encode()), "r.csv"), "csrf_token": token(c, cls)},
               content_type="multipart/form-data")
    assert bad not in r.get_data(as_text=True) and "校验码" in r.get_data(as_text=True)
    w = app.test_client()
    r = w.post("/worker", data={"serial": "AAAA-BBBB-CCCC-DDDD", "id_number": number, "csrf_token": token(w, "/worker")})
    assert r.status_code == 404 and number not in r.get_data(as_text=True)
