"""Rule sets by effective date: the catalogue as the set in force on a day has it, checked when
loaded, and answered by GET /api/v1/categories?on=DATE."""
from __future__ import annotations

import json
import shutil
from datetime import date

import pytest

from training.catalogue import DATA, NoRulesInForce, load_catalogue


def _folder(tmp_path, sets):
    for name in ("categories.json", "roles.json", "industries.json"):
        shutil.copy(DATA / name, tmp_path / name)
    (tmp_path / "rulesets.json").write_text(json.dumps({"items": sets}, ensure_ascii=False), encoding="utf-8")
    load_catalogue.cache_clear()
    return str(tmp_path)


def _set(code, start, until=None, induction=None, **categories):
    return {"code": code, "name": code, "name_en": code, "effective_from": start, "effective_until": until,
            "categories": categories, **({"induction": induction} if induction else {})}


def test_rulesets_each_day_gets_the_set_in_force(tmp_path):
    folder = _folder(tmp_path, [_set("2026", "2026-06-01", induction={"required_hours": 32},
                                     welding={"review_interval_years": 6, "retakes_allowed": 4}),
                                _set("2010", "2010-07-01", "2026-05-31")])
    try:
        cat = load_catalogue(folder)
        before, after = cat.on(date(2026, 5, 31)), cat.on(date(2026, 6, 1))
        assert before.rules.code == "2010" and after.rules.code == "2026"
        assert before.categories["welding"].review_interval_years == 3 and before.categories["welding"].retakes_allowed == 1
        assert after.categories["welding"].review_interval_years == 6 and after.categories["welding"].retakes_allowed == 4
        assert after.categories["electrician_low_voltage"] == before.categories["electrician_low_voltage"]
        assert before.induction_hours("other") == 24 and after.induction_hours("other") == 32
        assert after.induction_hours("coal_mine") == before.induction_hours("coal_mine") == 72
        assert cat.of_day(date(2001, 1, 1)) is before  # older records: the earliest set
        assert cat.on(date(2030, 1, 1)) is after  # built once per set
        with pytest.raises(NoRulesInForce):
            cat.on(date(2010, 6, 30))
    finally:
        load_catalogue.cache_clear()


@pytest.mark.parametrize("sets, says", [
    ([_set("a", "2010-07-01", "2026-05-31"), _set("b", "2026-06-02")], "must start the day after"),
    ([_set("a", "2010-07-01", "2026-06-01"), _set("b", "2026-06-01")], "must start the day after"),
    ([_set("a", "2010-07-01"), _set("b", "2026-06-01")], "must start the day after"),
    ([_set("a", "2010-07-01", None, welding={"token_code": 99})], "fields no set may change"),
    ([_set("a", "2010-07-01", None, astronaut={"pass_mark": 1})], "unknown category"),
    ([_set("a", "2010-07-01", None, induction={"hours_of_fun": 1})], "unknown induction figures"),
])
def test_rulesets_gaps_overlaps_and_unknown_figures_are_refused_when_loaded(tmp_path, sets, says):
    folder = _folder(tmp_path, sets)
    try:
        with pytest.raises(ValueError, match=says):
            load_catalogue(folder)
    finally:
        load_catalogue.cache_clear()


def test_rulesets_categories_on_a_day(client, backend):
    if backend != "sqlite":
        pytest.skip("the catalogue is files, not the database")
    today = client.get("/api/v1/categories").get_json()
    assert today["rules"]["code"] == "2026" and today["rules"]["effective_from"] == "2026-06-01"
    assert today["rules"]["status"] == "reported" and today["rules"]["effective_until"] is None
    assert len(today["items"]) == len(load_catalogue().categories)
    past = client.get("/api/v1/categories?on=2015-03-01").get_json()
    assert past["on"] == "2015-03-01" and past["rules"]["code"] == "2010" and past["rules"]["effective_until"] == "2026-05-31"
    now, then = ({c["code"]: c for c in d["items"]} for d in (today, past))
    assert then["welding"]["review_interval_years"] == 3 and then["welding"]["retakes_allowed"] == 1
    assert now["welding"]["review_interval_years"] == 0 and now["welding"]["retakes_allowed"] is None
    assert now["welding"]["training_waiver"] is True and then["welding"]["training_waiver"] is False
    assert now["confined_space"] == then["confined_space"]  # not a special operation: the revision leaves it
    for bad in ("2015-3-1", "yesterday", "20150301", "2015-02-30"):
        r = client.get(f"/api/v1/categories?on={bad}")
        assert r.status_code == 400 and r.mimetype == "application/problem+json", bad
    r = client.get("/api/v1/categories?on=2001-01-01")
    assert r.status_code == 422 and r.get_json()["errors"][0]["code"] == "no_rules"


