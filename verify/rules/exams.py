"""Fake-exam rules: an exam before the training was complete, an exam finished too fast, copied
papers, retakes beyond the limit, late exam records, and per-centre (and per-body) score anomalies.

``score_anomaly`` is a one-sided exact binomial test of a centre's (or a body's trainees')
results against everyone else's in the same months: (a) the pass rate, and (b) among scores
within ``band`` points of the pass mark, the share at or just above it (marks nudged over the
line leave a hole just below it). Both need a minimum sample and a minimum effect as well as
p < alpha; see docs/findings.md. Nothing here edits evidence.
"""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from training import clock
from training.catalogue import load_catalogue
from training.db import db
from training.evidence.hours import credited_pieces, required_hours, waiver_for, waivers_of
from training.evidence.models import Exam
from verify.rules import common as R
from verify.rules.queries import worker_rows

_E = Exam.__table__.c
EXAMS = select(_E.id, _E.worker_id, _E.category, _E.exam_centre_id, _E.taken_at, _E.duration_minutes,
               _E.theory_score, _E.practical_score, _E.answers_digest, _E.wrong_count, _E.passed,
               _E.created_at).where(_E.voided_at.is_(None))


def worker_exams(worker_id: str, category: str) -> list:
    return db.session.execute(EXAMS.where(_E.worker_id == worker_id, _E.category == category)
                              .order_by(_E.taken_at, _E.id)).all()


def stretches(rows, category: str, kinds=("initial",), pieces=None) -> list:
    """The worker's credited training stretches in a category (overlaps and daily cap applied)."""
    pieces = pieces if pieces is not None else credited_pieces(rows)
    return sorted(p for r in rows if r.category == category and r.kind in kinds for p in pieces[r.id])


def body_for(exam, rows) -> str | None:
    """The training body whose class the candidate last attended in the category before the exam."""
    before = [r for r in rows if r.category == exam.category and r.kind != "induction" and r.check_out <= exam.taken_at]
    return max(before, key=lambda r: (r.check_out, r.id)).organization_id if before else None


def _base(exam, rows):
    bodies = {r.organization_id for r in rows if r.category == exam.category and r.kind != "induction"}
    return R.parties(R.worker_party(exam.worker_id), R.org_party(exam.exam_centre_id),
                     *(R.org_party(b) for b in sorted(bodies)))


def check_exam(exam, rows, exams, pieces=None, waivers=None) -> None:
    """exam_too_fast, exam_before_training, retake_beyond_limit and late_record for one exam, by
    the rules in force on the day it was taken (the hours: of the day the course began).
    ``pieces``: the worker's credited stretches, and ``waivers``: the worker's skill certificates
    in the category (``waivers_of``), when the caller has them already."""
    catalogue = load_catalogue()
    cat = catalogue.at(exam.taken_at).category(exam.category)
    pieces = pieces if pieces is not None else credited_pieces(rows)
    wid = exam.worker_id

    def cert(ids):
        return R.certificate_for(wid, exam.category, ids)
    if exam.passed and exam.duration_minutes < R.cfg("exam_too_fast")["min_minutes"]:
        R.fire("exam_too_fast", exam.id, {"exam_ids": [exam.id], "duration_minutes": exam.duration_minutes},
               _base(exam, rows), worker_id=wid, certificate_serial=cert([exam.id]))
    if exam.passed:
        course = stretches(rows, exam.category, pieces=pieces)
        done = sum((min(e, exam.taken_at) - s).total_seconds() for s, e in course if s < exam.taken_at) / 3600
        required = required_hours(catalogue, exam.category, course)
        if done + 1e-6 < required and not _waived(cat, exam, waivers):
            R.fire("exam_before_training", exam.id,
                   {"exam_ids": [exam.id], "hours_before_exam": round(done, 2), "required_hours": required},
                   _base(exam, rows), worker_id=wid, certificate_serial=cert([exam.id]))
    trained = [e for _, e in stretches(rows, exam.category, ("initial", "refresher"), pieces) if e <= exam.taken_at]
    last = max(trained, default=None)
    attempts = [x for x in exams if (x.taken_at, x.id) <= (exam.taken_at, exam.id)
                and (last is None or x.taken_at >= last)]
    if cat.sittings_beyond(len(attempts)):
        ids = [x.id for x in attempts]
        R.fire("retake_beyond_limit", exam.id,
               {"exam_ids": [exam.id] + ids[:-1], "attempts": len(attempts), "allowed": 1 + cat.retakes_allowed,
                "last_training_end": last}, _base(exam, rows), worker_id=wid, certificate_serial=cert([exam.id]))
    delay = (exam.created_at - exam.taken_at).total_seconds() / 3600 - exam.duration_minutes / 60
    if delay > R.cfg("late_record")["max_delay_hours"]:
        R.fire("late_record", f"exams:{exam.exam_centre_id}:{clock.day(exam.taken_at)}",
               {"exam_ids": [exam.id], "delay_hours": round(delay), "entered_at": exam.created_at,
                "described_until": exam.taken_at}, R.parties(R.org_party(exam.exam_centre_id)))


def _waived(cat, exam, waivers) -> bool:
    """Does a skill certificate stand for the hours of this exam (rules with a training waiver)?"""
    if waivers is None and cat.training_waiver:
        waivers = waivers_of([exam.worker_id]).get((exam.worker_id, exam.category), [])
    return waiver_for(cat, waivers, exam.taken_at) is not None


def copied(exam) -> bool:
    return bool(exam.answers_digest) and (exam.wrong_count or 0) >= R.cfg("identical_answers")["min_wrong"]


