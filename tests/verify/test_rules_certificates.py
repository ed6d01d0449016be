"""Fraud rules fed by certificates and inspectors' scans: forged and unregistered codes, clones,
trainees seen at work while in class, certificates without evidence, issuance spikes."""
from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from certificates import token as tok
from certificates.models import Certificate, SigningKey
from tests import factories as f
from tests.certificates.test_issuance import issue, ready_worker
from tests.verify.test_online import verify
from tests.verify.test_rules import found, parties, tune
from training.db import db
from verify.rules.models import RuleCounter
from verify.verification.models import Scan

ZHENGZHOU, NEARBY, BEIJING = (34.75, 113.63), (34.75, 114.07), (39.90, 116.41)  # nearby: 40 km east


@pytest.fixture(autouse=True)
def _quiet(app, monkeypatch):
    monkeypatch.setitem(app.config, "FINDINGS_LATE_RECORDS", False)


def officer_for(w: f.World) -> f.Api:
    insp = f.org(w.reg, "inspectorate", "市应急管理执法支队")
    r = w.reg.post(f"/api/v1/organizations/{insp.id}/api-keys", {"holder": {"name": "李明", "badge": "豫A1024"}})
    return f.Api(w.reg.client, r.get_json()["api_key"], insp.org)


def site(api: f.Api, name, point) -> dict:
    r = api.post("/api/v1/sites", {"name": name, "latitude": point[0], "longitude": point[1]})
    assert r.status_code == 201, r.get_json()
    return r.get_json()


def scan(api, text, site_id=None) -> dict:
    return verify(api, text, **({"site_id": site_id} if site_id else {}))


def certified(w, n=1):
    """n workers trained together in confined space (24 h), examined and issued certificates."""
    ws = [f.worker(w.body) for _ in range(n)]
    f.train(w.body, w.trainer["id"], [x["id"] for x in ws], "confined_space", hours=24, start_days_ago=30)
    for x in ws:
        f.exam(w.centre, x["id"], f.days_ago(5), category="confined_space")
    return [(x, issue(w, x, "confined_space").get_json()) for x in ws]


def test_rules_forged_and_unregistered_from_inspectors_scans_only(client, app):
    w = f.World(client)
    ((wk, cert),) = certified(w)
    officer = officer_for(w)
    ent = f.org(w.reg, "enterprise", "某建筑公司")
    mine = site(ent, "二号工地", ZHENGZHOU)
    raw = bytearray(tok.b64url_decode(cert["token"]))
    raw[60] ^= 1
    fake = tok.qr_text(bytes(raw), "https://anything.example")
    assert scan(client, fake)["result"] == "forged" and found() == []  # the public's scans are not recorded
    assert scan(officer, fake, mine["id"])["result"] == "forged"
    scan(officer, fake, mine["id"])
    (forged,) = found("forged_certificate")  # the same card twice: one finding
    assert {("employer", ent.id), ("inspectorate", officer.id)} <= parties(forged)
    key = db.session.scalar(select(SigningKey).where(SigningKey.organization_id == w.body.id))
    claims = tok.decode(tok.b64url_decode(cert["token"])).claims
    stolen = app.extensions["signer"].sign_token(key, replace(claims, serial=tok.new_serial()))
    assert scan(officer, tok.b64url_encode(stolen), mine["id"])["result"] == "unregistered"
    (unreg,) = found("unregistered_certificate")
    assert "critical" == unreg.severity and found("certificate_clone") == []


def test_rules_certificate_clone_far_apart_but_short_drive_is_fine(client):
    w = f.World(client)
    ((wk, cert),) = certified(w)
    officer = officer_for(w)
    a, near, far = site(officer, "郑州工地", ZHENGZHOU), site(officer, "中牟工地", NEARBY), site(officer, "北京工地", BEIJING)
    first = scan(officer, cert["qr_text"], a["id"])
    db.session.get(Scan, first["scan_id"]).received_at -= timedelta(minutes=40)  # (SQLite cannot subtract an interval)
    db.session.commit()
    assert scan(officer, cert["qr_text"], near["id"])["result"] == "valid"  # 40 km in 40 minutes
    assert found() == []
    clone = scan(officer, cert["qr_text"], far["id"])  # Beijing, 620 km, at once
    assert clone["result"] == "suspect" and clone["reasons"][0]["code"] == "findings_open"
    (hit,) = found("certificate_clone")
    assert hit.certificate_serial == cert["serial"] and hit.worker_id == wk["id"]
    assert scan(client, cert["qr_text"])["result"] == "valid"  # the public sees confirmed findings only
    scan(officer, cert["qr_text"], a["id"])
    assert len(found("certificate_clone")) == 1  # one open clone finding per certificate


