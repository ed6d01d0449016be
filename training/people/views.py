"""The people's API: registering workers (one or a batch) and trainers, and reading one back
(masked)..
"""
from __future__ import annotations

from flask import current_app

from training.accounts.api_keys import current_caller, require
from training.catalogue import EMPLOYER_KINDS
from training.people import lookups, service
from training.people.models import Trainer, Worker
from training.people.schemas import PersonCreateRequestSchema, PersonSchema
from training.web import API, bp
from training.web.batch import run_batch
from training.web.http import get_or_404, idempotent, json_body, json_response, write
from training.web.openapi import doc
from training.web.schemas import (
    BatchRequestSchema,
    BatchResultSchema,
)

PEOPLE_KINDS = ("training_body", "exam_centre", "regulator") + EMPLOYER_KINDS


TRAINER_KINDS = ("training_body", "regulator") + EMPLOYER_KINDS


def _register(model, register):
    data = PersonCreateRequestSchema().load(json_body())
    lookups.count([data["id_number"]], current_caller(), current_app.extensions["identity"])
    person, created = register(data, current_app.extensions["identity"], current_caller())
    return json_response(PersonSchema().dump(person), 201 if created else 200)


@bp.post(f"{API}/workers")
@doc("Register a worker (or find the one already registered)", body=PersonCreateRequestSchema,
     response=PersonSchema, status=201, tags=["people"])
@require(*PEOPLE_KINDS)
@write
@idempotent
def create_worker():
    return _register(Worker, service.register_worker)


@bp.post(f"{API}/workers/batch")
@doc("Register many workers", body=BatchRequestSchema, response=BatchResultSchema, tags=["people"])
@require(*PEOPLE_KINDS)
@write
def create_workers():
    items = BatchRequestSchema().load(json_body())["items"]
    protector, caller = current_app.extensions["identity"], current_caller()
    lookups.count([i.get("id_number") for i in items if isinstance(i, dict) and isinstance(i.get("id_number"), str)],
                  caller, protector)

    def one(item):
        person, created = service.register_worker(PersonCreateRequestSchema().load(item), protector, caller)
        return person.id, 201 if created else 200
    return json_response(run_batch(items, one))


@bp.get(f"{API}/workers/<worker_id>")
@doc("One worker, masked", response=PersonSchema, tags=["people"], errors=("404",))
@require(*PEOPLE_KINDS, "inspectorate")
def get_worker(worker_id):
    return json_response(PersonSchema().dump(get_or_404(Worker, worker_id, "worker")))


@bp.post(f"{API}/trainers")
@doc("Register a trainer (or find the one already registered)", body=PersonCreateRequestSchema,
     response=PersonSchema, status=201, tags=["people"])
@require(*TRAINER_KINDS)
@write
@idempotent
def create_trainer():
    return _register(Trainer, service.register_trainer)


@bp.get(f"{API}/trainers/<trainer_id>")
@doc("One trainer, masked", response=PersonSchema, tags=["people"], errors=("404",))
@require(*TRAINER_KINDS)
def get_trainer(trainer_id):
    return json_response(PersonSchema().dump(get_or_404(Trainer, trainer_id, "trainer")))
