"""Security of the regulator's console, over every route it adds to the URL map: the anonymous
are sent to sign in, a password without the second factor opens nothing, every other kind of
organisation is refused, a regulator's person without the page's duty is refused (findings review
apart from organisations, and both apart from account administration), and every form needs the
CSRF token of the browser's own session."""
from __future__ import annotations

import re

from tests import factories as f
from tests.console.helpers import PASSWORD, account, csrf_of, sign_in, token
from tests.console.test_regulator_pages import Desk, finding
from training.db import db
from verify.findings.service import raise_finding

ANY_ID = "0123456789abcdef"


def regulator_rules(app):
    """(url, method, view) for every guarded route of the regulator's console, dummy ids filled in."""
    out = []
    for rule in app.url_map.iter_rules():
        view = app.view_functions[rule.endpoint]
        if not rule.endpoint.startswith("regulator_console.") or not hasattr(view, "console_action"):
            continue
        url = re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", ANY_ID, rule.rule)
        out += [(url, method, view) for method in sorted(rule.methods - {"HEAD", "OPTIONS"})]
    return out


def hit(c, url, method, csrf):
    return c.get(url) if method == "GET" else c.post(url, data={"csrf_token": csrf, "reason": "x", "status": "dismissed"})


def signed_in(app, org_id, role, duties=(), enrol=True):
    acc, secret = account(org_id, role, duties=duties, enrol=enrol)
    c = app.test_client()
    assert sign_in(c, acc.login, secret=secret).status_code == 302
    return c


def test_regulator_security_routes_are_all_guarded_for_regulators_only(app):
    rules = regulator_rules(app)
    assert len(rules) >= 19
    for url, method, view in rules:
        assert view.console_kinds == ("regulator",), url
        assert view.console_action in ("findings", "organisations"), url


def test_regulator_security_the_anonymous_and_the_half_signed_in_go_to_sign_in(app, client):
    csrf = token(client, "/console/sign-in")
    for url, method, _ in regulator_rules(app):
        r = hit(client, url, method, csrf)
        assert r.status_code == 302 and r.headers["Location"].startswith("/console/sign-in"), (method, url)
    reg = f.regulator(client)
    acc, _ = account(reg.id, "analyst", duties=("findings", "organisations"))
    half = app.test_client()
    page = half.get("/console/sign-in")
    half.post("/console/sign-in", data={"login": acc.login, "password": PASSWORD, "csrf_token": csrf_of(page.data)})
    for url in ("/console/dashboard", "/console/findings", "/console/organisations"):
        r = half.get(url)
        assert r.status_code == 302 and r.headers["Location"] == "/console/sign-in/code", url


def test_regulator_security_every_other_kind_is_refused(app, client):
    desk = Desk(app, client)
    w = desk.world
    others = [signed_in(app, w.body.id, "administrator"), signed_in(app, w.centre.id, "administrator")]
    for kind in ("enterprise", "labour_agency", "inspectorate"):
        others.append(signed_in(app, f.org(w.reg, kind).id, "administrator", enrol=False))
    tokens = [token(c) for c in others]
    for url, method, _ in regulator_rules(app):
        for c, csrf in zip(others, tokens):
            r = hit(c, url, method, csrf)
            assert r.status_code == 403, (method, url, r.status_code)
            assert "机构的类型不能使用此页面" in r.get_data(as_text=True)


def test_regulator_security_each_page_needs_its_duty(app, client):
    desk = Desk(app, client)
    reg = desk.world.reg.id
    people = {"findings": desk.client("findings"), "organisations": desk.client("organisations"),
              "accounts": desk.client("accounts"), "clerk": signed_in(app, reg, "clerk"),
              "officer_findings": signed_in(app, reg, "officer", ("findings",)),
              "officer_organisations": signed_in(app, reg, "officer", ("organisations",))}
    tokens = {k: token(c) for k, c in people.items()}
    allowed = {"findings": {"findings"}, "organisations": {"organisations"}, "accounts": set(), "clerk": set(),
               "officer_findings": {"findings"}, "officer_organisations": set()}
    for url, method, view in regulator_rules(app):
        for who, c in people.items():
            r = hit(c, url, method, tokens[who])
            if view.console_action in allowed[who]:
                assert r.status_code != 403, (who, method, url)
            else:
                assert r.status_code == 403 and "您的角色没有此项权限" in r.get_data(as_text=True), (who, method, url)
    home = people["accounts"].get("/console/").get_data(as_text=True)
    assert "待核查的问题线索" not in home and 'href="/console/findings"' not in home
    nav = people["organisations"].get("/console/organisations").get_data(as_text=True)
    assert 'href="/console/organisations"' in nav and 'href="/console/dashboard"' not in nav


def test_regulator_security_forms_need_the_csrf_token_of_this_session(app, client):
    desk = Desk(app, client)
    w = desk.world
    raise_finding("exam_too_fast", "medium", "csrf-test", {"duration_minutes": 9}, "快\n\nFast",
                  [("exam_centre", w.centre.id, w.centre.org["name"])])
    db.session.commit()
    hit_id = finding("exam_too_fast").id
    mine, theirs = desk.client("findings"), desk.client("organisations")
    for url, method, _ in regulator_rules(app):
        if method == "POST":
            assert mine.post(url, data={"reason": "x"}).status_code == 400, url
    review = f"/console/findings/{hit_id}/review"
    r = mine.post(review, data={"status": "confirmed", "reason": "无令牌"})
    assert r.status_code == 400 and "刷新" in r.get_data(as_text=True)
    r = mine.post(review, data={"status": "confirmed", "reason": "他人令牌", "csrf_token": token(theirs)})
    assert r.status_code == 400 and finding("exam_too_fast").status == "open"
    r = mine.post(review, data={"status": "confirmed", "reason": "本人令牌", "csrf_token": token(mine)})
    assert r.status_code == 302 and finding("exam_too_fast").status == "confirmed"


def test_regulator_security_pages_are_not_cached_or_framed(app, client):
    desk = Desk(app, client)
    r = desk.client("findings").get("/console/dashboard")
    assert r.headers["Cache-Control"] == "no-store" and r.headers["X-Frame-Options"] == "DENY"
    assert "script-src" not in r.headers["Content-Security-Policy"] and "'unsafe-inline'" not in r.headers["Content-Security-Policy"]
