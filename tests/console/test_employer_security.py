"""Security of the employer pages: every page refuses the anonymous, organisations of another kind
and (for records) the wrong role; every form needs its CSRF token; another organisation's
placements, checks, receipts, induction sessions, attendance and notices are not found; a full
identity number never comes back, in a page, a redirect or the audit trail."""
from __future__ import annotations

import io
import re

from sqlalchemy import func, select

from tests import factories as f
from tests.console.helpers import account, sign_in, token
from tests.console.test_employer_pages import CONFINED, Desk, post, text
from tests.verify.test_prestart import place, quiet_rules  # noqa: F401  (quiet_rules: a fixture)
from training.db import db
from training.db.audit import AuditEntry
from training.evidence.models import Attendance
from verify.employment.models import Employment, Notice
from verify.prestart.models import PrestartCheck

ANY_ID = "0123456789abcdef"


def employer_routes(app):
    """(url, method, view) for every guarded employer page, dummy ids filled in."""
    out = []
    for rule in app.url_map.iter_rules():
        view = app.view_functions[rule.endpoint]
        if not rule.endpoint.startswith("employer_console.") or not hasattr(view, "console_action"):
            continue
        url = re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", ANY_ID, rule.rule)
        out += [(url, method, view) for method in sorted(rule.methods - {"HEAD", "OPTIONS"})]
    return out


def hit(c, url, method, csrf):
    return c.get(url) if method == "GET" else c.post(url, data={"csrf_token": csrf})


def signed_in(app, org_id, role, totp=False, duties=()):
    acc, secret = account(org_id, role, enrol=totp, duties=duties)
    c = app.test_client()
    assert sign_in(c, acc.login, secret=secret).status_code == 302
    return c


def test_employer_security_every_page_sends_the_anonymous_to_sign_in(app, client):
    routes = employer_routes(app)
    assert len(routes) >= 20
    csrf = token(client, "/console/sign-in")
    for url, method, _ in routes:
        r = hit(client, url, method, csrf)
        assert r.status_code == 302 and r.headers["Location"].startswith("/console/sign-in"), (method, url)


def test_employer_security_other_kinds_and_the_wrong_role_are_refused(app, client):
    d = Desk(app, client)
    others = [signed_in(app, d.w.body.id, "administrator", totp=True), signed_in(app, d.w.centre.id, "clerk", totp=True),
              signed_in(app, d.w.reg.id, "administrator", totp=True, duties=("accounts",))]
    readers = [signed_in(app, d.host.id, "analyst"), d.host_officer, signed_in(app, d.agency.id, "officer")]
    tokens = {id(c): token(c, "/console/password") for c in others + readers}
    for url, method, view in employer_routes(app):
        assert set(view.console_kinds) == {"enterprise", "labour_agency", "subcontractor"}, url
        for c in others:
            r = hit(c, url, method, tokens[id(c)])
            assert r.status_code == 403 and "机构的类型" in text(r), (method, url, r.status_code)
        if view.console_action == "records":
            for c in readers:
                r = hit(c, url, method, tokens[id(c)])
                assert r.status_code == 403 and "您的角色" in text(r), (method, url, r.status_code)
    actions = {view.console_action for _, _, view in employer_routes(app)}
    assert actions == {"view", "records"}


def test_employer_security_forms_need_the_csrf_token(app, client):
    d = Desk(app, client)
    admin = signed_in(app, d.host.id, "administrator")
    wrong = token(d.agency_clerk)
    for url, method, _ in employer_routes(app):
        if method != "POST":
            continue
        for data in ({}, {"csrf_token": wrong}, {"csrf_token": "0" * 64}):
            r = admin.post(url, data=data)
            assert r.status_code == 400 and "刷新" in text(r), (url, data)
    number = f.id_number()
    r = admin.post("/console/employments", data={"id_number": number, "name": "无令牌", "role": "welder",
                                                 "starts_on": str(f.days_ago(0).date())})
    assert r.status_code == 400 and db.session.scalar(select(func.count()).select_from(Employment)) == 0


