"""Pre-start checks over HTTP: each reason code, the host's induction (agency hours, the 24/72 split,
workshop and team repeats), cases and findings, the signed receipt, refusals, and the pages."""
from __future__ import annotations

import json
from datetime import date, datetime, timedelta

import pytest
from nacl.signing import VerifyKey
from sqlalchemy import func, select

from certificates.models import Certificate
from certificates.token import b64url_decode, sign_document_bytes
from tests import factories as f
from training.catalogue import load_catalogue
from training.db import db
from verify.cases.models import Case, CaseFinding, CaseParty
from verify.findings.service import raise_finding, set_status
from verify.prestart.models import ImmutableRecord, PrestartCheck
from verify.verification.verdict import verify_document_signature

API = "/api/v1/prestart-checks"
LEVELS = ("company", "workshop", "team")


@pytest.fixture(autouse=True)
def quiet_rules(app, monkeypatch):
    """Records dated weeks back are the point here, not late entry: keep late_record out of it."""
    monkeypatch.setitem(app.config, "FINDINGS_LATE_RECORDS", False)


def today() -> date:
    return datetime.now(f.CST).date()


class Scene:
    """A world (regulator, training body, exam centre), a host enterprise and a labour agency."""

    def __init__(self, client, industry="construction"):
        self.client = client
        self.w = f.World(client, categories=("confined_space", "welding"))
        self.host = f.org(self.w.reg, "enterprise", "中建七局三公司", industry=industry)
        self.agency = f.org(self.w.reg, "labour_agency", "人和劳务派遣")

    def certified(self, n=1, category="confined_space"):
        """n workers trained together, examined and certified."""
        workers = [f.worker(self.w.body) for _ in range(n)]
        f.train(self.w.body, self.w.trainer["id"], [x["id"] for x in workers], category=category,
                hours=load_catalogue().category(category).initial_hours, start_days_ago=40)
        certs = []
        for x in workers:
            f.exam(self.w.centre, x["id"], f.days_ago(20), category=category)
            r = self.w.body.post("/api/v1/certificates", {"worker_id": x["id"], "category": category})
            assert r.status_code == 201, r.get_json()
            certs.append(r.get_json())
        return workers, certs


def place(api, worker_id, host_id, role, via_id=None, starts_on=None, status=201, confirm=True, **extra):
    """Record a placement; one an agency records is confirmed by its host unless ``confirm`` is false."""
    body = {"worker_id": worker_id, "employer_id": host_id, "role": role,
            "starts_on": str(starts_on or today()), **extra}
    if via_id:
        body["via_id"] = via_id
    r = api.post("/api/v1/employments", body)
    assert r.status_code == status, r.get_json()
    return f.confirmed(r.get_json()) if confirm and status == 201 else r.get_json()


def induct(api, worker_ids, levels=LEVELS, hours=8, first_day=6):
    """One induction session per level on consecutive days, all the workers attending."""
    for i, level in enumerate(levels):
        s = f.session(api, f.days_ago(first_day - i), hours, None, kind="induction", level=level,
                      capacity=max(40, len(worker_ids)))
        r = api.post(f"/api/v1/sessions/{s['id']}/attendance/batch", {"items": [
            {"worker_id": w, "check_in": s["starts_at"], "check_out": s["ends_at"]} for w in worker_ids]})
        assert all(i["status"] == 201 for i in r.get_json()["items"]), r.get_json()


def check(api, worker_id, role, status=200, hire=True, **extra):
    """One check; an enterprise asking (``hire``) employs the worker in the role first, as it must
    to learn the worker's standing (tests/verify/test_oracle.py holds the refusals)."""
    if hire and api.org.get("kind") == "enterprise" and status == 200:
        r = api.post("/api/v1/employments", {"worker_id": worker_id, "role": role, "starts_on": str(today())})
        assert r.status_code in (201, 409), r.get_json()
    r = api.post(API, {"worker_id": worker_id, "role": role, **extra})
    assert r.status_code == status, r.get_json()
    return r.get_json()


def codes(answer, key="reasons"):
    return [x["code"] for x in answer[key]]


def checks_count():
    return db.session.scalar(select(func.count()).select_from(PrestartCheck))


