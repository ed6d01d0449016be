"""Registering workers and trainers: an identity number is normalised, checked against the name
already registered, and kept only as a keyed hash and ciphertext..
"""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from training.accounts.api_keys import Caller
from training.db import db
from training.errors import Conflict, field_error
from training.people.identity import home_region, mask_id_number
from training.people.lookups import same_name
from training.people.models import Trainer, Worker
from training.people.protector import IdentityProtector


def register_person(model, data: dict, protector: IdentityProtector, caller: Caller | None):
    """Register a worker or trainer once by identity number: (person, created?). A number
    already registered answers its person only with the person's name (``409`` ``name_mismatch``
    otherwise): registration must not hand anyone a stranger's record for a guessed number.
    Callers count the lookup first (``training.people.lookups.count``)."""
    number = data["id_number"]
    digest = protector.lookup_hash(number)
    found = db.session.scalar(select(model).where(model.id_hash == digest))
    if found is not None:
        return _same_person(found, data["name"]), False
    person = model(name=data["name"], id_hash=digest, id_cipher=protector.encrypt(number),
                   id_masked=mask_id_number(number), home_region=home_region(number),
                   created_by=caller.org_id if caller else None)
    try:
        with db.session.begin_nested():
            db.session.add(person)
    except IntegrityError:
        # A concurrent registration of the same number won the race: answer with its record.
        return _same_person(db.session.scalar(select(model).where(model.id_hash == digest)), data["name"]), False
    return person, True


def _same_person(found, name: str):
    if not same_name(name, found.name):
        raise Conflict("This identity number is registered under another name; give the name as on the ID card.",
                       [field_error("name", "name_mismatch", "The name does not match the registered person's.")])
    return found


def register_worker(data, protector, caller):
    return register_person(Worker, data, protector, caller)


def register_trainer(data, protector, caller):
    return register_person(Trainer, data, protector, caller)