def test_employer_security_another_organisations_records_are_not_found(app, client):
    d = Desk(app, client)
    (wk,), (cert,) = d.certified()
    place(d.agency, wk["id"], d.host.id, CONFINED, via_id=d.agency.id)
    r = post(d.host_clerk, "/console/induction", {"level": "company", "date": str(f.days_ago(1).date()),
                                                  "start": "08:00", "hours": "8"})
    grid = text(d.host_clerk.get("/console/induction/attendance"))
    cell = re.search(r'name="cell" value="([0-9a-f:]+)"', grid).group(1)
    session_id = cell.split(":")[0]
    d.host_clerk.post("/console/induction/attendance", data={"cell": [cell], "csrf_token": token(d.host_clerk)})
    att = db.session.scalar(select(Attendance))
    check_url = post(d.host_officer, "/console/prestart", {"worker_id": wk["id"], "role": CONFINED}).headers["Location"]
    d.w.body.post(f"/api/v1/certificates/{cert['serial']}/revoke", {"reason": "虚假培训"})
    emp = db.session.scalar(select(Employment))
    notice = db.session.scalar(select(Notice).where(Notice.organization_id == d.host.id))
    check_id = check_url.rsplit("/", 1)[1]

    rival = f.org(d.w.reg, "enterprise", "另一家建筑公司", industry="construction")
    rival_agency = f.org(d.w.reg, "labour_agency", "另一家劳务公司")
    for org, c in ((rival, signed_in(app, rival.id, "administrator")),
                   (rival_agency, signed_in(app, rival_agency.id, "administrator"))):
        t = token(c)
        for path in (f"/console/employments/{emp.id}", check_url, check_url + "/receipt",
                     f"/console/prestart/receipts?ids={check_id}", f"/console/induction/{session_id}"):
            assert c.get(path).status_code == 404, path
        for path, data in ((f"/console/employments/{emp.id}/end", {"ends_on": str(f.days_ago(0).date())}),
                           (f"/console/induction/attendance/{att.id}/void", {"reason": "恶意作废"}),
                           (f"/console/notices/{notice.id}/read", {})):
            assert c.post(path, data={**data, "csrf_token": t}).status_code == 404, path
        # Lists show none of it, and a forged grid cell records nothing.
        for path in ("/console/employments?status=all", "/console/prestart", "/console/notices?show=all",
                     "/console/induction", "/console/induction/attendance"):
            page = text(c.get(path))
            assert wk["id_number_masked"] not in page and check_id not in page and cert["serial"] not in page, path
        c.post("/console/induction/attendance", data={"cell": [cell], "csrf_token": t})
        r = c.post("/console/prestart/crew/run", data={"item": ['{"w":"%s","r":"%s","s":"","n":2}' % (wk["id"], CONFINED)],
                                                       "index": ["0"], "csrf_token": t},
                   headers={"Accept": "application/json"})
        # Neither employs the worker, and the row names no one by name and number: nothing is told.
        assert r.get_json()["results"][0]["outcome"] == "refused"
    db.session.expire_all()
    assert emp.ends_on is None and att.voided_at is None and notice.read_at is None
    assert db.session.scalar(select(func.count()).select_from(Attendance).where(
        Attendance.session_id == session_id)) == 1
    theirs = db.session.scalars(select(PrestartCheck).where(
        PrestartCheck.organization_id.in_((rival.id, rival_agency.id)))).all()
    assert theirs == []  # a stranger's check is refused, and recorded nowhere
    # The agency in between sees the placement, but only its own checks; the host sees those too.
    assert d.agency_clerk.get(f"/console/employments/{emp.id}").status_code == 200
    assert d.agency_clerk.get(check_url).status_code == 404
    by_agency = post(d.agency_clerk, "/console/prestart", {"worker_id": wk["id"], "role": CONFINED}).headers["Location"]
    assert d.host_officer.get(by_agency).status_code == 200 and d.agency_clerk.get(by_agency).status_code == 200


def test_employer_security_identity_numbers_never_come_back(app, client):
    d = Desk(app, client)
    number, other = f.id_number(), f.id_number()
    responses = []
    r = post(d.agency_clerk, "/console/employments", {"id_number": number, "name": "赵六", "role": "welder",
                                                      "starts_on": str(f.days_ago(0).date()),
                                                      "host_code": d.host.org["credit_code"]})
    responses += [r, d.agency_clerk.get(r.headers["Location"])]
    responses.append(post(d.agency_clerk, "/console/employments", {"id_number": other, "role": "welder",
                                                                   "host": d.host.id}, follow_redirects=True))
    r = post(d.agency_clerk, "/console/prestart", {"who": number, "role": "welder"})
    responses += [r, d.agency_clerk.get(r.headers["Location"]), d.agency_clerk.get(r.headers["Location"] + "/receipt")]
    responses.append(post(d.agency_clerk, "/console/prestart", {"who": other, "role": "welder"}))
    sheet = f"身份证号,姓名\n{number},赵六\n{other},钱七\n{number[:-1]}\n".encode()
    responses.append(d.agency_clerk.post("/console/prestart/crew", data={
        "file": (io.BytesIO(sheet), "c.csv"), "role": "welder", "csrf_token": token(d.agency_clerk)},
        content_type="multipart/form-data"))
    for page in ("/console/employments", "/console/prestart", "/console/induction/attendance"):
        responses.append(d.agency_clerk.get(page))
    for r in responses:
        body = r.get_data(as_text=True) + " ".join(f"{k}: {v}" for k, v in r.headers.items())
        for n in (number, other, number[:-1]):
            assert n not in body, (r.status_code, r.request.path)
    assert number[:6] + "*" * 8 + number[-4:] in text(responses[1])
    trail = " ".join(a.detail + (a.subject or "") for a in db.session.scalars(select(AuditEntry)))
    assert number not in trail and other not in trail
    stored = " ".join(c.answer + c.inputs for c in db.session.scalars(select(PrestartCheck)))
    assert number not in stored
