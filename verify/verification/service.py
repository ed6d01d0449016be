"""Online verification: the pure verdict, then the registry, the certificate's status and the
findings that stand against it; and the scan record when an inspector's key asks.

The hot path: one signature check and one indexed lookup (``db.FastRead`` on the autocommit
engine ``db.reader(replica=True)``: the replica when ``DATABASE_REPLICA_URL`` is set), no ORM
session, no transaction, no objects, nothing rendered. The trust list is indexed once per process and
re-read only when the key table's generation (bumped on any key or accreditation change) moves;
the generation is read on every verification, so a change is seen at once by every worker.
"""
from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from certificates.keys import GENERATION
from certificates.lists import compromised_keys, trust_document
from certificates.models import Certificate, CertificateToken
from certificates.token import extract_token
from training.catalogue import load_catalogue
from training.clock import CHINA
from training.db import FastRead, db, reader, utcnow
from training.db.models import Meta
from training.parties.models import Organization
from training.people.models import Worker
from verify.verification.verdict import StatusIndex, TrustIndex, check_token

PRIVILEGED = ("inspectorate", "regulator")
_EPOCH = datetime(1970, 1, 1)
_C, _T, _O, _W = (Certificate.__table__.c, CertificateToken.__table__.c, Organization.__table__.c,
                  Worker.__table__.c)
_GEN = FastRead(select(Meta.__table__.c.value).where(Meta.__table__.c.key == GENERATION))
# The registry's row for a token, with the key table's generation riding along: one round trip
# for a registered token (a second, for the generation alone, only when there is no row).
_REGISTRY = FastRead(select(_C.serial, _C.status, _C.valid_until, _C.review_due, _C.open_findings,
                             _C.confirmed_findings, _C.category, _C.issued_at, _C.issuer_id, _O.name, _W.name,
                             _W.id_masked, _C.worker_id, _C.rules, _GEN.stmt.scalar_subquery().label("generation"))
                      .select_from(CertificateToken.__table__.join(Certificate.__table__, _C.serial == _T.serial)
                                   .join(Organization.__table__, _O.id == _C.issuer_id)
                                   .join(Worker.__table__, _W.id == _C.worker_id))
                      .where(_T.token_hash == bindparam("h")))


@dataclass
class Outcome:
    result: str
    reasons: tuple[str, ...]
    certificate: dict | None = None
    serial: str | None = None
    token_hash: bytes | None = None
    worker_id: str | None = None
    extra: dict = field(default_factory=dict)


class KeyTable:
    """This process's index of the trust list (and compromised keys' pinned tokens)."""

    def __init__(self):
        self._lock = threading.Lock()
        self.generation = None
        self.trust: TrustIndex | None = None
        self.status: StatusIndex | None = None

    def current(self, generation: int | None = None) -> tuple[TrustIndex, StatusIndex]:
        """The indexes, re-read if the generation (read through the session unless given) moved."""
        if generation is None:
            generation = db.session.execute(_GEN.stmt).scalar()
        generation = generation or 0
        if generation != self.generation or self.trust is None:
            with self._lock:
                self._reload(generation)
        return self.trust, self.status

    def _reload(self, generation: int) -> None:
        # Read on the autocommit engine, in a session of its own: the caller's session keeps
        # whatever transaction it has (or has none), and on SQLite the read takes no write
        # lock, so it neither waits behind a writer (a long batch, a test's own transaction)
        # nor holds one up. A key change that commits half-way through moves the generation
        # again, and the next verification reads it all anew.
        with Session(reader()) as session:
            doc = trust_document(session=session)
            status = {"issued_at": doc["issued_at"], "revoked": [], "suspended": [],
                      "compromised_keys": compromised_keys(session)}
        self.trust = TrustIndex.from_document(doc)
        self.status = StatusIndex.from_document(status)
        self.generation = generation


def mask_name(name: str) -> str:
    if len(name) <= 1:
        return name
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]


def _certificate(row, privileged: bool) -> dict:
    catalogue = load_catalogue()
    cat = catalogue.category(row.category)
    out = {"serial": row.serial, "category": row.category, "category_name": cat.name if cat else row.category,
           "holder_name": row[10] if privileged else mask_name(row[10]), "holder_id_masked": row.id_masked,
           "issuer": {"id": row.issuer_id, "name": row[9]}, "valid_until": str(row.valid_until),
           "review_due": str(row.review_due), "rules": row.rules,
           "review_required": catalogue.review_required(row.category, row.review_due)}
    if privileged:
        out.update(worker_id=row.worker_id, issued_at=row.issued_at.isoformat() + "+00:00",
                   open_findings=row.open_findings, confirmed_findings=row.confirmed_findings)
    return out


def verify_text(text: str, table: KeyTable, caller_kind: str | None, now: datetime | None = None) -> Outcome:
    """The online verdict for any scanned text; never raises for bad input."""
    now = now or utcnow()
    ours, token = extract_token(text if isinstance(text, str) else "")
    if not ours:
        return Outcome("not_ours", ("not_our_code",))
    if token is None:
        return Outcome("forged", ("malformed_token",))
    digest = hashlib.sha256(token).digest()
    engine = reader(replica=True)
    row = _REGISTRY.first(engine, h=digest)
    generation = row.generation if row is not None else (_GEN.first(engine) or (0,))[0]
    trust, status = table.current(generation)
    pure = check_token(token, trust, status, int((now - _EPOCH).total_seconds()))
    if pure.result == "forged":
        return Outcome("forged", pure.reasons, token_hash=digest)
    if row is None:
        return Outcome("unregistered", ("not_in_registry", "signature_valid"), serial=pure.claims.serial_text,
                       token_hash=digest, extra={"issuer_id": pure.claims.issuer_id})
    privileged = caller_kind in PRIVILEGED
    result, reasons = _standing(row, pure.result, privileged, (now + CHINA).date())
    return Outcome(result, reasons, _certificate(row, privileged), row.serial, digest, row.worker_id)


def _standing(row, pure_result: str, privileged: bool, today) -> tuple[str, tuple[str, ...]]:
    checked = ("signature_valid", "registry_checked")
    if row.status == "revoked":
        return "revoked", ("certificate_revoked",) + checked
    if row.status == "suspended":
        return "suspended", ("certificate_suspended",) + checked
    if pure_result == "issuer_not_accredited":
        return "issuer_not_accredited", ("issuer_not_accredited",) + checked
    if row.valid_until < today:
        return "expired", ("certificate_expired",) + checked
    if load_catalogue().review_missed(row.category, row.review_due, today):
        return "review_overdue", ("review_overdue",) + checked
    if row.confirmed_findings:
        return "suspect", ("findings_confirmed",) + checked
    if privileged and row.open_findings:
        return "suspect", ("findings_open",) + checked
    return "valid", checked
