"""What a worker's training records add up to.

``evidence_for`` answers what issuance needs: credited hours (voided records and overlapping hours
credited to neither, the record entered first keeping them between two organisations, at most
``DAILY_CAP_HOURS`` per China calendar day), when the required hours were complete, and the exam
that qualifies, if any; a skill certificate of a matching trade stands for the hours under the 2026
rules (``waiver_for``). The reads are shared with the fraud rules (``records_of``, ``waivers_of``),
so that both weigh the same rows.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import Row, bindparam, select

from training import clock
from training.catalogue import Category, load_catalogue
from training.db import db, utcnow
from training.evidence.models import Attendance, Credential, Exam, TrainingSession

DAILY_CAP_HOURS = 8.0
_A, _S, _E = Attendance.__table__.c, TrainingSession.__table__.c, Exam.__table__.c


@dataclass
class Evidence:
    category: str
    required_hours: float
    credited_hours: float = 0.0
    hours_completed_at: datetime | None = None
    exam: Row | None = None  # the qualifying exam: id, taken_at, passed
    waived_by: str | None = None  # the skill certificate that stood for the hours (2026 rules)
    attempts_since_training: int = 0
    problems: list[str] = field(default_factory=list)
    attendance_ids: list[str] = field(default_factory=list)
    exam_ids: list[str] = field(default_factory=list)
    # The rows weighed, as read in this transaction: issuance hands them to the evidence rule
    # (verify.rules.certificates), which would otherwise read the same rows again.
    attendance_rows: list = field(default_factory=list, repr=False)
    exam_rows: list = field(default_factory=list, repr=False)

    @property
    def exam_id(self):
        return self.exam.id if self.exam else None

    @property
    def exam_passed_at(self):
        return self.exam.taken_at if self.exam else None


def _org_of(a) -> str | None:
    """The organisation that recorded an attendance: a row's column, or an ORM record's session."""
    org = getattr(a, "organization_id", None)
    return org if org is not None or not hasattr(a, "session") else a.session.organization_id


def _cuts(mine, other) -> bool:
    """Does ``other`` take the hours it overlaps away from ``mine``? Within one organisation both
    lose them. Between two, the record entered first keeps them: the later one was written into
    time another organisation had already accounted for, and cannot erase that record's hours."""
    if mine[3] == other[3] or mine[4] is None or other[4] is None:
        return True
    return (other[4], other[2]) < (mine[4], mine[2])


def credited_pieces(records: list[Attendance]) -> dict[str, list[tuple[datetime, datetime]]]:
    """Per attendance id, the stretches credited: overlaps with the worker's other attendance
    removed (``_cuts``), then at most DAILY_CAP_HOURS per China calendar day, earliest first."""
    spans = sorted(((a.check_in, a.check_out, a.id, _org_of(a), getattr(a, "created_at", None))
                    for a in records), key=lambda s: (s[0], s[2]))
    free: list[tuple[datetime, datetime, str]] = []
    for i, (start, end, ident, *_) in enumerate(spans):
        cuts = sorted((max(o[0], start), min(o[1], end)) for j, o in enumerate(spans)
                      if j != i and o[0] < end and o[1] > start and _cuts(spans[i], o))
        cursor = start
        for s, e in cuts:
            if s > cursor:
                free.append((cursor, s, ident))
            cursor = max(cursor, e)
        if cursor < end:
            free.append((cursor, end, ident))
    free.sort()
    used: dict[datetime, float] = {}
    out: dict[str, list[tuple[datetime, datetime]]] = {a.id: [] for a in records}
    for start, end, ident in free:
        while start < end:
            stop = min(end, clock.day_end_of(start))
            day = clock.day_end_of(start)
            room = DAILY_CAP_HOURS - used.get(day, 0.0)
            take = min((stop - start).total_seconds() / 3600, max(room, 0.0))
            if take > 0:
                out[ident].append((start, start + timedelta(hours=take)))
                used[day] = used.get(day, 0.0) + take
            start = stop
    return out


def worker_attendance(worker_id: str) -> list[Attendance]:
    return db.session.scalars(select(Attendance).where(
        Attendance.worker_id == worker_id, Attendance.voided_at.is_(None))).all()


_ATTENDANCE = (select(_A.id, _A.check_in, _A.check_out, _S.category, _S.kind, _S.organization_id, _A.created_at)
               .join_from(Attendance.__table__, TrainingSession.__table__, _S.id == _A.session_id, isouter=True)
               .where(_A.worker_id == bindparam("worker_id"), _A.voided_at.is_(None)))


