"""Employment records over HTTP: who may record and end them, who sees them (no organisation sees
another's), refusals that change nothing, and the on-site rule that reads them."""
from __future__ import annotations

import json
from datetime import timedelta

from sqlalchemy import func, select

from tests import factories as f
from tests.verify.test_prestart import Scene, check, induct, place, quiet_rules, today  # noqa: F401
from training.db import db
from verify.employment_models import Employment
from verify.models import Finding, FindingParty

API = "/api/v1/employments"


def employments():
    return db.session.scalar(select(func.count()).select_from(Employment))


def ids(api, query=""):
    r = api.get(f"{API}{query}")
    assert r.status_code == 200, r.get_json()
    return [i["id"] for i in r.get_json()["items"]]


def test_employment_agency_records_a_placement_the_host_sees_and_no_one_else(client):
    s = Scene(client)
    wk = f.worker(s.agency)
    e = place(s.agency, wk["id"], s.host.id, "welder", via_id=s.agency.id)
    assert e["employer"]["id"] == s.host.id and e["via"] == {"id": s.agency.id, "name": s.agency.org["name"],
                                                              "kind": "labour_agency"}
    assert e["worker"]["id_number_masked"] == wk["id_number_masked"] and e["active"] and e["ends_on"] is None
    own = place(s.host, f.worker(s.host)["id"], s.host.id, "electrician")
    assert set(ids(s.host)) == {e["id"], own["id"]} and ids(s.agency) == [e["id"]]
    other_host, other_agency = f.org(s.w.reg, "enterprise"), f.org(s.w.reg, "labour_agency")
    sub = f.org(s.w.reg, "subcontractor")
    for outsider in (other_host, other_agency, sub):
        assert ids(outsider) == [] and ids(outsider, f"?worker_id={wk['id']}") == []
        assert outsider.get(f"{API}/{e['id']}").status_code == 404
        assert outsider.patch(f"{API}/{e['id']}", {"ends_on": str(today())}).status_code == 404
    assert s.host.get(f"{API}/{e['id']}").get_json()["id"] == e["id"]
    assert set(ids(s.w.reg)) == {e["id"], own["id"]}  # the regulator oversees all
    assert ids(s.host, f"?worker_id={wk['id']}") == [e["id"]]


def test_employment_only_the_host_or_the_one_in_between_records_it(client):
    s = Scene(client)
    wk = f.worker(s.agency)
    other_agency = f.org(s.w.reg, "labour_agency")
    other_host = f.org(s.w.reg, "enterprise")
    refused = [(other_agency, {"employer_id": s.host.id, "via_id": s.agency.id}),  # someone else's placement
               (s.agency, {"employer_id": s.host.id}),                          # not via itself
               (s.host, {"employer_id": other_host.id})]                        # another host's hire
    for api, extra in refused:
        r = api.post(API, {"worker_id": wk["id"], "role": "welder", "starts_on": str(today()), **extra})
        assert r.status_code == 403, (extra, r.get_json())
    assert employments() == 0
    sub = f.org(s.w.reg, "subcontractor")
    assert place(sub, wk["id"], sub.id, "welder")["employer"]["id"] == sub.id  # its own employee
    assert place(sub, wk["id"], s.host.id, "welder", via_id=sub.id)["via"]["kind"] == "subcontractor"
    assert place(s.host, wk["id"], s.host.id, "scaffolder", via_id=s.agency.id)["via"]["id"] == s.agency.id


def test_employment_refusals_are_422_and_change_nothing(client):
    s = Scene(client)
    wk = f.worker(s.agency)
    foreign_site = f.org(s.w.reg, "enterprise").post(
        "/api/v1/sites", {"name": "别家工地", "latitude": 34.7, "longitude": 113.6}).get_json()
    base = {"worker_id": wk["id"], "employer_id": s.host.id, "via_id": s.agency.id, "role": "welder",
            "starts_on": str(today())}
    cases = [({"worker_id": "0000000000000000"}, "worker_id", "not_found"),
             ({"role": "astronaut"}, "role", "not_allowed"),
             ({"starts_on": "someday"}, "starts_on", "invalid"),
             ({"employer_id": s.w.body.id, "via_id": s.agency.id}, "employer_id", "not_found"),
             ({"site_id": foreign_site["id"]}, "site_id", "not_found"),
             ({"unknown": 1}, "unknown", "unknown_field")]
    for change, field, code in cases:
        r = s.agency.post(API, {**base, **change})
        assert r.status_code == 422, (change, r.get_json())
        assert {"field": field, "code": code} in [{k: e[k] for k in ("field", "code")} for e in r.get_json()["errors"]]
    r = s.agency.post(API, {**base, "via_id": s.agency.id, "employer_id": s.agency.id})
    assert r.status_code == 422
    r = s.host.post(API, {**base, "via_id": f.org(s.w.reg, "enterprise").id})
    assert r.status_code == 422 and r.get_json()["errors"][0]["field"] == "via_id"
    assert s.agency.post(API, data="[", content_type="application/json").status_code == 400
    assert employments() == 0


