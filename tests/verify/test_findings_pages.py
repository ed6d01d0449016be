"""The regulator's pages: sign-in by a posted key into an HttpOnly cookie with CSRF, the dashboard
with server-drawn charts, review from the queue, and a page per case."""
from __future__ import annotations

import re

import pytest
from flask import g

from tests import factories as f
from tests.verify.test_findings_api import fast_exams
from tests.verify.test_rules import found


@pytest.fixture(autouse=True)
def _quiet(app, monkeypatch):
    monkeypatch.setitem(app.config, "FINDINGS_LATE_RECORDS", False)


def csrf(client) -> str:
    html = client.get("/regulator/sign-in").get_data(as_text=True)
    return re.search(r'name="csrf_token" value="([0-9a-f]{64})"', html).group(1)


def sign_in(client, key) -> object:
    return client.post("/regulator/sign-in", data={"api_key": key, "csrf_token": csrf(client)})


BROWSER = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}


def test_pages_need_a_regulator_signed_in(client):
    w = f.World(client)
    r = client.get("/regulator/dashboard", headers=BROWSER)
    assert r.status_code == 302 and r.headers["Location"].endswith("/regulator/sign-in")
    assert client.get("/regulator/dashboard").status_code == 401  # API clients get problem+json
    assert client.get(f"/regulator/dashboard?key={w.reg.key}", headers=BROWSER).status_code == 302  # never in URLs
    assert client.post("/regulator/sign-in", data={"api_key": w.reg.key}).status_code == 400  # no CSRF token
    assert sign_in(client, w.body.key).status_code == 401  # a training body is not a regulator
    assert sign_in(client, "az_nonsense").status_code == 401
    client.set_cookie("az_key", w.body.key, path="/regulator")
    assert client.get("/regulator/dashboard", headers=BROWSER).status_code == 403
    r = sign_in(client, w.reg.key)
    assert r.status_code == 303 and r.headers["Location"].endswith("/regulator/dashboard")
    cookie = next(v for k, v in r.headers.items() if k == "Set-Cookie" and v.startswith("az_key="))
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/regulator" in cookie
    assert client.get("/regulator/dashboard").status_code == 200
    assert w.reg.get("/regulator/dashboard").status_code == 200  # a bearer header works too


def test_pages_dashboard_charts_ranking_and_review(client):
    w = f.World(client)
    fast_exams(w, 1)
    sign_in(client, w.reg.key)
    html = client.get("/regulator/dashboard").get_data(as_text=True)
    assert html.count("<svg") == 3 and "考试过快" in html and w.centre.org["name"] in html and "审核队列" in html
    g.pop("lang", None)  # the test's app context outlives a request; a server's does not
    assert "lang=\"zh-CN\"" in html and "Exam too fast" in client.get("/regulator/dashboard?lang=en").get_data(as_text=True)
    g.pop("lang", None)
    hit = found("exam_too_fast")[0]
    token = re.search(r'name="csrf_token" value="([0-9a-f]{64})"', html).group(1)
    bad = client.post(f"/regulator/findings/{hit.id}/review", data={"status": "confirmed", "reason": "核实"})
    assert bad.status_code == 303 and found("exam_too_fast")[0].status == "open"  # no CSRF token: nothing done
    r = client.post(f"/regulator/findings/{hit.id}/review",
                    data={"status": "confirmed", "reason": "核实", "csrf_token": token})
    assert r.status_code == 303 and found("exam_too_fast")[0].status == "confirmed"
    case = w.reg.post("/api/v1/cases", {"finding_ids": [hit.id]}).get_json()
    page = client.get(f"/regulator/cases/{case['id']}?lang=zh")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "当事各方" in text and "尚未陈述" in text and w.centre.org["name"] in text
    assert client.get("/regulator/cases/nosuchcase").status_code == 404
    out = client.post("/regulator/sign-out", data={"csrf_token": token})
    assert out.status_code == 303 and client.get("/regulator/dashboard", headers=BROWSER).status_code == 302