_EXAMS = (select(_E.id, _E.taken_at, _E.passed)
          .where(_E.worker_id == bindparam("worker_id"), _E.category == bindparam("category"),
                 _E.voided_at.is_(None))
          .order_by(_E.taken_at))


# The same reads for many workers at once (batch issuance), with the worker's id first.
_ATTENDANCE_OF = (select(_A.worker_id, _A.id, _A.check_in, _A.check_out, _S.category, _S.kind,
                          _S.organization_id, _A.created_at)
                  .join_from(Attendance.__table__, TrainingSession.__table__, _S.id == _A.session_id, isouter=True)
                  .where(_A.worker_id.in_(bindparam("worker_ids", expanding=True)), _A.voided_at.is_(None)))


_EXAMS_OF = (select(_E.worker_id, _E.category, _E.id, _E.taken_at, _E.passed)
             .where(_E.worker_id.in_(bindparam("worker_ids", expanding=True)), _E.voided_at.is_(None))
             .order_by(_E.taken_at))


# Vocational-skill certificates recorded as evidence (training/evidence/credentials.py): under rules with a
# training waiver, one valid on the day of the exam stands for the training hours.
_K = Credential.__table__.c


_WAIVERS_OF = (select(_K.worker_id, _K.category, _K.id, _K.state, _K.issued_on, _K.valid_until)
               .where(_K.worker_id.in_(bindparam("worker_ids", expanding=True)), _K.kind == "skill_certificate",
                      _K.voided_at.is_(None))
               .order_by(_K.created_at, _K.id))


def waivers_of(worker_ids) -> dict:
    """{(worker id, category): [the skill certificate that counts]} for many workers, in one read.
    The latest non-void record of a category counts (as ``credentials.current_credential`` has
    it), so one recorded ``valid`` and later recorded ``revoked`` waives nothing; a pair whose
    latest record is not ``valid`` is absent. Whether it covers a day is ``waiver_on``'s."""
    latest: dict = {}
    ids = sorted(set(worker_ids))
    if ids:
        for row in _read(_WAIVERS_OF, worker_ids=ids):
            latest[(row.worker_id, row.category)] = row  # oldest first: the last one stays
    return {key: [row] for key, row in latest.items() if row.state == "valid"}


def waiver_on(waivers, day) -> Row | None:
    """The skill certificate of ``waivers`` valid on the China day ``day``, if any."""
    return next((w for w in waivers if w.issued_on <= day and (w.valid_until is None or day <= w.valid_until)), None)


def waiver_for(cat: Category, waivers, at: datetime) -> Row | None:
    """The skill certificate standing for the hours of an exam taken ``at`` (stored time) under
    ``cat``'s rules: only rules with a training waiver have one."""
    return waiver_on(waivers, clock.day(at)) if cat.training_waiver else None


def required_hours(catalogue, category: str, stretches) -> float:
    """A course's hours are those of the rules in force on the day it began (its first credited
    stretch; today when none is)."""
    start = stretches[0][0] if stretches else utcnow()
    return float(catalogue.at(start).category(category).initial_hours)


def records_of(worker_ids) -> tuple[dict, dict]:
    """({worker id: its rows as ``_ATTENDANCE`` reads them}, {(worker id, category): its rows as
    ``_EXAMS`` reads them, in taken order}) for many workers, in two reads."""
    attendance: dict = {}
    exams: dict = {}
    ids = sorted(set(worker_ids))
    if ids:
        for row in _read(_ATTENDANCE_OF, worker_ids=ids):
            attendance.setdefault(row.worker_id, []).append(row)
        for row in _read(_EXAMS_OF, worker_ids=ids):
            exams.setdefault((row.worker_id, row.category), []).append(row)
    return attendance, exams


def _read(stmt, **params) -> list:
    """Rows of one of the statements above, seeing this transaction's pending changes as the
    ORM's own queries would (plain statements do not flush the session by themselves)."""
    if db.session.autoflush:
        db.session.flush()
    return db.session.execute(stmt, params).all()


def _hours(pieces) -> float:
    return sum((e - s).total_seconds() for s, e in pieces) / 3600