def test_rulesets_issuance_takes_validity_and_review_from_the_set_in_force(client, tmp_path, monkeypatch):
    """A certificate issued today under the 2026 set gets no review (renewed at expiry) and says
    so; the same history under a folder holding the 2010 set alone gets the three-yearly review."""
    from datetime import timedelta

    from tests import factories as f
    from tests.certificates.test_issuance import issue, ready_worker
    from training.db import utcnow
    yesterday = (utcnow() + timedelta(hours=8)).date() - timedelta(days=1)
    w = f.World(client)
    new = issue(w, ready_worker(w)).get_json()
    assert new["rules"] == "2026" and new["review_due"] == new["valid_until"] and not new["review_required"]
    folder = _folder(tmp_path, [_set("2010", "2010-07-01")])
    monkeypatch.setenv("ANZHENG_CATALOGUE_DIR", folder)
    load_catalogue.cache_clear()
    try:
        assert load_catalogue().rules_on(yesterday).code == "2010"
        old = issue(w, ready_worker(w)).get_json()
        assert old["rules"] == "2010" and old["review_required"]
        assert date.fromisoformat(old["review_due"]) < date.fromisoformat(old["valid_until"])  # 3-yearly review
        assert new["valid_until"] == old["valid_until"]
    finally:
        monkeypatch.delenv("ANZHENG_CATALOGUE_DIR")
        load_catalogue.cache_clear()


# --- one worker's history crossing 2026-06-01, decided by the right set (both databases) -----------

CHANGE = date(2026, 6, 1)


def _on(day: date, hour: int = 9):
    from datetime import datetime

    from tests.factories import CST
    return datetime(day.year, day.month, day.day, hour, tzinfo=CST)


def _ago(day: date) -> int:
    from datetime import datetime

    from tests.factories import CST
    return (datetime.now(CST).date() - day).days


def _world(client):
    """A body and a centre accredited since before the change (and after today)."""
    from tests import factories as f
    w = f.World(client, categories=("welding",))
    back = _ago(date(2025, 12, 1))
    for org in (w.body, w.centre):
        f.accredit(w.reg, org, ["welding", "confined_space"], days_back=back, days_forward=800)
    return w


def _history(w, sittings, course_start=date(2026, 3, 2)):
    """A worker trained for welding from ``course_start`` (108 hours) who sat the exam on each
    (day, passed) of ``sittings``."""
    from tests import factories as f
    wk = f.worker(w.body)
    f.train(w.body, w.trainer["id"], [wk["id"]], hours=108, start_days_ago=_ago(course_start))
    for day, passed in sittings:
        f.exam(w.centre, wk["id"], _on(day), theory=90 if passed else 60)
    return wk


def _findings(kind, worker_id):
    from sqlalchemy import select

    from training.db import db
    from verify.findings.models import Finding
    db.session.expire_all()
    return db.session.scalars(select(Finding).where(Finding.kind == kind, Finding.worker_id == worker_id)).all()


def test_rulesets_trained_and_examined_before_the_change_certified_after(client):
    """Sittings are counted by the rules of their day: a third sitting in April (2010: one retake)
    is beyond the limit and raises the finding; the same pass in June (2026: no limit) is not. A
    certificate issued now is issued under 2026: no review, renewed at expiry."""
    from tests.certificates.test_issuance import issue
    w = _world(client)
    before = _history(w, [(date(2026, 4, 1), False), (date(2026, 4, 10), False), (date(2026, 4, 20), True)])
    across = _history(w, [(date(2026, 5, 20), False), (date(2026, 5, 28), False), (date(2026, 6, 5), True)])
    clean = _history(w, [(date(2026, 4, 20), True)])
    r = issue(w, before)
    assert r.status_code == 422 and [e["code"] for e in r.get_json()["errors"]] == ["retake_beyond_limit"]
    assert len(_findings("retake_beyond_limit", before["id"])) == 1
    assert _findings("retake_beyond_limit", across["id"]) == []
    for wk in (across, clean):
        c = issue(w, wk)
        assert c.status_code == 201, c.get_json()
        c = c.get_json()
        assert c["rules"] == "2026" and c["review_due"] == c["valid_until"] and c["review_required"] is False
        r = w.body.post(f"/api/v1/certificates/{c['serial']}/review")
        assert r.status_code == 409 and r.get_json()["code"] == "no_review"


