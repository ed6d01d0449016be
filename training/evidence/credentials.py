"""Credentials a worker holds from outside this service, recorded as evidence (docs/credentials.md).

A vocational-skill certificate (``skill_certificate``, 职业技能等级证书) of a matching trade stands
for the training hours under the 2026 rules (``training.evidence.service.waivers_of`` reads them); the national
licence (``national_licence``, 特种作业操作证) is referenced with the state its recorder found on
the national platform on ``checked_on``, and pre-start checks show it (``current_credential``).
Exam centres and regulators record them; a record is corrected by voiding it and recording again,
and the latest non-void record of a kind and category is the one that counts.

Must not: store, log, audit or answer a licence's full number. It is ``T`` + the holder's identity
number: it is compared with the worker's keyed hash (the comparison counted as a lookup by number,
so that it is no oracle) and only ``T`` + the masked form is kept. Nor present itself as the
national query: a licence here is what someone recorded, never an answer of the national platform.
"""
from __future__ import annotations

from datetime import date

from flask import current_app
from sqlalchemy import bindparam, or_, select

from training import clock
from training.accounts.api_keys import Caller, current_caller, require
from training.db import audit, db, utcnow
from training.errors import Conflict, Forbidden, NotFound, Unprocessable, field_error
from training.evidence.models import Credential
from training.evidence.schemas import CredentialCreateRequestSchema, CredentialSchema, VoidRequestSchema, licence_number
from training.parties.models import Organization
from training.people import lookups
from training.people.models import Worker
from training.people.protector import IdentityProtector
from training.signals import record_voided
from training.web import API, bp
from training.web.http import get_or_404, idempotent, json_body, json_response, paginate, write
from training.web.openapi import doc
from training.web.schemas import ListOf

RECORDER_KINDS = ("exam_centre", "regulator")
READER_KINDS = ("regulator", "inspectorate", "exam_centre", "training_body")
BLOCKING_STATES = ("suspended", "revoked", "expired")


# --- the work ------------------------------------------------------------------------------------


def _licence_refused(code: str, message: str) -> Unprocessable:
    return Unprocessable("The licence number is not the worker's.", [field_error("number", code, message)])


def _masked_licence(worker: Worker, typed: str, caller: Caller | None, protector: IdentityProtector) -> str:
    """``T`` + the worker's masked identity number, once the typed licence number is shown to be
    ``T`` + the worker's own number; 422 ``licence_number_mismatch`` otherwise (the message never
    carries either number). Counted first: a yes or no on a guessed number is a lookup by it."""
    number = licence_number(typed)[1:]
    lookups.count([number], caller, protector)
    if not protector.matches(number, worker.id_hash):
        raise _licence_refused("licence_number_mismatch",
                               "A national licence number is T and the holder's own identity number; "
                               "this one is not this worker's.")
    return "T" + worker.id_masked


def record_credential(worker: Worker, data: dict, caller: Caller, protector: IdentityProtector) -> Credential:
    """Record one credential of ``worker`` as ``caller`` (an exam centre or a regulator) read it."""
    if caller.kind not in RECORDER_KINDS:
        raise Forbidden("Only exam centres and regulators record credentials held from outside this service.")
    number = data["number"]
    if data["kind"] == "national_licence":
        number = _masked_licence(worker, number, caller, protector)
    cred = Credential(worker_id=worker.id, kind=data["kind"], category=data["category"], number=number,
                      state=data["state"], authority=data["authority"], level=data.get("level"),
                      issued_on=data["issued_on"], valid_until=data.get("valid_until"),
                      checked_on=data["checked_on"], recorded_by=caller.org_id, created_by=caller.key_id)
    db.session.add(cred)
    db.session.flush()
    audit.record("credential.recorded", actor_org=caller.org_id, actor_key=caller.key_id, subject=cred.id,
                 detail={"worker_id": worker.id, "kind": cred.kind, "category": cred.category,
                         "state": cred.state, "checked_on": str(cred.checked_on)})
    return cred


