"""Cases: opened from confirmed findings with every party resolved, parties heard before
confirmation, confirmation revoking certificates that rest on fake evidence; and revoking
everything a body issued in a period."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import update

from tests import factories as f
from tests.certificates.test_issuance import issue
from tests.verify.test_online import verify
from tests.verify.test_rules import found
from training.db import db, utcnow
from verify.cases.models import Case


@pytest.fixture(autouse=True)
def _quiet(app, monkeypatch):
    monkeypatch.setitem(app.config, "FINDINGS_LATE_RECORDS", False)


def placed(w, wk):
    """The worker placed with an enterprise through a labour agency (issue 5's employment table)."""
    host = f.org(w.reg, "enterprise", "某煤业公司", industry="coal_mine")
    agency = f.org(w.reg, "labour_agency", "某劳务派遣公司")
    try:
        from verify.employment.models import Employment
    except ImportError:
        return host, agency, False
    db.session.add(Employment(worker_id=wk["id"], employer_id=host.id, via_id=agency.id, role="confined_space_worker",
                              starts_on=utcnow().date() - timedelta(days=30), created_by=agency.id))
    db.session.commit()
    return host, agency, True


def fake_exam_case(client):
    w = f.World(client)
    wk = f.worker(w.body)
    f.train(w.body, w.trainer["id"], [wk["id"]], "confined_space", hours=24, start_days_ago=30)
    f.exam(w.centre, wk["id"], f.days_ago(5), category="confined_space", duration=12)
    cert = issue(w, wk, "confined_space").get_json()
    hit = found("exam_too_fast")[0]
    return w, wk, cert, hit


def test_case_from_open_finding_refused_and_dismissed_case_revokes_nothing(client):
    w, wk, cert, hit = fake_exam_case(client)
    r = w.reg.post("/api/v1/cases", {"finding_ids": [hit.id, "nosuchfinding"]})
    assert r.status_code == 422
    assert {e["code"] for e in r.get_json()["errors"]} == {"not_confirmed", "not_found"}
    assert w.body.post("/api/v1/cases", {"finding_ids": [hit.id]}).status_code == 403
    assert db.session.query(Case).count() == 0
    w.reg.patch(f"/api/v1/findings/{hit.id}", {"status": "confirmed", "reason": "核实"})
    case = w.reg.post("/api/v1/cases", {"finding_ids": [hit.id]}).get_json()
    r = w.reg.patch(f"/api/v1/cases/{case['id']}", {"status": "dismissed", "reason": "证据不足"})
    assert r.status_code == 200 and r.get_json()["revoked"] == []
    assert verify(client, cert["qr_text"])["result"] == "suspect"  # the confirmed finding still stands


def test_case_parties_heard_then_confirmed_revokes_resting_certificates(client):
    w, wk, cert, hit = fake_exam_case(client)
    host, agency, has_employment = placed(w, wk)
    w.reg.patch(f"/api/v1/findings/{hit.id}", {"status": "confirmed", "reason": "监控显示12分钟交卷"})
    r = w.reg.post("/api/v1/cases", {"finding_ids": [hit.id]})
    assert r.status_code == 201, r.get_json()
    case = r.get_json()
    roles = {(p["role"], p["id"]) for p in case["parties"]}
    assert {("worker", wk["id"]), ("exam_centre", w.centre.id), ("training_body", w.body.id)} <= roles
    if has_employment:
        assert {("employer", host.id), ("labour_agency", agency.id)} <= roles
    opened = w.centre.get("/api/v1/notices").get_json()["items"]
    assert any(n["kind"] == "case_opened" and case["id"] in n["text"] for n in opened)  # told, to be heard
    again = w.reg.post("/api/v1/cases", {"finding_ids": [hit.id]})
    assert again.status_code == 422 and again.get_json()["errors"][0]["code"] == "already_in_case"
    outsider = f.org(w.reg, "training_body")
    assert outsider.post(f"/api/v1/cases/{case['id']}/statements", {"text": "无关"}).status_code == 404
    assert outsider.get(f"/api/v1/cases/{case['id']}").status_code == 403
    assert w.centre.post(f"/api/v1/cases/{case['id']}/statements", {"text": "我方已整改考试计时。"}).status_code == 201
    r = w.reg.patch(f"/api/v1/cases/{case['id']}", {"status": "confirmed", "reason": "虚假考试"})
    assert r.status_code == 422 and all(e["code"] == "not_heard" for e in r.get_json()["errors"])
    early = w.reg.post(f"/api/v1/cases/{case['id']}/statements",
                       {"party_id": wk["id"], "kind": "no_response", "text": "逾期未答复"})
    assert early.status_code == 422  # the hearing period is still open
    w.reg.post(f"/api/v1/cases/{case['id']}/statements", {"party_id": wk["id"], "text": "本人口头陈述：考试确实很快。"})
    db.session.execute(update(Case).where(Case.id == case["id"]).values(created_at=utcnow() - timedelta(days=8)))
    db.session.commit()
    for p in case["parties"]:
        if p["id"] not in (wk["id"], w.centre.id):
            r = w.reg.post(f"/api/v1/cases/{case['id']}/statements",
                           {"party_id": p["id"], "kind": "no_response", "text": "通知后七日内未答复"})
            assert r.status_code == 201, r.get_json()
    r = w.reg.patch(f"/api/v1/cases/{case['id']}", {"status": "confirmed", "reason": "虚假考试，证据确凿"})
    assert r.status_code == 200, r.get_json()
    done = r.get_json()
    assert done["status"] == "confirmed" and done["revoked"] == [cert["serial"]] and done["unheard"] == []
    assert verify(client, cert["qr_text"])["result"] == "revoked"
    decided = w.body.get("/api/v1/notices").get_json()["items"]
    assert any(n["kind"] == "case_decided" for n in decided)
    assert w.reg.patch(f"/api/v1/cases/{case['id']}", {"status": "dismissed", "reason": "x"}).status_code == 409
    listed = w.reg.get("/api/v1/cases?status=confirmed").get_json()["items"]
    assert [c["id"] for c in listed] == [case["id"]]


def test_case_revoke_everything_a_body_issued_in_a_period(client, runner):
    w, wk, cert, hit = fake_exam_case(client)
    today = str((utcnow() + timedelta(hours=8)).date())
    body = {"issuer_id": w.body.id, "issued_from": today, "issued_until": today, "reason": "该机构违规发证"}
    assert w.body.post("/api/v1/revocations", body).status_code == 403
    assert w.reg.post("/api/v1/revocations", {**body, "issuer_id": w.centre.id}).status_code == 422
    r = w.reg.post("/api/v1/revocations", body)
    assert r.status_code == 201, r.get_json()
    report = r.get_json()
    assert report["revoked"] == [cert["serial"]] and report["revoked_count"] == 1 and report["skipped"] == []
    assert verify(client, cert["qr_text"])["result"] == "revoked"
    assert w.reg.get(f"/api/v1/revocations/{report['id']}").get_json()["revoked"] == [cert["serial"]]
    result = runner.invoke(args=["revoke-issued", "--issuer", w.body.id, "--from", today, "--until", today,
                                 "--reason", "再次执行"])
    assert result.exit_code == 0, result.output
    assert "revoked 0, skipped 1" in result.output
