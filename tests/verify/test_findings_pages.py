"""The regulator's pages moved into the console (``verify/console_regulator_*``): the old
``/regulator`` addresses, which once took an API key into a cookie, now only send the browser to
the console and drop the old cookies; the dashboard with server-drawn charts, review from the
queue and the page per case are the console's, for a person signed in with password and TOTP.
The console's own tests are in ``tests/console/test_regulator_*.py``."""
from __future__ import annotations

import re

import pytest

from tests import factories as f
from tests.console.helpers import account, sign_in, token
from tests.verify.test_findings_api import fast_exams
from tests.verify.test_rules import found

BROWSER = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}


@pytest.fixture(autouse=True)
def _quiet(app, monkeypatch):
    monkeypatch.setitem(app.config, "FINDINGS_LATE_RECORDS", False)


def test_pages_old_addresses_redirect_and_never_take_a_key(client):
    w = f.World(client)
    for old, new in (("/regulator/dashboard", "/console/dashboard"), ("/regulator/sign-in", "/console/sign-in"),
                     ("/regulator", "/console/dashboard"), ("/regulator/cases/0123456789abcdef", "/console/cases/0123456789abcdef"),
                     (f"/regulator/dashboard?key={w.reg.key}", "/console/dashboard"), ("/regulator/whatever", "/console/")):
        r = client.get(old, headers=BROWSER)
        assert r.status_code == 301 and r.headers["Location"] == new, old
    assert w.reg.get("/regulator/dashboard").status_code == 301  # a bearer key opens nothing here either
    r = client.post("/regulator/sign-in", data={"api_key": w.reg.key})
    assert r.status_code == 303 and r.headers["Location"] == "/console/sign-in"
    assert not any(v.startswith("az_key=az_") for k, v in r.headers.items() if k == "Set-Cookie")
    client.set_cookie("az_key", w.reg.key, path="/regulator")
    r = client.post("/regulator/findings/0123456789abcdef/review", data={"status": "confirmed", "reason": "x"})
    assert r.status_code == 303 and r.headers["Location"] == "/console/findings/0123456789abcdef"
    gone = [v for k, v in r.headers.items() if k == "Set-Cookie" and v.startswith("az_key=")]
    assert gone and "Path=/regulator" in gone[0] and ("Max-Age=0" in gone[0] or "Expires=Thu, 01 Jan 1970" in gone[0])


def test_pages_dashboard_review_and_case_page_in_the_console(app, client):
    w = f.World(client)
    fast_exams(w, 1)
    analyst, secret = account(w.reg.id, "analyst", duties=("findings",))
    c = app.test_client()
    assert sign_in(c, analyst.login, secret=secret).status_code == 302
    html = c.get("/console/dashboard").get_data(as_text=True)
    assert html.count("<svg") == 3 and "考试用时过短" in html and w.centre.org["name"] in html
    assert 'lang="zh-CN"' in html and "Exam finished too fast" in c.get("/console/dashboard?lang=en").get_data(as_text=True)
    hit = found("exam_too_fast")[0]
    t = token(c, f"/console/findings/{hit.id}")
    assert c.post(f"/console/findings/{hit.id}/review", data={"status": "confirmed", "reason": "核实"}).status_code == 400
    assert found("exam_too_fast")[0].status == "open"
    r = c.post(f"/console/findings/{hit.id}/review", data={"status": "confirmed", "reason": "核实", "csrf_token": t})
    assert r.status_code == 302 and found("exam_too_fast")[0].status == "confirmed"
    r = c.post("/console/cases", data={"finding_ids": hit.id, "csrf_token": t})
    case_url = r.headers["Location"]
    assert re.fullmatch(r"/console/cases/[0-9a-f]{16}", case_url)
    text = c.get(case_url + "?lang=zh").get_data(as_text=True)
    assert "当事各方" in text and "尚未陈述" in text and w.centre.org["name"] in text
    assert c.get("/console/cases/nosuchcase").status_code == 404
