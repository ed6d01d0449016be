"""The trust list and the status list: what an offline verifier needs, signed by the regulator.

The trust list carries every signing key ever used for certificates (active, retired or
compromised) with its organisation and that organisation's accreditation periods, so a verifier
can decide ``issuer_not_accredited`` at signing time, and every category with the spans in which
a review falling due is not required (``no_review``), so it can decide ``review_overdue``. The
status list carries revoked and suspended serials and, for each compromised key, a digest of each
token the registry recorded it signing before the compromise (never serials alone: whoever holds
the stolen key can sign fresh claims under a listed serial). Both carry ``issued_at`` so a cached
copy's age is known. Reads only; signing is the signer's.
"""
from __future__ import annotations

from datetime import UTC

from sqlalchemy import and_, or_, select

from certificates import token as tok
from certificates.keys import list_key
from certificates.models import Certificate, CertificateToken, SigningKey
from training.catalogue import load_catalogue
from training.clock import CHINA
from training.db import db, utcnow
from training.parties.models import Accreditation


def _rfc3339(dt) -> str | None:
    return dt.replace(tzinfo=UTC).isoformat() if dt else None


def accreditation_periods(org_id: str, session=None) -> list[dict]:
    """Inclusive China-date periods during which the body was active for each category."""
    out = []
    session = db.session if session is None else session
    for acc in session.scalars(select(Accreditation).where(Accreditation.organization_id == org_id)):
        spans, start = [], acc.valid_from
        for ev in acc.events[1:]:
            day = (ev.at + CHINA).date()
            if ev.status == "active" and start is None:
                start = max(day, acc.valid_from)
            elif ev.status != "active" and start is not None:
                spans.append((start, min(day, acc.valid_until)))
                start = None
        if start is not None:
            spans.append((start, acc.valid_until))
        for cat in acc.categories:
            out += [{"category": cat.category, "valid_from": str(a), "valid_until": str(b)}
                    for a, b in spans if a <= b]
    return sorted(out, key=lambda p: (p["category"], p["valid_from"]))


def _key_entry(key: SigningKey, session) -> dict:
    return {"kid": tok.b64url_encode(bytes(key.kid)), "alg": "EdDSA", "crv": "Ed25519",
            "x": tok.b64url_encode(bytes(key.public_key)), "organization_id": key.organization_id,
            "organization_name": key.organization.name,
            "accreditations": accreditation_periods(key.organization_id, session),
            "not_before": _rfc3339(key.not_before), "not_after": _rfc3339(key.not_after),
            "status": key.status, "compromised_at": _rfc3339(key.compromised_at)}


def _category_entry(catalogue, cat) -> dict:
    """A category with the spans (inclusive China dates; null: open) in which a review falling
    due is not required, so an offline verifier never calls a lapsed review overdue where the
    rules in force that day have none."""
    spans = [[str(start), None if until is None else str(until)]
             for start, until in catalogue.no_review(cat.code)]
    return {"code": cat.code, "token_code": cat.token_code, "name": cat.name, "no_review": spans}


def trust_document(signing: SigningKey | None = None, session=None) -> dict:
    """The trust list's content, unsigned: what online verification indexes directly. Read
    through ``session`` (default: the app's)."""
    session = db.session if session is None else session
    keys = session.scalars(select(SigningKey).where(SigningKey.purpose == "certificates")
                              .order_by(SigningKey.not_before)).all()
    catalogue = load_catalogue()
    cats = sorted(catalogue.categories.values(), key=lambda c: c.token_code)
    doc = {"issued_at": _rfc3339(utcnow()), "version": 1,
           "categories": [_category_entry(catalogue, c) for c in cats],
           "keys": [_key_entry(k, session) for k in keys]}
    if signing is not None:
        doc["issuer"] = {"organization_id": signing.organization_id,
                         "organization_name": signing.organization.name,
                         "kid": tok.b64url_encode(bytes(signing.kid)),
                         "x": tok.b64url_encode(bytes(signing.public_key))}
    return doc


def trust_list(signer) -> dict:
    signing = list_key(signer)
    return signer.sign_document(signing, trust_document(signing))


def compromised_keys(session=None) -> list[dict]:
    """Each compromised key with the tokens the registry recorded it signing before the compromise,
    pinned by digest (``pinned_tokens``): never by serial, which a thief holding the key can sign
    any claims under."""
    out = []
    session = db.session if session is None else session
    for key in session.scalars(select(SigningKey).where(SigningKey.status == "compromised")):
        out.append({"kid": tok.b64url_encode(bytes(key.kid)), "compromised_at": _rfc3339(key.compromised_at),
                    "pinned_tokens": pinned_tokens(_token_hashes(key, session))})
    return out


def _token_hashes(key: SigningKey, session) -> list[bytes]:
    t = CertificateToken.__table__.c
    # A row without a kid predates the column: any key of its issuer may have signed it, and a
    # pin of another key's token is harmless (the digest covers the kid), only a few bytes more.
    unattributed = and_(t.kid.is_(None), t.serial.in_(
        select(Certificate.serial).where(Certificate.issuer_id == key.organization_id)))
    return session.scalars(select(t.token_hash).where(
        or_(t.kid == key.kid, unattributed), t.signed_at < key.compromised_at)).all()


def pinned_tokens(token_hashes) -> dict:
    """The pins of tokens given by their registry hashes (SHA-256 of the token's bytes), in the
    status list's packed form: sorted, without repeats, concatenated, one base64url string, so a
    province's 100,000 tokens take about 2 MB (docs/certificates.md)."""
    pins = sorted({bytes(h)[:tok.PIN_BYTES] for h in token_hashes})
    return {"digest": tok.PIN_DIGEST, "count": len(pins), "digests": tok.b64url_encode(b"".join(pins))}


def status_list(signer) -> dict:
    signing = list_key(signer)
    rows = db.session.execute(select(Certificate.serial, Certificate.status, Certificate.status_at)
                              .where(Certificate.status.in_(("revoked", "suspended")))
                              .order_by(Certificate.serial)).all()
    doc = {"issued_at": _rfc3339(utcnow()), "version": 1,
           "revoked": [{"serial": s, "at": _rfc3339(at)} for s, st, at in rows if st == "revoked"],
           "suspended": [{"serial": s, "at": _rfc3339(at)} for s, st, at in rows if st == "suspended"],
           "compromised_keys": compromised_keys()}
    return signer.sign_document(signing, doc)