def test_rulesets_certified_before_the_change_decided_after(client):
    """The reverse: certificates issued under 2010 keep it. One whose review falls due after the
    change needs none (verify valid, no review to make); one whose review fell due before it and
    was not made is overdue."""
    from datetime import timedelta

    from certificates.issuance.service import add_years
    from certificates.models import Certificate
    from tests.certificates.test_issuance import issue
    from tests.verify.test_online import verify
    from training.db import db
    w = _world(client)
    lapsed, missed = (_history(w, [(date(2026, 4, 20), True)]) for _ in range(2))
    certs = {}
    for wk, issued in ((lapsed, date(2026, 2, 10)), (missed, date(2023, 3, 1))):
        c = issue(w, wk).get_json()
        row = db.session.get(Certificate, c["serial"])
        row.issued_at, row.rules = _on(issued).replace(tzinfo=None) - timedelta(hours=8), "2010"
        row.valid_until = add_years(issued, 6) - timedelta(days=1)
        row.review_due = add_years(issued, 3) - timedelta(days=1)
        certs[wk["id"]] = c
    db.session.commit()
    assert db.session.get(Certificate, certs[lapsed["id"]]["serial"]).review_due > CHANGE
    assert db.session.get(Certificate, certs[missed["id"]]["serial"]).review_due < CHANGE
    ok = verify(client, certs[lapsed["id"]]["qr_text"])
    assert ok["result"] == "valid" and ok["certificate"]["rules"] == "2010" and not ok["certificate"]["review_required"]
    late = verify(client, certs[missed["id"]]["qr_text"])
    assert late["result"] == "review_overdue" and late["certificate"]["review_required"] is True
    r = w.body.post(f"/api/v1/certificates/{certs[lapsed['id']]['serial']}/review")
    assert r.status_code == 409 and r.get_json()["code"] == "no_review"
    record = w.body.get(f"/api/v1/certificates/{certs[lapsed['id']]['serial']}").get_json()
    assert record["rules"] == "2010" and record["review_required"] is False


def test_rulesets_hours_by_the_course_start_and_pass_mark_by_the_exam_day(client, tmp_path, monkeypatch):
    """With a set that, from 2026-06-01, asks 120 hours of welding and a pass mark of 70: a course
    begun before needs 108 and one begun after 120; a 75 in May failed, in June it passes."""
    from tests import factories as f
    from training.evidence.hours import evidence_for
    folder = _folder(tmp_path, [_set("2010", "2010-07-01", "2026-05-31", welding={"pass_mark": 80}),
                                _set("next", "2026-06-01", welding={"initial_hours": 120, "pass_mark": 70})])
    monkeypatch.setenv("ANZHENG_CATALOGUE_DIR", folder)
    load_catalogue.cache_clear()
    try:
        w = _world(client)
        early, late = f.worker(w.body), f.worker(w.body)
        f.train(w.body, w.trainer["id"], [early["id"]], hours=108, start_days_ago=_ago(date(2026, 5, 11)))
        f.train(w.body, w.trainer["id"], [late["id"]], hours=108, start_days_ago=_ago(date(2026, 6, 8)))
        may = f.exam(w.centre, early["id"], _on(date(2026, 5, 30)), theory=75)
        june = f.exam(w.centre, early["id"], _on(date(2026, 6, 25)), theory=75)
        f.exam(w.centre, late["id"], _on(date(2026, 7, 20)))
        assert may["passed"] is False and june["passed"] is True
        ev_early, ev_late = evidence_for(early["id"], "welding"), evidence_for(late["id"], "welding")
        assert ev_early.required_hours == 108 and ev_early.problems == []
        assert ev_late.required_hours == 120 and "insufficient_hours" in ev_late.problems
    finally:
        monkeypatch.delenv("ANZHENG_CATALOGUE_DIR")
        load_catalogue.cache_clear()


