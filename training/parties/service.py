"""Parties and people: organisations, API keys, accreditation, sites, workers and trainers.

Each function checks policy, does its work in the caller's transaction (the view or command
commits) and raises a domain error when it must refuse, so a refusal leaves nothing behind.
"""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import bindparam, select

from training.accounts.api_keys import Caller, bind_minted, make_key, revoke_minted
from training.catalogue import EMPLOYER_KINDS
from training.db import audit, db, utcnow
from training.errors import Conflict, Forbidden, NotFound, Unprocessable, field_error
from training.parties.models import (
    Accreditation,
    AccreditationCategory,
    AccreditationEvent,
    ApiKey,
    Organization,
    Site,
)
from training.signals import accreditation_changed
from training.web.http import get_or_404


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
