"""Appeals: by a party named in the finding, or by the worker without a key; upheld appeals restore
the public verdict and leave the audit; refused requests change nothing."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from tests import factories as f
from tests.certificates.test_issuance import issue
from tests.verify.test_online import verify
from tests.verify.test_rules import found
from training.db import db
from training.db.models import AuditEntry
from verify.cases.models import Appeal


@pytest.fixture(autouse=True)
def _quiet(app, monkeypatch):
    monkeypatch.setitem(app.config, "FINDINGS_LATE_RECORDS", False)


def confirmed_fast_exam(client):
    """A certified worker whose exam was (confirmed) too fast: the public verdict is suspect."""
    w = f.World(client)
    number = f.id_number()
    wk = f.worker(w.body, number)
    f.train(w.body, w.trainer["id"], [wk["id"]], "confined_space", hours=24, start_days_ago=30)
    f.exam(w.centre, wk["id"], f.days_ago(5), category="confined_space", duration=15)
    cert = issue(w, wk, "confined_space").get_json()
    hit = found("exam_too_fast")[0]
    w.reg.patch(f"/api/v1/findings/{hit.id}", {"status": "confirmed", "reason": "考试用时过短"})
    assert verify(client, cert["qr_text"])["result"] == "suspect"
    return w, wk, number, cert, hit


def appeals_count():
    return db.session.scalar(select(func.count()).select_from(Appeal))


def test_appeal_by_party_upheld_restores_verdict_and_keeps_audit(client):
    w, wk, number, cert, hit = confirmed_fast_exam(client)
    outsider = f.org(w.reg, "training_body")
    assert outsider.post("/api/v1/appeals", {"finding_id": hit.id, "explanation": "与我无关"}).status_code == 404
    r = w.centre.post("/api/v1/appeals", {"finding_id": hit.id, "explanation": "考试系统计时错误，实际用时75分钟。"})
    assert r.status_code == 201, r.get_json()
    appeal = r.get_json()
    assert appeal["status"] == "pending" and "explanation" not in appeal
    assert w.centre.post("/api/v1/appeals", {"finding_id": hit.id, "explanation": "再次申诉"}).status_code == 409
    assert w.centre.get("/api/v1/appeals").status_code == 403
    listed = w.reg.get("/api/v1/appeals?status=pending").get_json()["items"]
    assert [a["id"] for a in listed] == [appeal["id"]] and listed[0]["by"]["role"] == "exam_centre"
    r = w.reg.patch(f"/api/v1/appeals/{appeal['id']}", {"decision": "upheld", "reason": "计时日志证实用时75分钟"})
    assert r.status_code == 200 and r.get_json()["finding"]["status"] == "dismissed"
    assert verify(client, cert["qr_text"])["result"] == "valid"
    assert w.reg.patch(f"/api/v1/appeals/{appeal['id']}", {"decision": "rejected", "reason": "x"}).status_code == 409
    events = db.session.scalars(select(AuditEntry.event).where(AuditEntry.subject.in_((hit.id, appeal["id"])))
                                .order_by(AuditEntry.seq)).all()
    assert events == ["finding.confirmed", "appeal.lodged", "appeal.upheld"]
    kept = w.reg.get(f"/api/v1/findings/{hit.id}").get_json()
    assert kept["status"] == "dismissed" and "upheld" in kept["review_reason"]


def test_appeal_by_worker_without_key_refusals_change_nothing_and_are_limited(client, app, monkeypatch):
    w, wk, number, cert, hit = confirmed_fast_exam(client)
    body = {"serial": cert["serial"], "id_number": number, "finding_id": hit.id, "explanation": "我考了一个多小时。"}
    r = client.post("/api/v1/appeals", json=body)
    assert r.status_code == 201, r.get_json()
    assert number not in r.get_data(as_text=True)
    listed = w.reg.get(f"/api/v1/appeals?finding_id={hit.id}").get_json()["items"]
    assert listed[0]["by"] == {"role": "worker", "id": wk["id"], "name": wk["name"]}
    r = w.reg.patch(f"/api/v1/appeals/{listed[0]['id']}", {"decision": "rejected", "reason": "监控录像显示15分钟交卷"})
    assert r.status_code == 200 and verify(client, cert["qr_text"])["result"] == "suspect"
    lodged = appeals_count()
    monkeypatch.setitem(app.extensions["findings_rules"]["appeals"], "worker_failures", "3/hour")
    someone_else = f.id_number()
    wrong = {"serial": cert["serial"], "id_number": someone_else, "finding_id": hit.id, "explanation": "冒名申诉"}
    codes = [client.post("/api/v1/appeals", json=wrong).status_code for _ in range(3)]
    assert codes == [403, 403, 403] and appeals_count() == lodged
    right = {**wrong, "id_number": number}
    r = client.post("/api/v1/appeals", json=right)
    assert r.status_code == 429 and int(r.headers["Retry-After"]) >= 1 and appeals_count() == lodged
    assert client.post("/api/v1/appeals", json={"finding_id": hit.id, "explanation": "x"}).status_code == 422
    assert client.post("/api/v1/appeals", json={**right, "id_number": "123"}).status_code == 422
    assert client.post("/api/v1/appeals", json={**right}, headers={"Authorization": "Bearer az_bad"}).status_code == 401
