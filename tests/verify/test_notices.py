"""Notices: a placed worker's certificate revoked or suspended, a finding naming them confirmed,
and a finding behind a negative pre-start answer dismissed; each organisation reads its own."""
from __future__ import annotations

from tests import factories as f
from tests.verify.test_prestart import (  # noqa: F401  (quiet_rules: a fixture)
    Scene,
    _finding,
    check,
    codes,
    induct,
    place,
    quiet_rules,
)
from training.db import db
from verify.findings.service import set_status

API = "/api/v1/notices"


def feed(api, query=""):
    r = api.get(f"{API}{query}")
    assert r.status_code == 200, r.get_json()
    return r.get_json()["items"]


def test_notices_certificate_revoked_or_suspended_reaches_host_and_agency_only(client):
    s = Scene(client)
    number = f.id_number()
    wk = f.worker(s.w.body, number)
    f.train(s.w.body, s.w.trainer["id"], [wk["id"]], category="confined_space", hours=24, start_days_ago=40)
    f.exam(s.w.centre, wk["id"], f.days_ago(20), category="confined_space")
    cert = s.w.body.post("/api/v1/certificates", {"worker_id": wk["id"], "category": "confined_space"}).get_json()
    place(s.agency, wk["id"], s.host.id, "confined_space_worker", via_id=s.agency.id)
    bystander = f.org(s.w.reg, "enterprise")
    s.w.body.post(f"/api/v1/certificates/{cert['serial']}/suspend", {"reason": "核查"})
    for api in (s.host, s.agency):
        (n,) = feed(api)
        assert n["kind"] == "certificate_suspended" and n["serial"] == cert["serial"] and n["worker_id"] == wk["id"]
        assert wk["id_number_masked"] in n["text"] and number not in n["text"] and not n["read"]
    s.w.body.post(f"/api/v1/certificates/{cert['serial']}/revoke", {"reason": "虚假培训"})
    assert [n["kind"] for n in feed(s.host)] == ["certificate_revoked", "certificate_suspended"]
    assert feed(bystander) == [] and len(feed(s.agency)) == 2
    first = feed(s.host)[0]
    assert bystander.post(f"{API}/{first['id']}/read").status_code == 404
    read = s.host.post(f"{API}/{first['id']}/read")
    assert read.status_code == 200 and read.get_json()["read"] and read.get_json()["read_at"]
    assert [n["kind"] for n in feed(s.host, "?unread=true")] == ["certificate_suspended"]
    assert len(feed(s.agency, "?unread=true")) == 2  # each organisation reads its own copy
    assert s.host.post(f"{API}/0000000000000000/read").status_code == 404
    en = client.get(API, headers={"Authorization": f"Bearer {s.host.key}", "Accept-Language": "en"}).get_json()
    assert "revoked" in en["items"][0]["text"]
    page = s.host.get(f"{API}?limit=1").get_json()
    assert len(page["items"]) == 1 and page["next_cursor"]
    assert s.host.get(f"{API}?limit=1&cursor={page['next_cursor']}").get_json()["items"][0]["kind"] == \
        "certificate_suspended"


def test_notices_ended_placement_is_not_told_a_future_one_is(client):
    s = Scene(client)
    (wk,), (cert,) = s.certified()
    e = place(s.host, wk["id"], s.host.id, "confined_space_worker", starts_on=f.days_ago(30).date())
    s.host.patch(f"/api/v1/employments/{e['id']}", {"ends_on": str(f.days_ago(2).date())})
    next_host = f.org(s.w.reg, "enterprise")
    place(next_host, wk["id"], next_host.id, "confined_space_worker", starts_on=f.days_ago(-7).date())
    s.w.body.post(f"/api/v1/certificates/{cert['serial']}/revoke", {"reason": "虚假培训"})
    assert feed(s.host) == []
    assert [n["kind"] for n in feed(next_host)] == ["certificate_revoked"]


def test_notices_confirmed_finding_then_dismissed_tells_those_refused_because_of_it(client):
    s = Scene(client)
    wk = f.worker(s.agency)
    place(s.agency, wk["id"], s.host.id, "general_labourer", via_id=s.agency.id)
    induct(s.host, [wk["id"]])
    other = f.org(s.w.reg, "enterprise")  # employs nobody here, so it gives no induction either
    found = _finding(wk)
    warned = check(s.host, wk["id"], "general_labourer")  # open: a warning only, still cleared
    assert warned["cleared"] and "under_review" in codes(warned, "warnings")
    set_status(found, "confirmed", "核实", None)
    db.session.commit()
    for api in (s.host, s.agency):
        (n,) = feed(api)
        assert n["kind"] == "finding_confirmed" and n["finding_id"] == found.id
    assert feed(other) == []  # not placed there: checks, but is not told of the confirmation
    refused_host = check(s.host, wk["id"], "general_labourer")
    refused_other = check(other, wk["id"], "general_labourer")
    assert codes(refused_host) == ["confirmed_finding"] and "confirmed_finding" in codes(refused_other)
    set_status(found, "dismissed", "申诉成立", None)
    db.session.commit()
    told = [n for n in feed(s.host) if n["kind"] == "finding_dismissed"]
    assert len(told) == 1 and told[0]["check_id"] == refused_host["id"] and told[0]["finding_id"] == found.id
    (told_other,) = feed(other)
    assert told_other["kind"] == "finding_dismissed" and told_other["check_id"] == refused_other["id"]
    assert [n["kind"] for n in feed(s.agency)] == ["finding_confirmed"]  # the agency ran no refused check
    assert check(s.host, wk["id"], "general_labourer")["cleared"]  # the dismissed finding no longer weighs