# --- the answer and its receipt --------------------------------------------------------------


def test_prestart_cleared_answer_has_contract_fields_and_a_verifiable_signature(client):
    s = Scene(client)
    (wk,), (cert,) = s.certified()
    place(s.agency, wk["id"], s.host.id, "confined_space_worker", via_id=s.agency.id)
    induct(s.host, [wk["id"]])
    a = check(s.agency, wk["id"], "confined_space_worker")
    for k in ("id", "checked_at", "cleared", "reasons", "warnings", "required_categories", "certificates",
              "induction", "signature"):
        assert k in a, k
    assert a["cleared"] is True and a["reasons"] == [] and a["required_categories"] == ["confined_space"]
    assert a["certificates"] == [{"serial": cert["serial"], "category": "confined_space", "status": "valid",
                                  "valid_until": cert["valid_until"], "review_due": cert["review_due"],
                                  "review_required": True}]  # confined space keeps its yearly review
    assert a["induction"]["required_hours"] == 24 and a["induction"]["completed_hours"] == 24
    assert a["employer_id"] == s.host.id and a["via"]["id"] == s.agency.id  # the agency's default host
    assert a["worker"]["id_number_masked"] == wk["id_number_masked"]
    # Anyone holding the trust list checks the receipt offline.
    trust = client.get("/api/v1/trust-list").get_json()
    public = b64url_decode(trust["issuer"]["x"])
    assert a["signature"]["alg"] == "EdDSA" and a["signature"]["kid"] == trust["issuer"]["kid"]
    assert "=" not in a["signature"]["value"]
    VerifyKey(public).verify(sign_document_bytes(a), b64url_decode(a["signature"]["value"]))
    assert verify_document_signature(a, public)
    changed = {**a, "cleared": not a["cleared"]}
    assert not verify_document_signature(changed, public)
    # ... and online; the record comes back byte for byte.
    ok = client.post(f"{API}/verify-receipt", json=a).get_json()
    assert ok["valid"] and ok["recorded"] and ok["check"]["id"] == a["id"]
    bad = client.post(f"{API}/verify-receipt", json=changed).get_json()
    assert not bad["valid"] and codes(bad) == ["receipt_bad_signature"]
    renamed = json.loads(json.dumps(a, ensure_ascii=False).replace(wk["name"], "李四"))
    assert renamed != a
    assert not client.post(f"{API}/verify-receipt", json=renamed).get_json()["valid"]
    unknown = {**a, "signature": {**a["signature"], "kid": "AAAAAAAAAAA"}}
    assert codes(client.post(f"{API}/verify-receipt", json=unknown).get_json()) == ["receipt_unknown_key"]
    assert s.agency.get(f"{API}/{a['id']}").get_json() == a
    assert s.host.get(f"{API}/{a['id']}").get_json() == a  # the host sees checks run for it


def test_prestart_record_is_never_edited(client):
    s = Scene(client)
    wk = f.worker(s.host)
    a = check(s.host, wk["id"], "general_labourer")
    row = db.session.get(PrestartCheck, a["id"])
    row.cleared = True
    with pytest.raises(ImmutableRecord):
        db.session.flush()
    db.session.rollback()
    row = db.session.get(PrestartCheck, a["id"])
    db.session.delete(row)
    with pytest.raises(ImmutableRecord):
        db.session.flush()
    db.session.rollback()
    assert all(m not in {"PATCH", "PUT", "DELETE"} for r in client.application.url_map.iter_rules()
               if r.rule.startswith(API) for m in r.methods)


# --- reasons ---------------------------------------------------------------------------------


def test_prestart_missing_certificate_for_the_role_from_the_catalogue(client):
    s = Scene(client)
    wk = f.worker(s.host)
    place(s.host, wk["id"], s.host.id, "general_labourer")  # induction is given to the host's own workers
    induct(s.host, [wk["id"]])
    a = check(s.host, wk["id"], "welder")
    assert not a["cleared"] and codes(a) == ["missing_certificate"] and a["reasons"][0]["category"] == "welding"
    assert a["required_categories"] == list(load_catalogue().roles["welder"].required_categories)
    assert a["employer_id"] == s.host.id and a["certificates"] == []
    assert "焊" in a["reasons"][0]["message"]
    assert check(s.host, wk["id"], "general_labourer")["cleared"]  # a role with no certificate needed
    en = client.post(API, json={"worker_id": wk["id"], "role": "welder"},
                     headers={"Authorization": f"Bearer {s.host.key}", "Accept-Language": "en"}).get_json()
    assert "certificate" in en["reasons"][0]["message"]


