"""The findings API: only regulators read it; filters and paging; review with reasons; the ranking;
the re-run command; the OpenAPI description."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from tests import factories as f
from tests.verify.test_online import verify
from tests.verify.test_rules import found, tune
from tests.verify.test_rules_certificates import certified, officer_for
from training.db import db
from training.db.models import AuditEntry
from verify.findings.models import Finding


@pytest.fixture(autouse=True)
def _quiet(app, monkeypatch):
    monkeypatch.setitem(app.config, "FINDINGS_LATE_RECORDS", False)


def fast_exams(w, n=2):
    ids = [f.worker(w.body)["id"] for _ in range(n)]
    for wid in ids:
        f.exam(w.centre, wid, f.days_ago(3), "confined_space", duration=9, theory=60, practical=60)
        f.exam(w.centre, wid, f.days_ago(2), "confined_space", duration=9)
    return ids


def test_findings_only_regulators_read_with_filters_paging_and_ranking(client):
    w = f.World(client)
    a, b = fast_exams(w)
    hit = found("exam_too_fast")[0]
    officer = officer_for(w)
    ent = f.org(w.reg, "enterprise")
    for api in (w.body, w.centre, officer, ent):
        assert api.get("/api/v1/findings").status_code == 403
        assert api.get(f"/api/v1/findings/{hit.id}").status_code == 403
        assert api.patch(f"/api/v1/findings/{hit.id}", {"status": "dismissed", "reason": "x"}).status_code == 403
        assert api.get("/api/v1/findings/ranking").status_code == 403
    assert client.get("/api/v1/findings").status_code == 401
    assert found("exam_too_fast")[0].status == "open"
    body = w.reg.get("/api/v1/findings?kind=exam_too_fast").get_json()
    assert {i["worker_id"] for i in body["items"]} == {a, b} and body["next_cursor"] is None
    item = body["items"][0]
    assert set(item) >= {"id", "kind", "status", "severity", "created_at", "evidence", "parties", "explanation"}
    assert {p["role"] for p in item["parties"]} == {"worker", "exam_centre"}
    assert item["explanation"]["zh"].startswith("这场考试") and item["explanation"]["en"].startswith("This exam")
    mine = w.reg.get(f"/api/v1/findings?worker_id={a}").get_json()["items"]
    assert {i["worker_id"] for i in mine} == {a} and {i["kind"] for i in mine} == {"exam_too_fast", "exam_before_training"}
    assert len(w.reg.get(f"/api/v1/findings?organization_id={w.centre.id}").get_json()["items"]) == 4
    assert w.reg.get(f"/api/v1/findings?organization_id={w.body.id}").get_json()["items"] == []
    page1 = w.reg.get("/api/v1/findings?limit=3").get_json()
    page2 = w.reg.get(f"/api/v1/findings?limit=3&cursor={page1['next_cursor']}").get_json()
    assert len(page1["items"]) == 3 and len(page2["items"]) == 1 and page2["next_cursor"] is None
    assert not {i["id"] for i in page1["items"]} & {i["id"] for i in page2["items"]}
    assert w.reg.get("/api/v1/findings?status=confirmed").get_json()["items"] == []
    assert w.reg.get("/api/v1/findings?limit=9999").status_code == 400
    for x in found():
        w.reg.patch(f"/api/v1/findings/{x.id}", {"status": "confirmed", "reason": "核实"})
    top = w.reg.get("/api/v1/findings/ranking").get_json()["items"][0]
    assert top["organization"]["id"] == w.centre.id and top["confirmed_findings"] == 4
    assert top["basis"] == "passed_exams" and top["certificates"] == 2 and top["per_hundred"] == 200.0
    only = w.reg.get("/api/v1/findings/ranking?kind=training_body").get_json()["items"]
    assert [i["organization"]["id"] for i in only] == [w.body.id] and only[0]["per_hundred"] == 0.0


def test_findings_review_changes_public_verdict_only_when_confirmed(client):
    w = f.World(client)
    ((wk, cert),) = certified(w)
    officer = officer_for(w)
    verify(officer, cert["qr_text"], latitude=34.75, longitude=113.63)
    clone = verify(officer, cert["qr_text"], latitude=39.9, longitude=116.41)
    assert clone["result"] == "suspect"
    hit = found("certificate_clone")[0]
    assert verify(client, cert["qr_text"])["result"] == "valid"
    r = w.reg.patch(f"/api/v1/findings/{hit.id}", {"status": "confirmed", "reason": "两地同时使用，已核实"})
    assert r.status_code == 200 and r.get_json()["status"] == "confirmed"
    assert verify(client, cert["qr_text"])["result"] == "suspect"
    assert w.reg.patch(f"/api/v1/findings/{hit.id}", {"status": "confirmed", "reason": "again"}).status_code == 409
    assert w.reg.patch(f"/api/v1/findings/{hit.id}", {"status": "open", "reason": "x"}).status_code == 422
    assert w.reg.patch(f"/api/v1/findings/{hit.id}", {"status": "dismissed"}).status_code == 422
    assert w.reg.patch("/api/v1/findings/nosuchfinding", {"status": "dismissed", "reason": "x"}).status_code == 404
    assert w.reg.patch(f"/api/v1/findings/{hit.id}", {"status": "dismissed", "reason": "同一人出差，误报"}).status_code == 200
    assert verify(client, cert["qr_text"])["result"] == "valid" and verify(officer, cert["qr_text"])["result"] == "valid"
    events = db.session.scalars(select(AuditEntry.event).where(AuditEntry.subject == hit.id)
                                .order_by(AuditEntry.seq)).all()
    assert events == ["finding.confirmed", "finding.dismissed"]


def test_findings_rerun_finds_imported_history_and_never_duplicates(client, app, runner, monkeypatch):
    w = f.World(client)
    tune(app, monkeypatch, "exam_too_fast", enabled=False)
    tune(app, monkeypatch, "training_overlap", enabled=False)
    fast_exams(w, 1)
    other = f.trainer(w.body, "钱老师")
    wid = f.worker(w.body)["id"]
    f.attend(w.body, f.session(w.body, f.days_ago(9, 8), 4, "confined_space", trainer_id=w.trainer["id"]), wid)
    f.attend(w.body, f.session(w.body, f.days_ago(9, 9), 4, "confined_space", trainer_id=other["id"]), wid)
    assert found("exam_too_fast") == [] and found("training_overlap") == []
    monkeypatch.undo()
    monkeypatch.setitem(app.config, "FINDINGS_LATE_RECORDS", False)
    before = db.session.scalar(select(func.count()).select_from(Finding))
    result = runner.invoke(args=["findings-rerun"])
    assert result.exit_code == 0, result.output
    assert '"exam_too_fast": 1' in result.output and '"training_overlap": 1' in result.output
    after = db.session.scalar(select(func.count()).select_from(Finding))
    assert after == before + 2
    again = runner.invoke(args=["findings-rerun"])
    assert again.exit_code == 0 and '"total": 0' in again.output
    assert db.session.scalar(select(func.count()).select_from(Finding)) == after


def test_findings_routes_described_in_openapi(client):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    for path, method in (("/api/v1/findings", "get"), ("/api/v1/findings/{finding_id}", "patch"),
                         ("/api/v1/findings/ranking", "get"), ("/api/v1/appeals", "post"), ("/api/v1/appeals/{appeal_id}", "patch"),
                         ("/api/v1/cases", "post"), ("/api/v1/cases/{case_id}", "patch"),
                         ("/api/v1/cases/{case_id}/statements", "post"), ("/api/v1/inspections", "post"),
                         ("/api/v1/inspections/{insp_id}.pdf", "get"), ("/api/v1/revocations", "post")):
        assert method in paths[path], (path, method)
    assert "regulator" in paths["/api/v1/findings"]["get"]["description"]
    assert "security" not in paths["/api/v1/appeals"]["post"]  # the worker appeals without a key
