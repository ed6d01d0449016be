"""Training evidence over HTTP and the evidence service, on every database backend."""
from __future__ import annotations

from datetime import timedelta, timezone

from sqlalchemy import func, select

from tests import factories as f
from training.db import db
from training.evidence import evidence_for
from training.models import Attendance, Exam, TrainingSession


def _count(model):
    return db.session.scalar(select(func.count()).select_from(model))


def test_session_initial_by_training_body(client):
    w = f.World(client)
    s = f.session(w.body, f.days_ago(3), 8, "welding", trainer_id=w.trainer["id"])
    assert s["kind"] == "initial" and s["organization_id"] == w.body.id and s["starts_at"].endswith("+00:00")


def test_session_induction_by_enterprise_without_trainer(client):
    w = f.World(client)
    ent = f.org(w.reg, "enterprise", industry="coal_mine")
    s = f.session(ent, f.days_ago(2), 8, None, kind="induction", level="company")
    assert s["level"] == "company" and s["category"] is None


def test_session_induction_by_training_body_403(client):
    w = f.World(client)
    r = w.body.post("/api/v1/sessions", {"kind": "induction", "level": "team", "starts_at": "2026-01-01T08:00:00+08:00",
                                         "ends_at": "2026-01-01T16:00:00+08:00", "location": "x", "capacity": 10})
    assert r.status_code == 403


def test_session_initial_by_enterprise_403(client):
    w = f.World(client)
    ent = f.org(w.reg, "enterprise")
    r = ent.post("/api/v1/sessions", {"kind": "initial", "category": "welding", "trainer_id": w.trainer["id"],
                                      "starts_at": "2026-01-01T08:00:00+08:00", "ends_at": "2026-01-01T16:00:00+08:00",
                                      "location": "x", "capacity": 10})
    assert r.status_code == 403


def test_session_shape_errors_422_unchanged(client):
    w = f.World(client)
    before = _count(TrainingSession)
    r = w.body.post("/api/v1/sessions", {"kind": "initial", "starts_at": "2026-01-02T08:00:00+08:00",
                                         "ends_at": "2026-01-01T08:00:00+08:00", "location": "x", "capacity": 0,
                                         "level": "team"})
    fields = {e["field"] for e in r.get_json()["errors"]}
    assert r.status_code == 422 and {"ends_at", "capacity"} <= fields
    r = w.body.post("/api/v1/sessions", {"kind": "initial", "category": "welding", "trainer_id": w.trainer["id"],
                                         "starts_at": "2026-01-01T08:00:00", "ends_at": "2026-01-01T16:00:00+08:00",
                                         "location": "x", "capacity": 5})
    assert r.status_code == 422 and r.get_json()["errors"][0]["code"] == "offset_required"
    assert _count(TrainingSession) == before


def test_session_unknown_trainer_422(client):
    w = f.World(client)
    r = w.body.post("/api/v1/sessions", {"kind": "initial", "category": "welding", "trainer_id": "0" * 16,
                                         "starts_at": "2026-01-01T08:00:00+08:00", "ends_at": "2026-01-01T16:00:00+08:00",
                                         "location": "x", "capacity": 5})
    assert r.status_code == 422 and r.get_json()["errors"][0]["field"] == "trainer_id"


def test_attendance_records_hours(client):
    w = f.World(client)
    wk = f.worker(w.body)
    s = f.session(w.body, f.days_ago(3), 8, trainer_id=w.trainer["id"])
    a = f.attend(w.body, s, wk["id"])
    assert a["hours"] == 8.0 and a["id"]


def test_attendance_outside_window_422_unchanged(client):
    w = f.World(client)
    wk = f.worker(w.body)
    start = f.days_ago(3)
    s = f.session(w.body, start, 4, trainer_id=w.trainer["id"])
    before = _count(Attendance)
    r = w.body.post(f"/api/v1/sessions/{s['id']}/attendance", {
        "worker_id": wk["id"], "check_in": f.ts(start - timedelta(hours=1)), "check_out": f.ts(start + timedelta(hours=5))})
    assert r.status_code == 422 and {e["field"] for e in r.get_json()["errors"]} == {"check_in", "check_out"}
    r = w.body.post(f"/api/v1/sessions/{s['id']}/attendance", {
        "worker_id": wk["id"], "check_in": f.ts(start + timedelta(hours=3)), "check_out": f.ts(start + timedelta(hours=1))})
    assert r.status_code == 422
    assert _count(Attendance) == before