def test_prestart_certificate_revoked_suspended_expired_and_dates_after_start(client):
    s = Scene(client)
    workers, certs = s.certified(3)
    ids = [x["id"] for x in workers]
    role = "confined_space_worker"
    for wid in ids:
        place(s.host, wid, s.host.id, role)
    induct(s.host, ids)
    s.w.body.post(f"/api/v1/certificates/{certs[0]['serial']}/revoke", {"reason": "虚假培训"})
    s.w.body.post(f"/api/v1/certificates/{certs[1]['serial']}/suspend", {"reason": "核查中"})
    row = db.session.get(Certificate, certs[2]["serial"])
    valid_until, review_due = row.valid_until, row.review_due
    row.valid_until = today() - timedelta(days=1)
    db.session.commit()
    assert codes(check(s.host, ids[0], role)) == ["certificate_revoked"]
    assert codes(check(s.host, ids[1], role)) == ["certificate_suspended"]
    expired = check(s.host, ids[2], role)
    assert codes(expired) == ["certificate_expired"] and expired["certificates"][0]["status"] == "expired"
    row = db.session.get(Certificate, certs[2]["serial"])
    row.valid_until = valid_until
    db.session.commit()
    assert check(s.host, ids[2], role)["cleared"]
    late = check(s.host, ids[2], role, starts_on=str(valid_until + timedelta(days=1)))
    assert codes(late) == ["certificate_expires_before_start"] and str(valid_until) in late["reasons"][0]["message"]
    assert codes(check(s.host, ids[2], role, starts_on=str(review_due + timedelta(days=1)))) == \
        ["certificate_review_overdue"]
    assert check(s.host, ids[2], role, starts_on=str(review_due))["cleared"]


def test_prestart_agency_induction_does_not_replace_the_hosts(client):
    s = Scene(client)
    wk = f.worker(s.agency)
    place(s.agency, wk["id"], s.host.id, "general_labourer", via_id=s.agency.id)
    induct(s.agency, [wk["id"]], first_day=9)
    a = check(s.agency, wk["id"], "general_labourer")
    assert codes(a) == ["insufficient_induction"] and a["induction"]["completed_hours"] == 0
    assert a["induction"]["not_counted_hours"] == 24 and "other_induction_not_counted" in codes(a, "warnings")
    assert "建筑施工" in a["reasons"][0]["message"]  # the host's industry, in the answer's language
    en = client.post(API, json={"worker_id": wk["id"], "role": "general_labourer"},
                     headers={"Authorization": f"Bearer {s.agency.key}", "Accept-Language": "en"}).get_json()
    assert "(Construction)" in en["reasons"][0]["message"] and "建筑" not in en["reasons"][0]["message"]
    induct(s.host, [wk["id"]], levels=("company", "workshop"))
    a = check(s.agency, wk["id"], "general_labourer")
    assert codes(a) == ["insufficient_induction"] and a["induction"]["levels"] == {"company": 8, "workshop": 8, "team": 0}
    assert "班组级" in a["reasons"][0]["message"]
    induct(s.host, [wk["id"]], levels=("team",), first_day=3)
    a = check(s.agency, wk["id"], "general_labourer")
    assert a["cleared"] and a["induction"]["completed_hours"] == 24


