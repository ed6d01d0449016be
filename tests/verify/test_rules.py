"""Fraud rules on training and exams: each fires on a staged fraud, and honest records that look
alike raise nothing. Runs over HTTP on every database backend."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from tests import factories as f
from training.db import db
from verify.findings.models import Finding, FindingParty


@pytest.fixture(autouse=True)
def _quiet(request, monkeypatch):
    """Late records are their own rule: the factories record past classes today."""
    if "app" in request.fixturenames or "client" in request.fixturenames:
        monkeypatch.setitem(request.getfixturevalue("app").config, "FINDINGS_LATE_RECORDS", False)


def found(kind=None, status=None) -> list[Finding]:
    db.session.expire_all()
    stmt = select(Finding).order_by(Finding.created_at)
    if kind:
        stmt = stmt.where(Finding.kind == kind)
    if status:
        stmt = stmt.where(Finding.status == status)
    return db.session.scalars(stmt).all()


def parties(finding) -> set[tuple[str, str]]:
    return {(p.role, p.party_id) for p in db.session.scalars(
        select(FindingParty).where(FindingParty.finding_id == finding.id))}


def tune(app, monkeypatch, rule, **values):
    for k, v in values.items():
        monkeypatch.setitem(app.extensions["findings_rules"][rule], k, v)


def at(days, hour):
    return f.days_ago(days, hour)


def test_rules_training_overlap_fires_back_to_back_does_not(client):
    w = f.World(client)
    other = f.trainer(w.body, "钱老师")
    a = f.session(w.body, at(10, 8), 4, "confined_space", trainer_id=w.trainer["id"])
    b = f.session(w.body, at(10, 10), 4, "confined_space", trainer_id=other["id"])
    c = f.session(w.body, at(12, 8), 4, "confined_space", trainer_id=w.trainer["id"])
    d = f.session(w.body, at(12, 12), 4, "confined_space", trainer_id=w.trainer["id"])
    cheat, honest = f.worker(w.body), f.worker(w.body)
    f.attend(w.body, a, cheat["id"])
    f.attend(w.body, b, cheat["id"])
    f.attend(w.body, c, honest["id"])
    f.attend(w.body, d, honest["id"])
    (hit,) = found("training_overlap")
    assert hit.worker_id == cheat["id"] and ("training_body", w.body.id) in parties(hit)
    assert "重叠 120 分钟" in hit.explanation and "overlapping by 120 minutes" in hit.explanation
    assert found() == [hit]
    crammed, eight = f.worker(w.body), f.worker(w.body)  # too many hours in a day, or exactly eight
    for s in (f.session(w.body, at(7, 8), 6, "confined_space", trainer_id=w.trainer["id"]),
              f.session(w.body, at(7, 14), 6, "confined_space", trainer_id=other["id"])):
        f.attend(w.body, s, crammed["id"])
    f.attend(w.body, f.session(w.body, at(8, 8), 8, "confined_space", trainer_id=w.trainer["id"]), eight["id"])
    (long_day,) = found("too_many_hours_in_a_day")
    assert long_day.worker_id == crammed["id"] and '"hours": 12.0' in long_day.evidence and len(found()) == 2


def test_rules_overlap_by_a_later_intruder_names_both_but_spares_the_earlier_body(client):
    """An unrelated coal enterprise (employing the worker only from now) records an 'induction'
    over a day of an honest school's class: the finding names both, the school keeps its hours,
    and its certificate is not suspect for it, whether issued before the intrusion or after."""
    from certificates.models import Certificate
    from tests.certificates.test_issuance import issue
    from tests.verify.test_rules_certificates import officer_for, scan
    from training.evidence.hours import evidence_for
    w = f.World(client)
    coal = f.org(w.reg, "enterprise", "某煤矿公司", industry="coal_mine")
    before, after = f.worker(w.body), f.worker(w.body)
    sessions = f.train(w.body, w.trainer["id"], [before["id"], after["id"]], "confined_space", hours=24,
                       start_days_ago=30)
    for wk in (before, after):
        f.exam(w.centre, wk["id"], f.days_ago(5), category="confined_space")
    cert = issue(w, before, "confined_space").get_json()
    fake = f.session(coal, at(30, 12), 8, None, kind="induction", level="company")  # 12:00-20:00 over 08:00-16:00
    for wk in (before, after):
        r = coal.post("/api/v1/employments", {"worker_id": wk["id"], "role": "coal_miner",
                                              "starts_on": str(f.days_ago(0).date())})
        assert r.status_code == 201, r.get_json()
        f.attend(coal, fake, wk["id"])
    later = issue(w, after, "confined_space")
    assert later.status_code == 201, later.get_json()  # the intruder erased none of the school's hours
    for wk in (before, after):
        assert evidence_for(wk["id"], "confined_space").credited_hours == 24.0
    overlaps = found("training_overlap")
    assert len(overlaps) == 2 and {o.worker_id for o in overlaps} == {before["id"], after["id"]}
    for hit in overlaps + found("too_many_hours_in_a_day"):
        assert {("training_body", w.body.id), ("employer", coal.id)} <= parties(hit)
        assert hit.certificate_serial is None
    assert sessions[0]["id"] in overlaps[0].evidence and "prior_attendance_ids" in overlaps[0].evidence
    officer = officer_for(w)
    for c in (cert, later.get_json()):
        assert db.session.get(Certificate, c["serial"]).open_findings == 0
        assert scan(officer, c["qr_text"])["result"] == "valid"


def test_rules_trainer_double_booked_across_bodies_and_over_capacity(client):
    w = f.World(client)
    body2 = f.org(w.reg, "training_body", "第二培训学校")
    f.accredit(w.reg, body2, ["confined_space"])
    number = f.id_number()
    t1 = w.body.post("/api/v1/trainers", {"name": "周老师", "id_number": number}).get_json()
    t2 = body2.post("/api/v1/trainers", {"name": "周老师", "id_number": number}).get_json()
    assert t1["id"] == t2["id"]  # one person, whichever body registers them
    f.session(w.body, at(5, 8), 8, "confined_space", trainer_id=t1["id"])
    f.session(body2, at(5, 9), 4, "confined_space", trainer_id=t2["id"])
    f.session(body2, at(6, 8), 4, "confined_space", trainer_id=t2["id"])
    f.session(w.body, at(6, 12), 4, "confined_space", trainer_id=t1["id"])  # back to back: honest
    (hit,) = found("trainer_double_booked")
    assert {("training_body", w.body.id), ("training_body", body2.id), ("trainer", t1["id"])} <= parties(hit)
    assert '"bodies": 2' in hit.evidence and found() == [hit]
    full = f.session(w.body, at(3, 8), 4, "confined_space", trainer_id=t1["id"], capacity=2)
    fine = f.session(w.body, at(4, 8), 4, "confined_space", trainer_id=t1["id"], capacity=2)
    for s, n in ((full, 3), (fine, 2)):
        for _ in range(n):
            f.attend(w.body, s, f.worker(w.body)["id"])
    (over,) = found("session_over_capacity")
    assert full["id"] in over.evidence and len(found()) == 2


def test_rules_late_record_fires_prompt_record_does_not(client, app, monkeypatch):
    monkeypatch.setitem(app.config, "FINDINGS_LATE_RECORDS", True)
    w = f.World(client)
    late = f.session(w.body, at(20, 8), 4, "confined_space", trainer_id=w.trainer["id"])
    prompt = f.session(w.body, at(2, 8), 4, "confined_space", trainer_id=w.trainer["id"])
    for s in (late, prompt, late):
        f.attend(w.body, s, f.worker(w.body)["id"])
    (hit,) = found("late_record")  # one per session, however many of its records are late
    assert late["id"] in hit.evidence and ("training_body", w.body.id) in parties(hit)
    monkeypatch.setitem(app.config, "FINDINGS_LATE_RECORDS", False)
    f.attend(w.body, f.session(w.body, at(30, 8), 4, "confined_space", trainer_id=w.trainer["id"]), f.worker(w.body)["id"])
    assert len(found("late_record")) == 1  # off while history is imported


def test_rules_home_region_far_en_masse_local_body_is_fine(client, app, monkeypatch):
    tune(app, monkeypatch, "home_region_far", min_trainees=5, alpha=0.01)
    w = f.World(client)
    local = f.org(w.reg, "training_body", "本地培训学校", region="410100")
    mill = f.org(w.reg, "training_body", "远程培训学校", region="410100")
    for body in (local, mill):
        f.accredit(w.reg, body, ["confined_space"])
        t = f.trainer(body)
        s = f.session(body, at(9, 8), 4, "confined_space", trainer_id=t["id"])
        for _ in range(6):
            region = "650102" if body is mill else "410102"  # Urumqi, 2,400 km away; or Zhengzhou
            f.attend(body, s, f.worker(body, f.id_number(region=region))["id"])
    (hit,) = found("home_region_far")
    assert ("training_body", mill.id) in parties(hit) and '"far": 6' in hit.evidence
    assert hit.worker_id is None and found() == [hit]


def test_rules_exam_before_training_and_too_fast_but_honest_exams_are_fine(client):
    w = f.World(client)
    early, honest = f.worker(w.body), f.worker(w.body)
    f.train(w.body, w.trainer["id"], [early["id"], honest["id"]], "confined_space", hours=24, start_days_ago=20)
    f.exam(w.centre, early["id"], f.days_ago(20, 18), category="confined_space")  # after 8 of 24 hours
    f.exam(w.centre, honest["id"], f.days_ago(10), category="confined_space")
    (hit,) = found("exam_before_training")
    assert hit.worker_id == early["id"] and '"hours_before_exam": 8.0' in hit.evidence
    assert {("exam_centre", w.centre.id), ("training_body", w.body.id), ("worker", early["id"])} <= parties(hit)
    assert found() == [hit]
    for wid, minutes, score in ((early["id"], 12, 90), (honest["id"], 25, 90), (honest["id"], 8, 30)):
        f.exam(w.centre, wid, f.days_ago(3), category="confined_space", duration=minutes, theory=score)
    fast = found("exam_too_fast")  # only a pass counts: a fast fail is a candidate giving up
    assert [h.worker_id for h in fast] == [early["id"]] and '"duration_minutes": 12' in fast[0].evidence


def test_rules_identical_answers_and_retakes_but_not_their_honest_look_alikes(client):
    w = f.World(client)
    centre2 = f.org(w.reg, "exam_centre", "第二考试中心")
    f.accredit(w.reg, centre2, ["confined_space"])
    ws = [f.worker(w.body)["id"] for _ in range(7)]
    copied, slip = "ab" * 32, "cd" * 32
    f.exam(w.centre, ws[0], f.days_ago(20), "confined_space", answers_digest=copied, wrong_count=4)
    f.exam(w.centre, ws[1], f.days_ago(5), "confined_space", answers_digest=copied, wrong_count=4)
    f.exam(centre2, ws[2], f.days_ago(5), "confined_space", answers_digest=copied, wrong_count=4)  # other centre
    f.exam(w.centre, ws[3], f.days_ago(5), "confined_space")  # two perfect papers
    f.exam(w.centre, ws[4], f.days_ago(5), "confined_space")
    f.exam(w.centre, ws[5], f.days_ago(5), "confined_space", answers_digest=slip, wrong_count=1)  # one shared slip
    f.exam(w.centre, ws[6], f.days_ago(5), "confined_space", answers_digest=slip, wrong_count=1)
    hits = found("identical_answers")
    assert sorted(h.worker_id for h in hits) == sorted(ws[:2])
    assert {("worker", ws[0]), ("worker", ws[1]), ("exam_centre", w.centre.id)} <= parties(hits[0])
    cheat, honest = f.worker(w.body)["id"], f.worker(w.body)["id"]
    f.train(w.body, w.trainer["id"], [cheat, honest], "confined_space", hours=24, start_days_ago=30)
    for d in (20, 15, 10):
        f.exam(w.centre, cheat, f.days_ago(d), "confined_space", theory=60, practical=60)
        if d != 10:
            f.exam(w.centre, honest, f.days_ago(d), "confined_space", theory=60, practical=60)
    other = f.trainer(w.body, "钱老师")
    f.attend(w.body, f.session(w.body, at(12, 8), 8, "confined_space", trainer_id=other["id"]), honest)
    f.exam(w.centre, honest, f.days_ago(10), "confined_space")
    (hit,) = found("retake_beyond_limit")
    assert hit.worker_id == cheat and '"attempts": 3' in hit.evidence


def test_rules_score_anomaly_pass_rate_and_bunching(client, app, monkeypatch):
    tune(app, monkeypatch, "score_anomaly", min_exams=10, min_rest=10, min_band=10, alpha=0.01)
    w = f.World(client)
    mill = f.org(w.reg, "exam_centre", "包过考试中心")
    f.accredit(w.reg, mill, ["confined_space"])
    people = w.body.post("/api/v1/workers/batch", {"items": [
        {"name": "考生", "id_number": f.id_number()} for _ in range(24)]}).get_json()["items"]
    ids = [p["id"] for p in people]

    def batch(centre, items):
        r = centre.post("/api/v1/exams/batch", {"items": items})
        assert all(i["status"] == 201 for i in r.get_json()["items"]), r.get_json()

    def paper(wid, score):
        return {"worker_id": wid, "category": "confined_space", "taken_at": f.ts(f.days_ago(3)),
                "duration_minutes": 60, "theory_score": score, "practical_score": 90, "examiner": "甲"}
    batch(w.centre, [paper(wid, 76 + (i % 2) * 6) for i, wid in enumerate(ids[:12])])  # half pass, near the mark
    assert found("score_anomaly") == []
    batch(mill, [paper(wid, 80 + i % 2) for i, wid in enumerate(ids[12:])])  # all just over the line
    hits = found("score_anomaly")
    assert {h.rule_key.rsplit(":", 1)[1] for h in hits} == {"pass_rate", "bunching"}
    assert all(("exam_centre", mill.id) in parties(h) for h in hits)
    assert "binomial" in hits[0].explanation


def test_rules_binomial_tail_exact():
    from verify.rules.common import binom_sf
    assert binom_sf(0, 10, 0.3) == 1.0 and binom_sf(11, 10, 0.3) == 0.0
    assert abs(binom_sf(10, 10, 0.5) - 0.5 ** 10) < 1e-15
    assert abs(binom_sf(8, 10, 0.5) - (45 + 10 + 1) / 1024) < 1e-12
    assert binom_sf(900, 1000, 0.5) < 1e-100


def test_rules_void_withdraws_and_rules_run_again(client):
    w = f.World(client)
    s = f.session(w.body, at(3, 8), 4, "confined_space", trainer_id=w.trainer["id"], capacity=2)
    atts = [f.attend(w.body, s, f.worker(w.body)["id"]) for _ in range(4)]
    (first,) = found("session_over_capacity")
    assert atts[0]["id"] in first.evidence and atts[3]["id"] not in first.evidence
    r = w.body.post(f"/api/v1/attendance/{atts[0]['id']}/void", {"reason": "录入错误"})
    assert r.status_code == 200
    withdrawn, again = found("session_over_capacity")  # still 3 > 2: raised again on what remains
    assert withdrawn.id == first.id and withdrawn.status == "dismissed" and withdrawn.review_reason == "evidence voided"
    assert again.status == "open" and atts[0]["id"] not in again.evidence and atts[3]["id"] in again.evidence
    w.body.post(f"/api/v1/attendance/{atts[1]['id']}/void", {"reason": "录入错误"})
    assert [x.status for x in found("session_over_capacity")] == ["dismissed", "dismissed"]
    wid = f.worker(w.body)["id"]  # a reviewed finding stands when its evidence is voided
    e = f.exam(w.centre, wid, f.days_ago(3), "confined_space", duration=10)
    hit = found("exam_too_fast")[0]
    assert w.reg.patch(f"/api/v1/findings/{hit.id}", {"status": "confirmed", "reason": "核实"}).status_code == 200
    w.centre.post(f"/api/v1/exams/{e['id']}/void", {"reason": "更正"})
    assert found("exam_too_fast")[0].status == "confirmed"
    assert any(x.status == "dismissed" for x in found("exam_before_training"))


def test_rules_thresholds_from_data_file_and_config(tmp_path):
    from verify.rules.common import load_rules
    rules = load_rules({})
    assert rules["exam_too_fast"]["min_minutes"] == 20 and rules["training_overlap"]["explain"]["zh"]
    override = tmp_path / "province.json"
    override.write_text('{"exam_too_fast": {"min_minutes": 30}}', encoding="utf-8")
    rules = load_rules({"FINDINGS_RULES_FILE": str(override), "FINDINGS_RULES": {"certificate_clone": {"max_speed_kmh": 900}}})
    assert rules["exam_too_fast"]["min_minutes"] == 30 and rules["exam_too_fast"]["severity"] == "medium"
    assert rules["certificate_clone"]["max_speed_kmh"] == 900
    assert all("explain" in v and v["severity"] in ("low", "medium", "high", "critical")
               for k, v in rules.items() if not k.startswith("_") and k not in ("cases", "appeals"))


def test_rules_cost_does_not_grow_with_history(client, app):
    """The same recording runs the same number of statements with 1 or 15 prior classes."""
    from sqlalchemy import event
    w = f.World(client)
    counts = []
    for history in (1, 15):
        for i in range(history):
            f.attend(w.body, f.session(w.body, at(200 + i + history, 8), 2, "confined_space",
                                       trainer_id=w.trainer["id"]), f.worker(w.body)["id"])
        s = f.session(w.body, at(100 + history, 8), 2, "confined_space", trainer_id=w.trainer["id"])
        n = [0]
        def listener(*a, **k):
            n[0] += 1
        event.listen(db.engine, "before_cursor_execute", listener)
        try:
            f.attend(w.body, s, f.worker(w.body)["id"])
        finally:
            event.remove(db.engine, "before_cursor_execute", listener)
        counts.append(n[0])
    assert counts[0] == counts[1], counts