def test_attendance_other_org_session_403(client):
    w = f.World(client)
    other = f.org(w.reg, "training_body")
    wk = f.worker(w.body)
    s = f.session(w.body, f.days_ago(3), 4, trainer_id=w.trainer["id"])
    r = other.post(f"/api/v1/sessions/{s['id']}/attendance", {"worker_id": wk["id"], "check_in": s["starts_at"],
                                                              "check_out": s["ends_at"]})
    assert r.status_code == 403


def test_attendance_unknown_worker_422(client):
    w = f.World(client)
    s = f.session(w.body, f.days_ago(3), 4, trainer_id=w.trainer["id"])
    r = w.body.post(f"/api/v1/sessions/{s['id']}/attendance", {"worker_id": "f" * 16, "check_in": s["starts_at"],
                                                               "check_out": s["ends_at"]})
    assert r.status_code == 422


def test_attendance_batch_class_at_once(client):
    w = f.World(client)
    s = f.session(w.body, f.days_ago(3), 8, trainer_id=w.trainer["id"])
    workers = [f.worker(w.body) for _ in range(3)]
    items = [{"worker_id": x["id"], "check_in": s["starts_at"], "check_out": s["ends_at"]} for x in workers]
    items.append({"worker_id": workers[0]["id"], "check_in": s["ends_at"], "check_out": s["starts_at"]})
    r = w.body.post(f"/api/v1/sessions/{s['id']}/attendance/batch", {"items": items})
    assert [i["status"] for i in r.get_json()["items"]] == [201, 201, 201, 422]
    assert _count(Attendance) == 3


def test_exam_by_training_body_403(client):
    w = f.World(client)
    wk = f.worker(w.body)
    r = w.body.post("/api/v1/exams", {"worker_id": wk["id"], "category": "welding", "taken_at": f.ts(f.days_ago(1)),
                                      "duration_minutes": 90, "theory_score": 90, "practical_score": 90, "examiner": "x"})
    assert r.status_code == 403 and _count(Exam) == 0


def test_exam_centre_without_accreditation_for_category_403(client):
    w = f.World(client, categories=("welding",))
    wk = f.worker(w.body)
    r = w.centre.post("/api/v1/exams", {"worker_id": wk["id"], "category": "work_at_height",
                                        "taken_at": f.ts(f.days_ago(1)), "duration_minutes": 90,
                                        "theory_score": 90, "practical_score": 90, "examiner": "x"})
    assert r.status_code == 403


def test_exam_pass_needs_both_scores_at_pass_mark(client):
    w = f.World(client)
    wk = f.worker(w.body)
    assert f.exam(w.centre, wk["id"], f.days_ago(2), theory=80, practical=80)["passed"] is True
    assert f.exam(w.centre, wk["id"], f.days_ago(1), theory=95, practical=79.5)["passed"] is False


def test_exam_digest_and_wrong_count_together_422(client):
    w = f.World(client)
    wk = f.worker(w.body)
    r = w.centre.post("/api/v1/exams", {"worker_id": wk["id"], "category": "welding", "taken_at": f.ts(f.days_ago(1)),
                                        "duration_minutes": 90, "theory_score": 90, "practical_score": 90,
                                        "examiner": "x", "answers_digest": "a" * 64})
    assert r.status_code == 422
    r = w.centre.post("/api/v1/exams", {"worker_id": wk["id"], "category": "welding", "taken_at": f.ts(f.days_ago(1)),
                                        "duration_minutes": 90, "theory_score": 101, "practical_score": -1,
                                        "examiner": "x", "answers_digest": "XYZ", "wrong_count": 3})
    assert r.status_code == 422 and {"theory_score", "practical_score", "answers_digest"} <= {
        e["field"] for e in r.get_json()["errors"]}