def test_prestart_required_hours_follow_the_hosts_industry_not_the_role(client):
    s = Scene(client)
    mine = f.org(s.w.reg, "enterprise", "平煤股份", industry="coal_mine")
    wk = f.worker(s.host)
    place(s.host, wk["id"], s.host.id, "general_labourer")
    place(mine, wk["id"], mine.id, "general_labourer")
    induct(s.host, [wk["id"]], first_day=6)
    induct(mine, [wk["id"]], first_day=3)
    build = check(s.host, wk["id"], "general_labourer")
    coal = check(mine, wk["id"], "general_labourer")
    assert build["cleared"] and build["induction"]["required_hours"] == 24
    assert not coal["cleared"] and coal["induction"]["required_hours"] == 72 == load_catalogue().induction_hours("coal_mine")
    assert codes(coal) == ["insufficient_induction"] and "72" in coal["reasons"][0]["message"]
    assert coal["induction"]["completed_hours"] == 24  # the other host's hours never count here
    chem = f.org(s.w.reg, "enterprise", industry="hazardous_chemicals")
    assert check(chem, wk["id"], "general_labourer")["induction"]["required_hours"] == 72


def test_prestart_change_of_role_repeats_workshop_and_team_levels(client):
    s = Scene(client)
    wk = f.worker(s.host)
    place(s.host, wk["id"], s.host.id, "general_labourer", starts_on=today() - timedelta(days=30))
    induct(s.host, [wk["id"]], first_day=40)  # before the first shift, once employed
    assert check(s.host, wk["id"], "general_labourer")["cleared"]
    a = check(s.host, wk["id"], "metal_miner")
    assert codes(a) == ["insufficient_induction"] and a["induction"]["repeat"]["because"] == ["role_change"]
    assert a["induction"]["repeat"]["levels"] == {"workshop": {"required_hours": 8, "completed_hours": 0},
                                                  "team": {"required_hours": 8, "completed_hours": 0}}
    induct(s.host, [wk["id"]], levels=("workshop", "team"), first_day=3)
    a = check(s.host, wk["id"], "metal_miner")
    assert a["cleared"] and a["induction"]["repeat"]["levels"]["team"]["completed_hours"] == 8


def test_prestart_return_after_a_year_away_repeats_workshop_and_team_levels(client):
    s = Scene(client)
    wk = f.worker(s.host)
    old = place(s.host, wk["id"], s.host.id, "general_labourer", starts_on=today() - timedelta(days=800))
    induct(s.host, [wk["id"]], first_day=805)
    assert s.host.patch(f"/api/v1/employments/{old['id']}",
                        {"ends_on": str(today() - timedelta(days=400))}).status_code == 200
    place(s.host, wk["id"], s.host.id, "general_labourer")  # back from today: induction needs the employment
    a = check(s.host, wk["id"], "general_labourer")
    assert codes(a) == ["insufficient_induction"]
    assert a["induction"]["repeat"]["because"] == ["return_after_absence"] and a["induction"]["repeat"]["days_away"] == 400
    induct(s.host, [wk["id"]], levels=("workshop", "team"), first_day=3)
    assert check(s.host, wk["id"], "general_labourer")["cleared"]
    short = f.worker(s.host)  # away less than the configured absence: no repeat
    gone = place(s.host, short["id"], s.host.id, "general_labourer", starts_on=today() - timedelta(days=190))
    induct(s.host, [short["id"]], first_day=200)
    s.host.patch(f"/api/v1/employments/{gone['id']}", {"ends_on": str(today() - timedelta(days=100))})
    assert check(s.host, short["id"], "general_labourer")["induction"]["repeat"] is None


def _finding(worker, rule_key="test:exam_too_fast"):
    found = raise_finding("exam_too_fast", "medium", rule_key, {"note": "test"}, "考试用时过短",
                          [("worker", worker["id"], worker["name"])], worker_id=worker["id"])
    db.session.commit()
    return found


def test_prestart_open_findings_warn_confirmed_ones_and_open_cases_block(client):
    s = Scene(client)
    wk = f.worker(s.host)
    place(s.host, wk["id"], s.host.id, "general_labourer")
    induct(s.host, [wk["id"]])
    found = _finding(wk)
    a = check(s.host, wk["id"], "general_labourer")
    assert a["cleared"] and "under_review" in codes(a, "warnings")
    assert any(w.get("finding_id") == found.id for w in a["warnings"])
    set_status(found, "confirmed", "核实", None)
    db.session.commit()
    a = check(s.host, wk["id"], "general_labourer")
    assert not a["cleared"] and codes(a) == ["confirmed_finding"] and a["reasons"][0]["finding_id"] == found.id
    other = f.worker(s.host)
    place(s.host, other["id"], s.host.id, "general_labourer")
    induct(s.host, [other["id"]], first_day=3)
    case = Case(opened_by=s.w.reg.id, status="open")
    db.session.add(case)
    db.session.flush()
    db.session.add(CaseParty(case_id=case.id, role="worker", party_id=other["id"], name=other["name"]))
    db.session.commit()
    a = check(s.host, other["id"], "general_labourer")
    assert codes(a) == ["open_case"] and a["reasons"][0]["case_id"] == case.id
    case.status = "dismissed"
    db.session.commit()
    assert check(s.host, other["id"], "general_labourer")["cleared"]


