"""Parties and people: organisations, API keys, accreditation, sites, workers and trainers.

Each function checks policy, does its work in the caller's transaction (the view or command
commits) and raises a domain error when it must refuse, so a refusal leaves nothing behind.
"""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import bindparam, select
from sqlalchemy.exc import IntegrityError

from training import audit
from training.auth import Caller, bind_minted, make_key, revoke_minted
from training.catalogue import EMPLOYER_KINDS
from training.db import db, utcnow
from training.errors import Conflict, Forbidden, NotFound, Unprocessable, field_error
from training.identity import IdentityProtector, home_region, mask_id_number
from training.lookups import same_name
from training.models import (
    Accreditation,
    AccreditationCategory,
    AccreditationEvent,
    ApiKey,
    Organization,
    Site,
    Trainer,
    Worker,
)
from training.signals import accreditation_changed


def get_or_404(model, ident: str, what: str):
    obj = db.session.get(model, ident) if isinstance(ident, str) and len(ident) <= 16 else None
    if obj is None:
        raise NotFound(f"No {what} with id {ident!r}." if isinstance(ident, str) and len(ident) <= 40
                       else f"No such {what}.")
    return obj


def create_organization(data: dict) -> Organization:
    if db.session.scalar(select(Organization.id).where(Organization.credit_code == data["credit_code"])):
        raise Conflict("An organisation with this unified social credit code is already registered.")
    org = Organization(name=data["name"], kind=data["kind"], credit_code=data["credit_code"],
                       region=data.get("region"),
                       industry=data.get("industry", "other") if data["kind"] in EMPLOYER_KINDS else None)
    db.session.add(org)
    db.session.flush()
    return org


def issue_api_key(org: Organization, data: dict, caller: Caller | None) -> tuple[ApiKey, str]:
    if caller is not None and caller.kind != "regulator" and caller.org_id != org.id:
        raise Forbidden("Only a regulator may issue keys for another organisation.")
    expires = data.get("expires_at")
    if expires is not None and expires <= utcnow():
        raise Unprocessable("The expiry is in the past.",
                            [field_error("expires_at", "range", "Must be in the future.")])
    key_id, full, digest = make_key()
    holder = data.get("holder") or {}
    key = ApiKey(id=key_id, organization_id=org.id, secret_hash=digest, expires_at=expires,
                 holder_name=holder.get("name"), holder_badge=holder.get("badge"))
    db.session.add(key)
    db.session.flush()
    bind_minted(key, caller)
    audit.record("api_key.issued", actor_org=caller and caller.org_id, actor_key=caller and caller.key_id,
                 subject=key_id, detail={"organization_id": org.id, "holder": holder.get("badge")})
    return key, full


def revoke_api_key(key_id: str, caller: Caller) -> ApiKey:
    key = get_or_404(ApiKey, key_id, "API key")
    if caller.kind != "regulator" and key.organization_id != caller.org_id:
        raise NotFound(f"No API key with id {key_id!r}.")
    if key.revoked_at is None:
        key.revoked_at = utcnow()
        audit.record("api_key.revoked", actor_org=caller.org_id, actor_key=caller.key_id, subject=key_id)
    revoke_minted(key_id, caller)
    return key


def accredit(org: Organization, data: dict, caller: Caller) -> Accreditation:
    if org.kind not in ("training_body", "exam_centre"):
        raise Unprocessable("Only training bodies and exam centres are accredited.",
                            [field_error("organization_id", "not_allowed",
                                         f"This organisation is a {org.kind}.")])
    acc = Accreditation(organization_id=org.id, valid_from=data["valid_from"],
                        valid_until=data["valid_until"], status="active")
    acc.categories = [AccreditationCategory(category=c) for c in sorted(set(data["categories"]))]
    acc.events = [AccreditationEvent(status="active", reason="accredited", by_key_id=caller.key_id)]
    db.session.add(acc)
    db.session.flush()
    audit.record("accreditation.granted", actor_org=caller.org_id, actor_key=caller.key_id,
                 subject=acc.id, detail={"organization_id": org.id, "categories": data["categories"]})
    accreditation_changed.send(acc)
    return acc


def change_accreditation(acc: Accreditation, data: dict, caller: Caller) -> Accreditation:
    if acc.status == "withdrawn":
        raise Conflict("A withdrawn accreditation stays withdrawn; grant a new one instead.")
    acc.status = data["status"]
    acc.events.append(AccreditationEvent(status=data["status"], reason=data["reason"],
                                         by_key_id=caller.key_id))
    db.session.flush()
    audit.record("accreditation.changed", actor_org=caller.org_id, actor_key=caller.key_id,
                 subject=acc.id, detail={"status": data["status"], "reason": data["reason"]})
    accreditation_changed.send(acc)
    return acc


def accredited(org_id: str, category: str, on: date | datetime) -> bool:
    """Was the organisation actively accredited for the category on that day (as things stand now)?"""
    day = on.date() if isinstance(on, datetime) else on
    return db.session.scalar(_ACCREDITED, {"org_id": org_id, "category": category, "day": day}) is not None


_ACCREDITED = (select(Accreditation.id).join(AccreditationCategory)
               .where(Accreditation.organization_id == bindparam("org_id"),
                      AccreditationCategory.category == bindparam("category"), Accreditation.status == "active",
                      Accreditation.valid_from <= bindparam("day"), Accreditation.valid_until >= bindparam("day"))
               .limit(1))


def create_site(data: dict, caller: Caller) -> Site:
    enterprise_id = data.get("enterprise_id")
    if enterprise_id is None and caller.kind == "enterprise":
        enterprise_id = caller.org_id
    if enterprise_id is not None:
        ent = db.session.get(Organization, enterprise_id)
        if ent is None or ent.kind not in EMPLOYER_KINDS:
            raise Unprocessable("No such enterprise.", [field_error("enterprise_id", "not_found",
                                                                    "No employing organisation with this id.")])
        if caller.kind == "enterprise" and enterprise_id != caller.org_id:
            raise Forbidden("An enterprise records only its own sites.")
    site = Site(name=data["name"], enterprise_id=enterprise_id, latitude=data["latitude"],
                longitude=data["longitude"], risk_class=data.get("risk_class", "normal"),
                created_by=caller.org_id)
    db.session.add(site)
    db.session.flush()
    return site


def register_person(model, data: dict, protector: IdentityProtector, caller: Caller | None):
    """Register a worker or trainer once by identity number: (person, created?). A number
    already registered answers its person only with the person's name (``409`` ``name_mismatch``
    otherwise): registration must not hand anyone a stranger's record for a guessed number.
    Callers count the lookup first (``training.lookups.count``)."""
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
