"""Re-running every rule over history: after an import, after corrections, after a threshold
changed. The same rule functions as the live path, fed in bulk: sessions per trainer, workers in
chunks (their attendance, exams and certificates at once), grouped SQL for over-full classes and
shared answer digests, then the counters behind the per-body signals, rebuilt from the records.

Idempotent: every finding has a rule key, so a second run raises nothing new. Must not: delete or
edit a finding or a record (only the rule counters are rebuilt).
"""
from __future__ import annotations

from collections import Counter, defaultdict
from datetime import date
from itertools import groupby

from sqlalchemy import delete, func, select

from certificates.models import Certificate
from training.db import db
from training.evidence.hours import credited_pieces, waivers_of
from training.evidence.models import Exam, TrainingSession
from training.people.models import Worker
from verify.findings.models import Finding
from verify.inspections.models import Inspection, InspectionCheck
from verify.rules import common as R
from verify.rules.certificates import check_certificate, evaluate_spike, spike_counts
from verify.rules.exams import (
    EXAMS,
    body_for,
    check_exam,
    check_identical,
    copied,
    evaluate_score,
    score_counts,
)
from verify.rules.models import RuleCounter
from verify.rules.queries import ATT, A, scan_time
from verify.rules.scans import SCAN_COLS, check_clone, check_fake, check_while_on_site
from verify.rules.training import (
    check_capacity,
    check_late,
    check_sighting,
    check_trainer,
    check_worker,
    evaluate_far,
    home_region_count,
)
from verify.verification.models import Scan

_E = Exam.__table__.c  # exam columns
_S = TrainingSession.__table__.c  # session columns


def rerun_size() -> int:
    def count(m):
        return db.session.scalar(select(func.count()).select_from(m)) or 0
    return count(TrainingSession) + count(Worker) + count(Scan) + count(InspectionCheck) + 3


def _findings_by_kind() -> Counter:
    return Counter(dict(db.session.execute(select(Finding.kind, func.count()).group_by(Finding.kind)).all()))


def rerun(progress=None, chunk: int = 1000) -> dict:
    """Run every rule over every record; returns the findings raised, by kind."""
    step = progress or (lambda n: None)
    before = _findings_by_kind()
    db.session.execute(delete(RuleCounter))
    counts: Counter = Counter()
    _trainers(step)
    _workers(counts, step, chunk)
    _capacity()
    _identical()
    step(1)
    _counters(counts)
    step(1)
    _scans(step)
    _inspection_checks(step)
    step(1)
    db.session.commit()
    after = _findings_by_kind()
    return {k: after[k] - before[k] for k in sorted(after) if after[k] != before[k]}


def _trainers(step) -> None:
    rows = db.session.execute(select(_S.id, _S.trainer_id, _S.organization_id, _S.starts_at, _S.ends_at)
                              .where(_S.trainer_id.is_not(None)).order_by(_S.trainer_id, _S.starts_at)).all()
    for _, sessions in groupby(rows, key=lambda r: r.trainer_id):
        check_trainer(list(sessions))
    db.session.commit()
    step(db.session.scalar(select(func.count()).select_from(TrainingSession)))


def _prime_workers(lo: str, hi: str) -> None:
    cache = R._cache("worker")
    for wid, name, home, masked in db.session.execute(select(Worker.id, Worker.name, Worker.home_region,
                                                             Worker.id_masked).where(Worker.id.between(lo, hi))):
        cache[wid] = (name, home, masked)


def _workers(counts: Counter, step, chunk: int) -> None:
    ids = db.session.scalars(select(Worker.id).order_by(Worker.id)).all()
    for i in range(0, len(ids), chunk):
        lo, hi = ids[i], ids[min(i + chunk, len(ids)) - 1]
        _prime_workers(lo, hi)
        att = defaultdict(list)
        for r in db.session.execute(ATT.where(A.worker_id.between(lo, hi))):
            att[r.worker_id].append(r)
        exams = defaultdict(list)
        for e in db.session.execute(EXAMS.where(_E.worker_id.between(lo, hi)).order_by(_E.taken_at, _E.id)):
            exams[e.worker_id].append(e)
        certs = defaultdict(list)
        for c in db.session.execute(select(Certificate.serial, Certificate.worker_id, Certificate.category,
                                           Certificate.issuer_id, Certificate.evidence, Certificate.issued_at)
                                    .where(Certificate.worker_id.between(lo, hi))):
            certs[c.worker_id].append(c)
        waivers = waivers_of(ids[i:i + chunk])
        for wid in ids[i:i + chunk]:
            _one_worker(att.get(wid, []), exams.get(wid, []), certs.get(wid, []), counts, waivers)
        db.session.commit()
        R._cache("worker").clear()
        step(min(chunk, len(ids) - i))