def test_prestart_findings_and_cases_reach_the_worker_by_each_path(client):
    """By worker_id, as a worker party, or on the worker's certificate; a case by party or through a
    finding about the worker. Dismissed findings and decided cases do not count, nor another's."""
    s = Scene(client)
    (wk,), (cert,) = s.certified()
    (other,), _ = s.certified()
    place(s.host, wk["id"], s.host.id, "confined_space_worker")
    induct(s.host, [wk["id"]])
    on_card = raise_finding("exam_too_fast", "medium", "test:card", {}, "证书", [], certificate_serial=cert["serial"])
    as_party = raise_finding("exam_too_fast", "medium", "test:party", {}, "当事人", [("worker", wk["id"], wk["name"])])
    dismissed = raise_finding("exam_too_fast", "medium", "test:gone", {}, "已撤销", [], worker_id=wk["id"])
    set_status(dismissed, "dismissed", "不成立", None)
    raise_finding("exam_too_fast", "medium", "test:other", {}, "他人", [("worker", other["id"], other["name"])],
                  worker_id=other["id"])
    db.session.commit()
    a = check(s.host, wk["id"], "confined_space_worker")
    assert a["cleared"] and [w["finding_id"] for w in a["warnings"]] == [on_card.id, as_party.id]
    decided, holding = Case(opened_by=s.w.reg.id, status="confirmed"), Case(opened_by=s.w.reg.id, status="open")
    db.session.add_all([decided, holding])
    db.session.flush()
    db.session.add_all([CaseParty(case_id=decided.id, role="worker", party_id=wk["id"], name=wk["name"]),
                        CaseFinding(case_id=holding.id, finding_id=dismissed.id)])
    db.session.commit()
    a = check(s.host, wk["id"], "confined_space_worker")
    assert codes(a) == ["open_case"] and a["reasons"][0]["case_id"] == holding.id
    assert check(s.host, other["id"], "general_labourer")["warnings"][0]["code"] == "under_review"


# --- who may ask, and for which host ---------------------------------------------------------


def test_prestart_agency_host_resolution_and_refusals(client):
    s = Scene(client)
    wk = f.worker(s.agency)
    r = s.agency.post(API, {"worker_id": wk["id"], "role": "general_labourer"})
    assert r.status_code == 422 and r.get_json()["errors"][0]["code"] == "no_placement"
    place(s.agency, wk["id"], s.host.id, "general_labourer", via_id=s.agency.id)
    second = f.org(s.w.reg, "enterprise")
    place(s.agency, wk["id"], second.id, "general_labourer", via_id=s.agency.id)
    r = s.agency.post(API, {"worker_id": wk["id"], "role": "general_labourer"})
    assert r.status_code == 422 and r.get_json()["errors"][0]["code"] == "ambiguous"
    assert check(s.agency, wk["id"], "general_labourer", employer_id=second.id)["employer_id"] == second.id
    stranger = f.org(s.w.reg, "enterprise")
    r = s.agency.post(API, {"worker_id": wk["id"], "role": "general_labourer", "employer_id": stranger.id})
    assert r.status_code == 422 and r.get_json()["errors"][0]["code"] == "no_placement"
    assert s.host.post(API, {"worker_id": wk["id"], "role": "general_labourer",
                             "employer_id": second.id}).status_code == 403
    sub = f.org(s.w.reg, "subcontractor", industry="construction")
    place(sub, wk["id"], sub.id, "general_labourer")
    assert check(sub, wk["id"], "general_labourer", employer_id=sub.id)["employer_id"] == sub.id  # its own hire