def void_credential(cred: Credential, reason: str, caller: Caller) -> Credential:
    """Void a mistaken record: its recorder or a regulator; the record stays, marked."""
    if caller.kind != "regulator" and caller.org_id != cred.recorded_by:
        raise Forbidden("Only the organisation that recorded it (or a regulator) may void this record.")
    if cred.voided_at is not None:
        raise Conflict("This record is already void.")
    cred.voided_at, cred.void_reason = utcnow(), reason
    db.session.flush()
    record_voided.send(cred)  # the rules weigh again what it stood for
    audit.record("credential.voided", actor_org=caller.org_id, actor_key=caller.key_id, subject=cred.id,
                 detail={"worker_id": cred.worker_id, "kind": cred.kind, "category": cred.category,
                         "reason": reason})
    return cred


_CURRENT = (select(Credential)
            .where(Credential.worker_id == bindparam("worker_id"), Credential.kind == bindparam("kind"),
                   Credential.category == bindparam("category"), Credential.created_at < bindparam("until"),
                   or_(Credential.voided_at.is_(None), Credential.voided_at >= bindparam("until")))
            .order_by(Credential.created_at.desc(), Credential.id.desc()).limit(1))


def current_credential(worker_id: str, kind: str, category: str, day: date) -> Credential | None:
    """The record of this kind and category that counts on China day ``day``: the latest one
    recorded by the end of that day and not voided by then (for today: the latest non-void one).
    Its ``state`` is what the recorder found on ``checked_on``, whatever the day asked about."""
    return db.session.scalar(_CURRENT, {"worker_id": worker_id, "kind": kind, "category": category,
                                        "until": clock.day_end(day)})


def as_json(cred: Credential) -> dict:
    org = db.session.get(Organization, cred.recorded_by)  # the session's identity map: one read per org
    return CredentialSchema().dump({**{c.key: getattr(cred, c.key) for c in Credential.__table__.c},
                                    "recorded_by": {"id": org.id, "name": org.name}})


def _credential_of(worker_id: str, cred_id: str) -> Credential:
    cred = get_or_404(Credential, cred_id, "credential")
    if cred.worker_id != worker_id:
        raise NotFound("No credential with this id for this worker.")
    return cred


# --- HTTP ----------------------------------------------------------------------------------------


@bp.post(f"{API}/workers/<worker_id>/credentials")
@doc("Record a credential the worker holds from outside this service: a vocational-skill certificate, or "
     "the national licence as found on the national platform (its number T + the holder's identity number, "
     "kept masked; 422 licence_number_mismatch, number_is_identity)",
     body=CredentialCreateRequestSchema, response=CredentialSchema, status=201, tags=["credentials"],
     errors=("400", "404", "422", "429"))
@require(*RECORDER_KINDS)
@write
@idempotent
def create_credential(worker_id):
    worker = get_or_404(Worker, worker_id, "worker")
    data = CredentialCreateRequestSchema().load(json_body())
    cred = record_credential(worker, data, current_caller(), current_app.extensions["identity"])
    return json_response(as_json(cred), 201)


@bp.get(f"{API}/workers/<worker_id>/credentials")
@doc("A worker's recorded credentials, newest first, voided ones included and marked",
     response=ListOf[CredentialSchema], tags=["credentials"], errors=("400", "404"))
@require(*READER_KINDS)
def list_credentials(worker_id):
    worker = get_or_404(Worker, worker_id, "worker")
    return json_response(paginate(select(Credential).where(Credential.worker_id == worker.id), Credential, as_json))


@bp.post(f"{API}/workers/<worker_id>/credentials/<cred_id>/void", endpoint="void_credential")
@doc("Void a mistaken credential record (its recorder or a regulator)", body=VoidRequestSchema,
     response=CredentialSchema, tags=["credentials"], errors=("400", "404", "409", "422"))
@require(*RECORDER_KINDS)
@write
def void_credential_view(worker_id, cred_id):
    cred = _credential_of(worker_id, cred_id)
    reason = VoidRequestSchema().load(json_body())["reason"]
    return json_response(as_json(void_credential(cred, reason, current_caller())))