def _one_worker(rows, exams, certs, counts: Counter, waivers: dict) -> None:
    check_worker(rows)
    if R.enabled("late_record"):
        for row in rows:
            check_late(row)
    firsts = {}
    for row in rows:
        if row.kind != "induction" and (row.organization_id not in firsts
                                        or (row.check_in, row.id) < (firsts[row.organization_id].check_in,
                                                                     firsts[row.organization_id].id)):
            firsts[row.organization_id] = row
    for row in firsts.values():
        counts.update(home_region_count(row, rows))
    by_cat = defaultdict(list)
    for e in exams:
        by_cat[e.category].append(e)
    pieces = credited_pieces(rows) if exams else None
    for cat_exams in by_cat.values():
        for e in cat_exams:
            check_exam(e, rows, cat_exams, pieces, waivers.get((e.worker_id, e.category), []))
            counts.update(score_counts(e, body_for(e, rows)))
    for c in certs:
        check_certificate(c.serial, c.worker_id, c.category, c.issuer_id, c.evidence, rows, exams)
        counts.update(spike_counts(c.issuer_id, c.issued_at))


def _capacity() -> None:
    n = func.count(func.distinct(A.worker_id))
    over = db.session.execute(select(A.session_id, _S.capacity, _S.organization_id, _S.trainer_id)
                              .join(TrainingSession, _S.id == A.session_id).where(A.voided_at.is_(None))
                              .group_by(A.session_id, _S.capacity, _S.organization_id, _S.trainer_id)
                              .having(n > _S.capacity)).all()
    for s in over:
        check_capacity(s.session_id, s.capacity, s.organization_id, s.trainer_id)
    db.session.commit()


def _identical() -> None:
    groups = db.session.execute(select(_E.exam_centre_id, _E.answers_digest)
                                .where(_E.answers_digest.is_not(None), _E.voided_at.is_(None),
                                       _E.wrong_count >= R.cfg("identical_answers")["min_wrong"])
                                .group_by(_E.exam_centre_id, _E.answers_digest)
                                .having(func.count(func.distinct(_E.worker_id)) > 1)).all()
    for centre, digest in groups:
        papers = db.session.execute(EXAMS.where(_E.exam_centre_id == centre, _E.answers_digest == digest)).all()
        for paper in papers:
            if copied(paper):
                check_identical(paper, papers)
    db.session.commit()


def _counters(counts: Counter) -> None:
    R.bump(counts)
    db.session.commit()
    months = defaultdict(set)
    for key in counts:
        kind, org, when = key.split(":")[:3]
        months[(kind, org)].add(when)
    for (kind, org), whens in sorted(months.items()):
        for when in sorted(whens):
            if kind == "far":
                evaluate_far(org, when, counts)
            elif kind == "sc" and org != "*":
                evaluate_score(org, when, counts)
            elif kind == "iss" and R.enabled("issuance_spike"):
                evaluate_spike(org, date.fromisoformat(when), counts)
    db.session.commit()


def _scans(step) -> None:
    last = ""
    cols = SCAN_COLS.add_columns(Scan.token_hash, Scan.result, Scan.reasons)
    while True:
        page = db.session.execute(cols.where(Scan.id > last).order_by(Scan.id).limit(2000)).all()
        if not page:
            break
        for s in page:
            check_fake(s, s.result, s.reasons.split(), s.token_hash, s.serial)
        serials = {s.serial for s in page if s.serial and s.result not in ("forged", "unregistered", "not_ours")}
        owners = dict(db.session.execute(select(Certificate.serial, Certificate.worker_id)
                                         .where(Certificate.serial.in_(serials))).all()) if serials else {}
        mine = {s.id for s in page}
        for serial in sorted(owners):
            history = db.session.execute(cols.where(Scan.serial == serial)).all()
            history.sort(key=lambda s: scan_time(s.received_at, s.scanned_at, s.offline, s.clock_offset_s)
                         or s.received_at)
            for before, scan in zip(history, history[1:]):
                if scan.id in mine:
                    check_clone(serial, owners[serial], scan, [before])
        for s in page:
            if s.serial in owners:
                check_while_on_site(owners[s.serial], s)
        db.session.commit()
        last = page[-1].id
        step(len(page))


def _inspection_checks(step) -> None:
    rows = db.session.execute(select(InspectionCheck.id, InspectionCheck.worker_id, InspectionCheck.at, Inspection.site_id)
                              .join(Inspection, Inspection.id == InspectionCheck.inspection_id)
                              .where(InspectionCheck.worker_id.is_not(None))).all()
    for ck in rows:
        for row in db.session.execute(ATT.where(A.worker_id == ck.worker_id, A.check_in <= ck.at,
                                                A.check_out >= ck.at)):
            check_sighting(row, "inspection_check", ck.id, ck.at, None, None, ck.site_id)
    db.session.commit()
    step(len(rows))
