"""Standing to record evidence for a worker, and evidence dated after now.

An organisation records attendance only for workers it has standing for: a training body for
workers enrolled in that session (an ``Enrolment``, or the roster of the console class that holds
the session), an employer's induction for workers it employs (an open employment as host, or as
the labour agency or subcontractor in between). Employments live in the higher layer, which this
package may not import: it installs the answer (``install_employment_standing``) at start-up.

Must not: read employments itself, or enrol anyone the caller did not ask to enrol, save the
one implicit case in ``standing_for`` (a body's own registrant).
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta

from flask import Flask, current_app
from sqlalchemy import exists, select
from sqlalchemy.exc import IntegrityError

from training.clock import CHINA
from training.console.models import ClassMember, ClassSession
from training.db import db, utcnow
from training.errors import Forbidden, Unprocessable, field_error
from training.evidence.models import Enrolment, TrainingSession
from training.people.models import Worker

# How far ahead of the server's clock a record may be dated: devices' clocks drift a little,
# and a check-out entered the minute the class ends must not be refused for it.
CLOCK_SKEW = timedelta(minutes=5)
EMPLOYMENT_STANDING = "anzheng.employment_standing"


def install_employment_standing(app: Flask, answer: Callable[[str, str, date], bool]) -> None:
    """``answer(org_id, worker_id, day)``: does the organisation hold an open employment of the
    worker on that China day, as host or in between? Installed by the layer that keeps employments."""
    app.extensions[EMPLOYMENT_STANDING] = answer


def not_in_future(value: datetime, name: str) -> dict | None:
    """The field error for a time after now (beyond the clock skew allowed), or None."""
    if value > utcnow() + CLOCK_SKEW:
        return field_error(name, "in_future", f"{name} is after the present time; evidence of what has "
                                              "not happened yet is not recorded.")
    return None


def employs(org_id: str, worker_id: str, day: date) -> bool:
    answer = current_app.extensions.get(EMPLOYMENT_STANDING)
    return bool(answer and answer(org_id, worker_id, day))  # no answer installed: no standing


def enrolled(session_id: str, worker_id: str) -> bool:
    return db.session.scalar(select(
        exists().where(Enrolment.session_id == session_id, Enrolment.worker_id == worker_id)
        | exists().where(ClassSession.session_id == session_id, ClassMember.class_id == ClassSession.class_id,
                         ClassMember.worker_id == worker_id)))


def standing_for(session: TrainingSession, worker: Worker, check_in: datetime, caller) -> None:
    """Refuse (403, code ``not_employed`` or ``not_enrolled``) attendance the caller has no standing
    to record. A worker the body itself registered (it entered the person's identity number, so the
    person came to it) is enrolled on the spot: that is how a body's own trainees always arrived."""
    if session.kind == "induction":
        if not employs(caller.org_id, worker.id, (check_in + CHINA).date()):
            raise Forbidden("An employer records induction only for workers it employs.", [field_error(
                "worker_id", "not_employed", "No open employment of this worker with your organisation, as host "
                                             "or as the labour agency or subcontractor in between.")])
        return
    if enrolled(session.id, worker.id):
        return
    if worker.created_by != caller.org_id:
        raise Forbidden("A training body records attendance only for workers enrolled in the session.",
                        [field_error("worker_id", "not_enrolled", "This worker is not enrolled in this session: "
                                                                  "enrol them first.")])
    enrol(session, worker.id, caller)


def enrol(session: TrainingSession, worker_id: str, caller) -> tuple[Enrolment, bool]:
    """Enrol a worker in the caller's own training session: (enrolment, created?)."""
    if session.organization_id != caller.org_id:
        raise Forbidden("Only the organisation that runs the session enrols workers in it.")
    if session.kind == "induction":
        raise Unprocessable("Induction stands on employment, not enrolment.", [field_error(
            "session_id", "not_allowed", "Induction sessions take no enrolments: record the employment.")])
    if db.session.get(Worker, worker_id) is None:
        raise Unprocessable("Unknown worker.", [field_error("worker_id", "not_found", "No worker with this id.")])
    found = _enrolment(session.id, worker_id)
    if found is not None:
        return found, False
    row = Enrolment(session_id=session.id, worker_id=worker_id, created_by=caller.key_id)
    try:
        with db.session.begin_nested():
            db.session.add(row)
    except IntegrityError:  # a concurrent enrolment of the same worker won the race
        return _enrolment(session.id, worker_id), False
    return row, True


def _enrolment(session_id: str, worker_id: str) -> Enrolment | None:
    return db.session.scalar(select(Enrolment).where(Enrolment.session_id == session_id,
                                                     Enrolment.worker_id == worker_id))