def test_void_attendance_once_then_409(client):
    w = f.World(client)
    wk = f.worker(w.body)
    s = f.session(w.body, f.days_ago(3), 8, trainer_id=w.trainer["id"])
    a = f.attend(w.body, s, wk["id"])
    r = w.body.post(f"/api/v1/attendance/{a['id']}/void", {"reason": "录入错误"})
    assert r.status_code == 200 and r.get_json()["void_reason"] == "录入错误"
    assert w.body.post(f"/api/v1/attendance/{a['id']}/void", {"reason": "again"}).status_code == 409
    assert db.session.get(Attendance, a["id"]) is not None  # kept, marked


def test_void_exam_by_other_centre_403(client):
    w = f.World(client)
    other = f.org(w.reg, "exam_centre")
    wk = f.worker(w.body)
    e = f.exam(w.centre, wk["id"], f.days_ago(1))
    assert other.post(f"/api/v1/exams/{e['id']}/void", {"reason": "x"}).status_code == 403
    assert w.reg.post(f"/api/v1/exams/{e['id']}/void", {"reason": "监管更正"}).status_code == 200


def test_evidence_complete_hours_and_exam_no_problems(client):
    w = f.World(client)
    wk = f.worker(w.body)
    f.train(w.body, w.trainer["id"], [wk["id"]], hours=108, start_days_ago=40)
    f.exam(w.centre, wk["id"], f.days_ago(5))
    ev = evidence_for(wk["id"], "welding")
    assert ev.credited_hours == 108 and ev.problems == [] and ev.exam is not None
    assert ev.hours_completed_at is not None


def test_evidence_insufficient_hours(client):
    w = f.World(client)
    wk = f.worker(w.body)
    f.train(w.body, w.trainer["id"], [wk["id"]], hours=100, start_days_ago=40)
    f.exam(w.centre, wk["id"], f.days_ago(5))
    ev = evidence_for(wk["id"], "welding")
    assert "insufficient_hours" in ev.problems and ev.credited_hours == 100


def test_evidence_overlap_credited_to_neither(client):
    w = f.World(client)
    other = f.org(w.reg, "training_body")
    f.accredit(w.reg, other, ["welding"])
    wk = f.worker(w.body)
    start = f.days_ago(10)
    s1 = f.session(w.body, start, 8, trainer_id=w.trainer["id"])
    s2 = f.session(other, start + timedelta(hours=4), 8, trainer_id=f.trainer(other, "钱老师")["id"])
    f.attend(w.body, s1, wk["id"])
    f.attend(other, s2, wk["id"])
    ev = evidence_for(wk["id"], "welding")
    assert ev.credited_hours == 8.0  # 4 h alone in each; the 4 shared hours go to neither


def test_evidence_daily_cap_eight_hours(client):
    w = f.World(client)
    wk = f.worker(w.body)
    start = f.days_ago(10, hour=7)
    s = f.session(w.body, start, 12, trainer_id=w.trainer["id"])
    f.attend(w.body, s, wk["id"])
    assert evidence_for(wk["id"], "welding").credited_hours == 8.0


def test_evidence_voided_attendance_not_counted(client):
    w = f.World(client)
    wk = f.worker(w.body)
    sessions = f.train(w.body, w.trainer["id"], [wk["id"]], hours=108, start_days_ago=40)
    att = db.session.scalars(select(Attendance).where(Attendance.session_id == sessions[0]["id"])).first()
    w.body.post(f"/api/v1/attendance/{att.id}/void", {"reason": "冒名签到"})
    assert evidence_for(wk["id"], "welding").credited_hours == 100


def test_evidence_exam_before_training(client):
    w = f.World(client)
    wk = f.worker(w.body)
    f.exam(w.centre, wk["id"], f.days_ago(50))
    f.train(w.body, w.trainer["id"], [wk["id"]], hours=108, start_days_ago=40)
    ev = evidence_for(wk["id"], "welding")
    assert ev.problems == ["exam_before_training"]