def training_hours(worker_id: str, category: str, kinds=("initial",), since: datetime | None = None,
                   records: list | None = None):
    """(credited hours, [(start, end)] credited stretches in order, attendance ids) for a category;
    ``records``: the worker's non-void attendance as ``_ATTENDANCE`` reads it, if already read."""
    if records is None:
        records = _read(_ATTENDANCE, worker_id=worker_id)
    pieces = credited_pieces(records)
    mine = [a for a in records if a.category == category and a.kind in kinds
            and (since is None or a.check_in >= since)]
    stretches = sorted(p for a in mine for p in pieces[a.id])
    return _hours(stretches), stretches, [a.id for a in mine]


def _completion(stretches, required: float) -> datetime | None:
    total = 0.0
    for start, end in stretches:
        span = (end - start).total_seconds() / 3600
        if total + span >= required - 1e-9:
            return start + timedelta(hours=required - total)
        total += span
    return None


def evidence_for(worker_id: str, category: str, as_of: datetime | None = None, *,
                 attendance: list | None = None, exams: list | None = None, waivers: list | None = None) -> Evidence:
    """``attendance``, ``exams`` and ``waivers``: the rows ``_ATTENDANCE``, ``_EXAMS`` and
    ``waivers_of`` would read for this worker (and category, for exams and waivers; in their
    order), when already read (batch issuance reads them for many workers at once).

    Each figure is the one of the rules in force when it mattered (docs/rules.md): the hours of
    the day the course began, and for each exam the retakes, the waiver and how long a pass
    stands of the day it was taken."""
    catalogue = load_catalogue()
    as_of = as_of or utcnow()
    ev = Evidence(category=category, required_hours=0.0)
    ev.attendance_rows = _read(_ATTENDANCE, worker_id=worker_id) if attendance is None else attendance
    ev.credited_hours, stretches, ev.attendance_ids = training_hours(worker_id, category,
                                                                     records=ev.attendance_rows)
    ev.credited_hours = round(ev.credited_hours, 2)
    ev.required_hours = required_hours(catalogue, category, stretches)
    ev.hours_completed_at = _completion(stretches, ev.required_hours)
    exams = ev.exam_rows = _read(_EXAMS, worker_id=worker_id, category=category) if exams is None else exams
    ev.exam_ids = [e.id for e in exams]
    if waivers is None:
        waivers = waivers_of([worker_id]).get((worker_id, category), [])
    qualifying, early, beyond, stale = _weigh_exams(exams, stretches, ev.hours_completed_at, category, catalogue,
                                                    as_of, ev, waivers)
    ev.exam = qualifying
    if ev.hours_completed_at is None and ev.waived_by is None and not (
            qualifying is None and waiver_for(catalogue.at(as_of).category(category), waivers, as_of)):
        ev.problems.append("insufficient_hours")
    if qualifying is None:
        if early:
            ev.problems.append("exam_before_training")
        if stale:
            ev.problems.append("exam_expired")
        if beyond:
            ev.problems.append("retake_beyond_limit")
        if not (early or stale or beyond):
            ev.problems.append("no_passed_exam")
    return ev


def _weigh_exams(exams, stretches, completed_at, code: str, catalogue, as_of, ev: Evidence, waivers):
    """Sort passes into qualifying, taken before the hours were complete (and with no skill
    certificate standing for them), beyond the retakes allowed since the last training, or older
    than the pass stays good: each by the rules in force on the day the exam was taken."""
    qualifying = None
    early = beyond = stale = False
    for i, exam in enumerate(exams):
        cat: Category = catalogue.at(exam.taken_at).category(code)
        last_training = max((e for s, e in stretches if e <= exam.taken_at), default=None)
        attempts = sum(1 for x in exams[: i + 1] if last_training is None or x.taken_at >= last_training)
        ev.attempts_since_training = attempts
        if not exam.passed:
            continue
        trained = completed_at is not None and exam.taken_at >= completed_at
        waiver = None if trained else waiver_for(cat, waivers, exam.taken_at)
        if not trained and waiver is None:
            early = True
        elif cat.sittings_beyond(attempts):
            beyond = True
        elif as_of - exam.taken_at > timedelta(days=round(cat.exam_valid_months * 30.44)):
            stale = True
        else:
            qualifying, ev.waived_by = exam, waiver.id if waiver is not None else None
    return qualifying, early and qualifying is None, beyond and qualifying is None, stale and qualifying is None


# What weighing the evidence reads, as plain rows: the ORM's objects (with their joined session)
# cost several times the query itself on the issuance path. The statements are built once; the
# outer join is the one the ORM's joined load made, so rows come back in the order they did
# (the snapshot lists attendance ids in that order).
