"""Key management: which key signs for whom, rotation, and marking a key compromised.

Works only with public parts and rows; making a key pair and signing are the signer's. A rotated
key stays on the trust list as ``retired`` for the certificates it signed; a compromised one
stays as ``compromised``, and only tokens the registry recorded before the compromise pass.
"""
from __future__ import annotations

import secrets

from sqlalchemy import bindparam, select, update

from certificates.models import SigningKey
from training.db import audit, db, utcnow
from training.db.models import Meta
from training.errors import Conflict, NotFound
from training.parties.models import Organization

GENERATION = "signing_keys_generation"


def bump_generation() -> None:
    """Tell every worker process that the key table changed (they re-read it on next use).

    A fresh random value rather than a counter: a restored or rebuilt database can never
    present a value a process already cached against.
    """
    value = secrets.randbelow(2 ** 31 - 1) + 1
    if db.session.get(Meta, GENERATION) is None:
        db.session.add(Meta(key=GENERATION, value=value))
        db.session.flush()
    db.session.execute(update(Meta).where(Meta.key == GENERATION).values(value=value))


_ACTIVE = select(SigningKey).where(SigningKey.organization_id == bindparam("org_id"),
                                   SigningKey.purpose == bindparam("purpose"), SigningKey.status == "active")


def active_key(org_id: str, purpose: str = "certificates") -> SigningKey | None:
    return db.session.scalar(_ACTIVE, {"org_id": org_id, "purpose": purpose})


def ensure_key(org: Organization, signer, purpose: str = "certificates") -> SigningKey:
    key = active_key(org.id, purpose)
    if key is None:
        key = signer.generate(org.id, purpose)
        db.session.add(key)
        db.session.flush()
        bump_generation()
        audit.record("signing_key.created", actor_org=org.id, subject=key.kid.hex(), detail={"purpose": purpose})
    return key


def list_key(signer) -> SigningKey:
    """The regulator's key that signs the trust list, the status list and pre-start receipts."""
    regulator = db.session.scalar(select(Organization).where(Organization.kind == "regulator")
                                  .order_by(Organization.created_at, Organization.id).limit(1))
    if regulator is None:
        raise NotFound("No regulator is registered yet; run the bootstrap command first.")
    return ensure_key(regulator, signer, "lists")


def rotate_key(org: Organization, signer, purpose: str = "certificates", actor=None) -> SigningKey:
    old = active_key(org.id, purpose)
    if old is not None:
        old.status, old.not_after = "retired", utcnow()
        db.session.flush()
    new = ensure_key(org, signer, purpose)
    bump_generation()
    audit.record("signing_key.rotated", actor_org=actor, subject=new.kid.hex(),
                 detail={"organization_id": org.id, "retired": old.kid.hex() if old else None})
    return new


def mark_compromised(kid: bytes, actor=None) -> SigningKey:
    key = db.session.get(SigningKey, kid)
    if key is None:
        raise NotFound("No signing key with this kid.")
    if key.status == "compromised":
        raise Conflict("This key is already marked compromised.")
    now = utcnow()
    key.status, key.compromised_at = "compromised", now
    key.not_after = min(key.not_after or now, now)
    bump_generation()
    audit.record("signing_key.compromised", actor_org=actor, subject=kid.hex(),
                 detail={"organization_id": key.organization_id})
    return key