def test_prestart_refused_request_changes_nothing(client):
    s = Scene(client)
    wk = f.worker(s.host)
    place(s.host, wk["id"], s.host.id, "general_labourer")
    bad = [({"worker_id": "0000000000000000", "role": "general_labourer"}, 422),
           ({"worker_id": wk["id"], "role": "astronaut"}, 422),
           ({"worker_id": wk["id"], "role": "general_labourer", "starts_on": str(today() - timedelta(days=1))}, 422),
           ({"worker_id": wk["id"], "role": "general_labourer", "extra": 1}, 422),
           ({"worker_id": wk["id"], "role": "general_labourer", "site_id": "0000000000000000"}, 422)]
    for body, status in bad:
        r = s.host.post(API, body)
        assert r.status_code == status and r.mimetype == "application/problem+json", (body, r.get_json())
    assert s.host.post(API, data="{", content_type="application/json").status_code == 400
    assert client.post(API, json={"worker_id": wk["id"], "role": "general_labourer"}).status_code == 401
    assert s.w.body.post(API, {"worker_id": wk["id"], "role": "general_labourer"}).status_code == 403
    assert checks_count() == 0
    first = s.host.post(API, {"worker_id": wk["id"], "role": "general_labourer"}, {"Idempotency-Key": "k1"}).get_json()
    again = s.host.post(API, {"worker_id": wk["id"], "role": "general_labourer"}, {"Idempotency-Key": "k1"})
    assert again.get_json() == first and checks_count() == 1
    assert s.host.post(API, {"worker_id": wk["id"], "role": "welder"}, {"Idempotency-Key": "k1"}).status_code == 409


ENDPOINTS = [("post", "/api/v1/employments"), ("get", "/api/v1/employments"),
             ("get", "/api/v1/employments/0000000000000000"), ("patch", "/api/v1/employments/0000000000000000"),
             ("post", API), ("get", API), ("get", f"{API}/0000000000000000"), ("post", f"{API}/batch")]
NOTICES = [("get", "/api/v1/notices"), ("post", "/api/v1/notices/0000000000000000/read")]


def test_prestart_every_endpoint_401_without_key_and_403_for_other_kinds(client):
    reg = f.regulator(client)
    others = {k: f.org(reg, k) for k in ("training_body", "exam_centre", "inspectorate")}
    for method, path in ENDPOINTS:
        r = client.open(path, method=method.upper(), json={})
        assert r.status_code == 401 and r.mimetype == "application/problem+json", (method, path)
        for kind, api in others.items():
            r = client.open(path, method=method.upper(), json={}, headers={"Authorization": f"Bearer {api.key}"})
            assert r.status_code == 403, (kind, method, path, r.status_code)
    assert client.open(API, method="POST", json={}, headers={"Authorization": f"Bearer {reg.key}"}).status_code == 403
    # Notices also reach training bodies and exam centres (cases name them); inspectorates have none.
    for method, path in NOTICES:
        assert client.open(path, method=method.upper(), json={}).status_code == 401
        r = client.open(path, method=method.upper(), json={},
                        headers={"Authorization": f"Bearer {others['inspectorate'].key}"})
        assert r.status_code == 403, (method, path, r.status_code)


def test_prestart_lists_the_callers_own_checks(client):
    s = Scene(client)
    a_wk, b_wk = f.worker(s.agency), f.worker(s.host)
    place(s.agency, a_wk["id"], s.host.id, "general_labourer", via_id=s.agency.id)
    by_agency = check(s.agency, a_wk["id"], "general_labourer")
    by_host = check(s.host, b_wk["id"], "general_labourer")
    other = f.org(s.w.reg, "enterprise")
    mine = check(other, b_wk["id"], "general_labourer")
    def ids(api, q=""):
        return [i["id"] for i in api.get(f"{API}{q}").get_json()["items"]]
    assert set(ids(s.host)) == {by_agency["id"], by_host["id"]}
    assert ids(s.agency) == [by_agency["id"]] and ids(other) == [mine["id"]]
    assert ids(s.host, f"?worker_id={b_wk['id']}") == [by_host["id"]]
    assert s.agency.get(f"{API}/{by_host['id']}").status_code == 404