def test_rulesets_nothing_assumes_one_province(client):
    """Applications from anywhere (跨省通办): a body accredited in Henan trains a worker registered
    in Sichuan, an exam centre in Guangdong examines her, the body certifies, and the certificate
    verifies valid with no finding about where anyone is from."""
    from sqlalchemy import select

    from tests import factories as f
    from tests.verify.test_online import verify
    from training.db import db
    from verify.findings.models import Finding
    reg = f.regulator(client, "四川省应急管理厅")
    body = f.org(reg, "training_body", "郑州安全培训学校", region="410102")
    centre = f.org(reg, "exam_centre", "广州特种作业考试中心", region="440106")
    for org in (body, centre):
        f.accredit(reg, org, ["welding"])
    trainer = f.trainer(body)
    wk = f.worker(body, f.id_number(region="510104"))
    assert wk["id_number_masked"].startswith("510104")
    f.train(body, trainer["id"], [wk["id"]], hours=108, start_days_ago=40)
    f.exam(centre, wk["id"], f.days_ago(5))
    c = body.post("/api/v1/certificates", {"worker_id": wk["id"], "category": "welding"})
    assert c.status_code == 201, c.get_json()
    assert verify(client, c.get_json()["qr_text"])["result"] == "valid"
    db.session.expire_all()
    # (The classes are entered today for days gone by: late_record, about the body's bookkeeping.)
    assert set(db.session.scalars(select(Finding.kind))) <= {"late_record"}


def test_rulesets_skill_certificate_stands_for_the_hours_from_the_2026_rules(client):
    """A worker with a vocational-skill certificate recorded by the exam centre and no training:
    an exam in May 2026 (2010 rules: no waiver) was taken before any training and raises the
    finding; an exam in June (2026) needs none, issuance names the waiver, and no finding is raised
    for it. Voided, the skill certificate stands for nothing any more, and the rules say so."""
    import json as _json

    from certificates.models import Certificate
    from tests import factories as f
    from tests.certificates.test_issuance import issue
    from training.db import db
    from training.evidence.hours import evidence_for
    w = _world(client)
    wk = f.worker(w.body)
    skill = w.centre.post(f"/api/v1/workers/{wk['id']}/credentials", {
        "kind": "skill_certificate", "category": "welding", "number": "S000044030004193000012", "level": "四级",
        "authority": "河南省职业技能鉴定中心", "issued_on": "2026-01-15"})
    assert skill.status_code == 201, skill.get_json()
    skill = skill.get_json()
    may = f.exam(w.centre, wk["id"], _on(date(2026, 5, 20)))
    assert len(_findings("exam_before_training", wk["id"])) == 1
    june = f.exam(w.centre, wk["id"], _on(date(2026, 6, 20)))
    hits = _findings("exam_before_training", wk["id"])
    assert len(hits) == 1 and may["id"] in hits[0].evidence and june["id"] not in hits[0].evidence
    ev = evidence_for(wk["id"], "welding")
    assert ev.problems == [] and ev.waived_by == skill["id"] and ev.exam_id == june["id"]
    c = issue(w, wk)
    assert c.status_code == 201, c.get_json()
    snap = _json.loads(db.session.get(Certificate, c.get_json()["serial"]).evidence)
    assert snap["waived_by"] == skill["id"] and snap["credited_hours"] == 0
    other = f.worker(w.body)  # the same exams without the skill certificate: no waiver
    f.exam(w.centre, other["id"], _on(date(2026, 6, 20)))
    assert "insufficient_hours" in evidence_for(other["id"], "welding").problems
    void = w.centre.post(f"/api/v1/workers/{wk['id']}/credentials/{skill['id']}/void", {"reason": "录入错误"})
    assert void.status_code == 200, void.get_json()
    assert evidence_for(wk["id"], "welding").problems == ["insufficient_hours", "exam_before_training"]
    # Weighed again without it: the June exam is now before any training, and the certificate
    # issued on the waiver has lost its evidence.
    assert any(june["id"] in x.evidence for x in _findings("exam_before_training", wk["id"]))
    (lost,) = _findings("certificate_without_evidence", wk["id"])
    assert lost.certificate_serial == c.get_json()["serial"] and "insufficient_hours" in lost.evidence