def test_evidence_exam_expired(client):
    w = f.World(client)
    w2 = f.World.__new__(f.World)
    wk = f.worker(w.body)
    f.train(w.body, w.trainer["id"], [wk["id"]], hours=108, start_days_ago=400)
    f.exam(w.centre, wk["id"], f.days_ago(380))
    assert evidence_for(wk["id"], "welding").problems == ["exam_expired"]
    assert w2 is not None


def test_evidence_retake_beyond_limit(client):
    w = f.World(client)
    wk = f.worker(w.body)
    f.train(w.body, w.trainer["id"], [wk["id"]], hours=108, start_days_ago=40)
    f.exam(w.centre, wk["id"], f.days_ago(10), theory=60)
    f.exam(w.centre, wk["id"], f.days_ago(8), theory=70)
    f.exam(w.centre, wk["id"], f.days_ago(6))
    assert evidence_for(wk["id"], "welding").problems == ["retake_beyond_limit"]


def test_evidence_retake_after_retraining_is_fine(client):
    w = f.World(client)
    wk = f.worker(w.body)
    f.train(w.body, w.trainer["id"], [wk["id"]], hours=108, start_days_ago=40)
    f.exam(w.centre, wk["id"], f.days_ago(20), theory=60)
    f.exam(w.centre, wk["id"], f.days_ago(18), theory=70)
    f.train(w.body, w.trainer["id"], [wk["id"]], hours=16, start_days_ago=15)
    f.exam(w.centre, wk["id"], f.days_ago(6))
    assert evidence_for(wk["id"], "welding").problems == []


def test_evidence_no_exam(client):
    w = f.World(client)
    wk = f.worker(w.body)
    f.train(w.body, w.trainer["id"], [wk["id"]], hours=108, start_days_ago=40)
    assert evidence_for(wk["id"], "welding").problems == ["no_passed_exam"]


def test_evidence_endpoint_for_training_body(client):
    w = f.World(client)
    wk = f.worker(w.body)
    f.train(w.body, w.trainer["id"], [wk["id"]], hours=16, start_days_ago=10)
    r = w.body.get(f"/api/v1/workers/{wk['id']}/evidence/welding")
    assert r.status_code == 200 and r.get_json()["credited_hours"] == 16
    assert set(r.get_json()["problems"]) == {"insufficient_hours", "no_passed_exam"}


def test_evidence_counts_attendance_not_yet_flushed(client):
    # evidence_for reads plain rows; it still sees what this transaction added and not flushed.
    w = f.World(client)
    wk = f.worker(w.body)
    f.train(w.body, w.trainer["id"], [wk["id"]], hours=100, start_days_ago=40)
    f.exam(w.centre, wk["id"], f.days_ago(5))
    start = f.days_ago(20).astimezone(timezone.utc).replace(tzinfo=None)  # naive UTC, as stored
    session = TrainingSession(organization_id=w.body.id, category="welding", kind="initial", starts_at=start,
                              ends_at=start + timedelta(hours=8), location="教室", trainer_id=w.trainer["id"],
                              capacity=10)
    db.session.add(session)
    db.session.add(Attendance(session=session, worker_id=wk["id"], check_in=start,
                              check_out=start + timedelta(hours=8), hours=8))
    ev = evidence_for(wk["id"], "welding")
    assert ev.credited_hours == 108 and ev.problems == []


def test_evidence_names_the_qualifying_exam_and_every_record(client):
    w = f.World(client)
    wk = f.worker(w.body)
    sessions = f.train(w.body, w.trainer["id"], [wk["id"]], hours=108, start_days_ago=40)
    failed = f.exam(w.centre, wk["id"], f.days_ago(6), theory=50)
    passed = f.exam(w.centre, wk["id"], f.days_ago(5))
    ev = evidence_for(wk["id"], "welding")
    assert ev.exam_id == passed["id"] and ev.exam_ids == [failed["id"], passed["id"]]
    assert ev.exam_passed_at == db.session.get(Exam, passed["id"]).taken_at
    ids = set(db.session.scalars(select(Attendance.id).where(Attendance.worker_id == wk["id"])))
    assert set(ev.attendance_ids) == ids and len(ids) == len(sessions)