def test_rules_training_while_on_site_but_class_at_the_site_is_fine(client):
    w = f.World(client)
    (away, away_cert), (here, here_cert) = certified(w, 2)
    officer = officer_for(w)
    work = site(officer, "三号井", BEIJING)
    # Seen two hours into classes that are over now, as they must be before attendance is entered.
    start = datetime.now(f.CST).replace(microsecond=0) - timedelta(hours=5)
    in_town = f.session(w.body, start, 4, "confined_space", trainer_id=w.trainer["id"],
                        latitude=ZHENGZHOU[0], longitude=ZHENGZHOU[1])
    on_site = f.session(w.body, start, 4, "confined_space", trainer_id=f.trainer(w.body, "钱老师")["id"],
                        latitude=BEIJING[0] + 0.005, longitude=BEIJING[1])
    here_scan, out = scan(officer, here_cert["qr_text"], work["id"]), scan(officer, away_cert["qr_text"], work["id"])
    for seen in (here_scan, out):
        db.session.get(Scan, seen["scan_id"]).received_at -= timedelta(hours=3)
    db.session.commit()
    assert here_scan["result"] == "valid"
    f.attend(w.body, on_site, here["id"])
    assert found("training_while_on_site") == []
    f.attend(w.body, in_town, away["id"])
    (hit,) = found("training_while_on_site")
    assert hit.worker_id == away["id"] and hit.certificate_serial is None  # the card rests on other classes
    assert out["result"] == "valid"
    assert ("training_body", w.body.id) in parties(hit) and '"distance_km": 6' in hit.evidence


def test_rules_certificate_without_evidence_after_its_exam_is_voided(client):
    w = f.World(client)
    wk = ready_worker(w, "confined_space", 24)
    cert = issue(w, wk, "confined_space").get_json()
    assert found() == []  # honest issuance raises nothing
    exam_id = db.session.get(Certificate, cert["serial"]).evidence.split('"exam_id": "')[1][:16]
    assert w.centre.post(f"/api/v1/exams/{exam_id}/void", {"reason": "考试作废"}).status_code == 200
    (hit,) = found("certificate_without_evidence")
    assert hit.certificate_serial == cert["serial"] and "no_passed_exam" in hit.evidence
    officer = officer_for(w)
    assert scan(officer, cert["qr_text"])["result"] == "suspect"
    assert scan(client, cert["qr_text"])["result"] == "valid"
    wk = f.worker(w.body)  # a finding on evidence weighs on the certificate issued on it later
    f.train(w.body, w.trainer["id"], [wk["id"]], "confined_space", hours=24, start_days_ago=30)
    f.exam(w.centre, wk["id"], f.days_ago(5), category="confined_space", duration=11)
    (fast,) = found("exam_too_fast")
    assert fast.certificate_serial is None
    cert = issue(w, wk, "confined_space").get_json()
    assert found("exam_too_fast")[0].certificate_serial == cert["serial"]
    assert db.session.get(Certificate, cert["serial"]).open_findings == 1
    assert scan(officer, cert["qr_text"])["result"] == "suspect"


def test_rules_evidence_at_issuance_weighs_the_rows_issuance_read(client):
    """Issuance reads the worker's attendance once: the evidence rule weighs the rows issuance
    weighed, in the same transaction, and still fires on rows that do not carry the certificate."""
    from sqlalchemy import event

    from verify.rules.certificates import on_certificate
    w = f.World(client)
    wk = ready_worker(w, "confined_space", 24)
    reads = []

    def _seen(conn, cursor, statement, *_):
        if "FROM attendance" in statement:
            reads.append(statement)
    event.listen(db.engine, "before_cursor_execute", _seen)
    try:
        cert = issue(w, wk, "confined_space").get_json()
    finally:
        event.remove(db.engine, "before_cursor_execute", _seen)
    assert len(reads) == 1, reads
    assert found() == []
    row = db.session.get(Certificate, cert["serial"])
    on_certificate(row, evidence=([], []))  # nothing attended, no exam: what it is handed counts
    (hit,) = found("certificate_without_evidence")
    assert "insufficient_hours" in hit.evidence and "no_passed_exam" in hit.evidence


def test_rules_issuance_spike_but_steady_body_is_fine(client, app, monkeypatch):
    tune(app, monkeypatch, "issuance_spike", min_count=2, ratio=3.0, min_active_weeks=1)
    w = f.World(client)
    two_weeks_ago = (datetime.now(f.CST) - timedelta(days=14)).date()
    db.session.add(RuleCounter(key=f"iss:{w.body.id}:{two_weeks_ago}", count=1))
    db.session.commit()
    trio = [f.worker(w.body) for _ in range(3)]
    f.train(w.body, w.trainer["id"], [x["id"] for x in trio], "confined_space", hours=24, start_days_ago=30)
    for x in trio:
        f.exam(w.centre, x["id"], f.days_ago(5), category="confined_space")
    for x in trio[:2]:
        assert issue(w, x, "confined_space").status_code == 201
    assert found("issuance_spike") == []  # 2 this week against a busiest week of 1: under 3 x 1
    monkeypatch.setitem(app.config, "FINDINGS_ISSUANCE_SPIKES", False)
    assert issue(w, trio[2], "confined_space").status_code == 201
    assert found("issuance_spike") == []  # switched off (history import)
    monkeypatch.setitem(app.config, "FINDINGS_ISSUANCE_SPIKES", True)
    from verify.rules.certificates import evaluate_spike
    evaluate_spike(w.body.id, datetime.now(f.CST).date())
    (hit,) = found("issuance_spike")
    assert '"current": 3' in hit.evidence and ("training_body", w.body.id) in parties(hit)