def test_employment_end_duplicate_and_idempotency(client):
    s = Scene(client)
    wk = f.worker(s.host)
    body = {"worker_id": wk["id"], "role": "welder", "starts_on": str(today() - timedelta(days=10))}
    first = s.host.post(API, body, {"Idempotency-Key": "e-1"})
    assert first.status_code == 201 and first.get_json()["employer"]["id"] == s.host.id  # defaults to the caller
    assert s.host.post(API, body, {"Idempotency-Key": "e-1"}).get_json() == first.get_json()
    dup = s.host.post(API, body)
    assert dup.status_code == 409 and dup.get_json()["employment_id"] == first.get_json()["id"]
    assert employments() == 1
    eid = first.get_json()["id"]
    assert s.host.patch(f"{API}/{eid}", {"ends_on": str(today() - timedelta(days=11))}).status_code == 422
    assert s.host.patch(f"{API}/{eid}", {}).status_code == 422
    ended = s.host.patch(f"{API}/{eid}", {"ends_on": str(today() - timedelta(days=1))})
    assert ended.status_code == 200 and ended.get_json()["ends_on"] == str(today() - timedelta(days=1))
    assert not ended.get_json()["active"] and ids(s.host, "?active=true") == []
    assert s.host.patch(f"{API}/{eid}", {"ends_on": str(today() - timedelta(days=1))}).status_code == 200
    assert s.host.patch(f"{API}/{eid}", {"ends_on": str(today())}).status_code == 409
    assert s.host.post(API, body).status_code == 201  # the old one ended: a new placement may start


# --- on site ---------------------------------------------------------------------------------


def _officer(s):
    insp = f.org(s.w.reg, "inspectorate")
    key = s.w.reg.post(f"/api/v1/organizations/{insp.id}/api-keys", {"holder": {"name": "李明", "badge": "豫A1024"}})
    return f.Api(s.client, key.get_json()["api_key"], insp.org)


def _scan(officer, cert, site):
    r = officer.post("/api/v1/verify", {"qr_text": cert["qr_text"], "site_id": site["id"]})
    assert r.status_code == 200, r.get_json()
    return r.get_json()


def _onduty(worker_id):
    return db.session.scalars(select(Finding).where(Finding.kind == "unqualified_on_duty",
                                                    Finding.worker_id == worker_id)).all()


def test_onsite_scan_raises_unqualified_on_duty_against_worker_host_and_agency(client):
    s = Scene(client)
    (welder_wrong, cleared_wk, early_wk), certs = s.certified(3)
    site = s.host.post("/api/v1/sites", {"name": "三号井", "latitude": 34.7, "longitude": 113.6}).get_json()
    officer = _officer(s)
    ids_ = [welder_wrong["id"], cleared_wk["id"], early_wk["id"]]
    induct(s.host, ids_)
    # On duty as a welder with only a confined-space certificate, placed through the agency.
    place(s.agency, welder_wrong["id"], s.host.id, "welder", via_id=s.agency.id, site_id=site["id"])
    assert _scan(officer, certs[0], site)["result"] == "valid"  # the card itself is fine
    (found,) = _onduty(welder_wrong["id"])
    evidence = json.loads(found.evidence)
    assert evidence["missing_categories"] == ["welding"] and evidence["site_id"] == site["id"]
    parties = {(p.role, p.party_id) for p in db.session.scalars(
        select(FindingParty).where(FindingParty.finding_id == found.id))}
    assert parties == {("worker", welder_wrong["id"]), ("employer", s.host.id), ("labour_agency", s.agency.id)}
    _scan(officer, certs[0], site)
    assert len(_onduty(welder_wrong["id"])) == 1  # one finding per placement and day
    # Qualified and cleared before the start: nothing to find.
    place(s.agency, cleared_wk["id"], s.host.id, "confined_space_worker", via_id=s.agency.id)
    assert check(s.agency, cleared_wk["id"], "confined_space_worker")["cleared"]
    _scan(officer, certs[1], site)  # employed with the site's enterprise, at no named site
    assert _onduty(cleared_wk["id"]) == []
    # Started ten days ago, cleared only today.
    place(s.host, early_wk["id"], s.host.id, "confined_space_worker", starts_on=today() - timedelta(days=10))
    assert check(s.host, early_wk["id"], "confined_space_worker")["cleared"]
    _scan(officer, certs[2], site)
    (late,) = _onduty(early_wk["id"])
    evidence = json.loads(late.evidence)
    assert "started_before_cleared_check" in evidence and "missing_categories" not in evidence
    # A scan with no site, or at another enterprise's site, says nothing about the placement.
    other_site = f.org(s.w.reg, "enterprise").post(
        "/api/v1/sites", {"name": "别处", "latitude": 30.0, "longitude": 110.0}).get_json()
    s.w.body.post(f"/api/v1/certificates/{certs[1]['serial']}/revoke", {"reason": "虚假培训"})
    officer.post("/api/v1/verify", {"qr_text": certs[1]["qr_text"]})
    _scan(officer, certs[1], other_site)
    assert _onduty(cleared_wk["id"]) == []
    _scan(officer, certs[1], site)  # now revoked at the host's site: unqualified
    assert json.loads(_onduty(cleared_wk["id"])[0].evidence)["missing_categories"] == ["confined_space"]
