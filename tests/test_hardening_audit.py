"""The audit trail: failed keys and signing-key use are in it, and editing one stored entry is
caught by ``flask audit-verify``."""
from __future__ import annotations

import json

from sqlalchemy import select, update

from certificates.models import Certificate
from tests import factories as f
from tests.certificates.test_issuance import issue, ready_worker
from training.db import db
from training.models import AuditEntry


def _events():
    return [e.event for e in db.session.scalars(select(AuditEntry).order_by(AuditEntry.seq))]


def test_audit_records_failed_key_and_signing_key_use(client):
    w = f.World(client)
    bad = f.Api(client, "az_0123456789abcdef_not-a-real-secret")
    assert bad.get("/api/v1/api-keys").status_code == 401
    cert = issue(w, ready_worker(w)).get_json()
    events = _events()
    assert "auth.failed" in events and "signing_key.created" in events and "certificate.issued" in events
    # Each use of a signing key is its certificate's issued (or reviewed) entry, naming the key.
    used = db.session.scalar(select(AuditEntry).where(AuditEntry.event == "certificate.issued"))
    kid = bytes(db.session.get(Certificate, cert["serial"]).kid).hex()
    assert used.subject == cert["serial"] and json.loads(used.detail)["signing_kid"] == kid
    assert used.actor_org == w.body.id
    failed = db.session.scalar(select(AuditEntry).where(AuditEntry.event == "auth.failed"))
    assert failed.subject == "0123456789abcdef" and "not-a-real-secret" not in failed.detail


def test_audit_verify_fails_after_one_entry_is_edited(client, runner):
    w = f.World(client)
    issue(w, ready_worker(w))
    ok = runner.invoke(args=["audit-verify"])
    assert ok.exit_code == 0 and "intact" in ok.output
    victim = db.session.scalar(select(AuditEntry).where(AuditEntry.event == "certificate.issued"))
    db.session.execute(update(AuditEntry).where(AuditEntry.seq == victim.seq)
                       .values(detail=victim.detail.replace('"signing_kid": "', '"signing_kid": "0')))
    db.session.commit()
    broken = runner.invoke(args=["audit-verify"])
    assert broken.exit_code == 1 and f"BROKEN at entry {victim.seq}" in broken.output