def check_identical(exam, candidates) -> list:
    """identical_answers for one paper against others of its centre; returns the matches."""
    if not copied(exam):
        return []
    window = timedelta(days=R.cfg("identical_answers")["window_days"])
    matches = sorted({c for c in candidates if c.id != exam.id and c.worker_id != exam.worker_id and copied(c)
                      and c.answers_digest == exam.answers_digest and c.exam_centre_id == exam.exam_centre_id
                      and abs(c.taken_at - exam.taken_at) <= window}, key=lambda c: (c.taken_at, c.id))
    if matches:
        workers = sorted({exam.worker_id} | {m.worker_id for m in matches})
        R.fire("identical_answers", exam.id,
               {"exam_ids": [exam.id] + [m.id for m in matches], "candidates": len(workers),
                "wrong_count": exam.wrong_count, "answers_digest": exam.answers_digest},
               R.parties(*(R.worker_party(w) for w in workers), R.org_party(exam.exam_centre_id)),
               worker_id=exam.worker_id, certificate_serial=R.certificate_for(exam.worker_id, exam.category, [exam.id]))
    return matches


def identical_live(exam) -> None:
    if not copied(exam):
        return
    window = timedelta(days=R.cfg("identical_answers")["window_days"])
    candidates = db.session.execute(EXAMS.where(
        _E.answers_digest == exam.answers_digest, _E.exam_centre_id == exam.exam_centre_id,
        _E.taken_at >= exam.taken_at - window, _E.taken_at <= exam.taken_at + window)).all()
    for match in check_identical(exam, candidates):
        check_identical(match, candidates)


# --- score anomaly --------------------------------------------------------------------------------

METRICS = ("n", "p", "lo", "hi")


def score_counts(exam, body_id: str | None) -> dict:
    cat = load_catalogue().at(exam.taken_at).category(exam.category)  # the pass mark it was marked against
    band = R.cfg("score_anomaly")["band"]
    low = min(exam.theory_score, exam.practical_score)
    month = clock.month(exam.taken_at)
    values = {"n": 1, "p": int(exam.passed), "lo": int(cat.pass_mark - band <= low < cat.pass_mark),
              "hi": int(cat.pass_mark <= low < cat.pass_mark + band)}
    out = {}
    for who in ("*", exam.exam_centre_id, body_id):
        if who:
            out.update({f"sc:{who}:{month}:{m}": v for m, v in values.items()})
    return out


def evaluate_score(org_id: str, month: str, source=None) -> None:
    c = R.cfg("score_anomaly")
    months = R.months_back(month, c["window_months"])
    counts = R.read_counters([f"sc:{w}:{m}:{x}" for w in (org_id, "*") for m in months for x in METRICS], source)
    own = {x: sum(counts[f"sc:{org_id}:{m}:{x}"] for m in months) for x in METRICS}
    rest = {x: sum(counts[f"sc:*:{m}:{x}"] for m in months) - own[x] for x in METRICS}
    info = R.org_info(org_id)
    role = (info[0] if info else "") == "exam_centre"
    words = dict(role_zh="考试点" if role else "培训机构学员", role_en="exam centre" if role else "training body's trainees")
    if own["n"] >= c["min_exams"] and rest["n"] >= c["min_rest"]:
        p0, rate = rest["p"] / rest["n"], own["p"] / own["n"]
        p = R.binom_sf(own["p"], own["n"], p0)
        if rate - p0 >= c["min_excess"] and p < c["alpha"]:
            _fire_score(org_id, month, "pass_rate", own["n"], own["p"], rate, p0, p, words,
                        f"通过率 {rate:.0%}，其他机构为 {p0:.0%}（共 {own['n']} 场）",
                        f"a pass rate of {rate:.0%} against {p0:.0%} elsewhere ({own['n']} exams)")
    m, m_rest = own["lo"] + own["hi"], rest["lo"] + rest["hi"]
    if m >= c["min_band"] and m_rest >= c["min_band"]:
        q0, share = rest["hi"] / m_rest, own["hi"] / m
        p = R.binom_sf(own["hi"], m, q0)
        if share - q0 >= c["min_band_excess"] and p < c["alpha"]:
            _fire_score(org_id, month, "bunching", m, own["hi"], share, q0, p, words,
                        f"及格线附近的 {m} 份成绩中 {share:.0%} 刚好及格，其他机构为 {q0:.0%}",
                        f"of {m} scores near the pass mark {share:.0%} land just on or over it, against {q0:.0%} elsewhere")


def _fire_score(org_id, month, test, n, k, share, p0, p, words, test_zh, test_en):
    R.fire("score_anomaly", f"{org_id}:{month}:{test}",
           {"organization_id": org_id, "month": month, "test": test, "n": n, "k": k, "share": round(share, 4),
            "rest_share": round(p0, 4), "p_value": R.fmt_p(p)},
           R.parties(R.org_party(org_id)), test_zh=test_zh, test_en=test_en, **words)


# --- signal receivers ------------------------------------------------------------------------------

def on_exam(exam, **_):
    rows = worker_rows(exam.worker_id)
    exams = worker_exams(exam.worker_id, exam.category)
    me = next((x for x in exams if x.id == exam.id), None)
    if me is None:
        return
    check_exam(me, rows, exams, waivers=waivers_of([me.worker_id]).get((me.worker_id, me.category), []))
    identical_live(me)
    body = body_for(me, rows)
    R.bump(score_counts(me, body))
    month = clock.month(me.taken_at)
    for org in (me.exam_centre_id, body):
        if org:
            evaluate_score(org, month)


def recheck_worker(worker_id: str, category: str) -> None:
    rows, exams = worker_rows(worker_id), worker_exams(worker_id, category)
    waivers = waivers_of([worker_id]).get((worker_id, category), [])
    for exam in exams:
        check_exam(exam, rows, exams, waivers=waivers)
        identical_live(exam)
