"""The audit trail: failed keys and signing-key use are in it; editing one stored entry is caught
by ``flask audit-verify``; and so is a trail edited and re-chained, or cut short, because signed
checkpoints of its head are kept outside the table (the file, the published endpoint)."""
from __future__ import annotations

import json
from datetime import timedelta

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import delete, select, update

from certificates import audit_checkpoints as cp, token as tok
from certificates.models import Certificate
from tests import factories as f
from tests.certificates.test_issuance import issue, ready_worker
from training.db import audit, db, utcnow
from training.db.models import AuditCheckpoint, AuditEntry


@pytest.fixture
def trail(app, tmp_path, monkeypatch):
    """This test's own checkpoint file, and a process that knows of no checkpoint yet."""
    path = tmp_path / "audit-checkpoints.jsonl"
    monkeypatch.setitem(app.config, "AUDIT_CHECKPOINT_FILE", str(path))
    app.extensions.pop("audit_checkpoint_last", None)
    return path


def _events():
    return [e.event for e in db.session.scalars(select(AuditEntry).order_by(AuditEntry.seq))]


def _lines(path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def _entries(n: int, start: int = 0) -> None:
    audit.record_many([{"event": "test.event", "subject": f"s{start + i}", "detail": {"n": start + i}}
                       for i in range(n)])
    db.session.commit()


def _rechain_from(seq: int) -> None:
    """What an attacker with the database does after editing entry ``seq``: recompute every
    later hash, so the chain on its own checks out again."""
    prev = db.session.scalar(select(AuditEntry.hash).where(AuditEntry.seq == seq - 1)) or audit.GENESIS
    for e in db.session.scalars(select(AuditEntry).where(AuditEntry.seq >= seq).order_by(AuditEntry.seq)):
        e.prev_hash = prev
        e.hash = prev = audit._digest(prev, e.seq, e.at, e.event, e.actor_org, e.actor_key, e.subject, e.detail)
    db.session.commit()


def _checkpointed_trail(client, runner) -> tuple[f.Api, list[dict]]:
    """A regulator (its first key's entry is checkpointed on its own), then two checkpoints on
    demand, with entries between and after them."""
    reg = f.regulator(client)
    _entries(3)
    first = runner.invoke(args=["audit-checkpoint"])
    assert first.exit_code == 0, first.output
    _entries(3, 3)
    assert runner.invoke(args=["audit-checkpoint"]).exit_code == 0
    _entries(2, 6)
    return reg, [json.loads(r) for r in db.session.scalars(select(AuditCheckpoint.document)
                                                           .order_by(AuditCheckpoint.size))]


def test_audit_records_failed_key_and_signing_key_use(client, trail):
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


def test_audit_verify_fails_after_one_entry_is_edited(client, runner, trail):
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


def test_audit_verify_passes_an_honest_trail_with_its_checkpoints(client, runner, trail, tmp_path):
    reg, made = _checkpointed_trail(client, runner)
    assert [c["size"] for c in made] == [2, 5, 8] and [c["size"] for c in _lines(trail)] == [2, 5, 8]
    # The published copies: the newest alone, and the list, newest first.
    assert client.get("/api/v1/audit/checkpoint").get_json() == made[-1]
    listed = client.get("/api/v1/audit/checkpoints?limit=2").get_json()
    assert [c["size"] for c in listed["items"]] == [8, 5] and listed["next_cursor"]
    saved = tmp_path / "published.json"
    saved.write_text(json.dumps(listed))
    pinned = reg.get("/api/v1/trust-list").get_json()["issuer"]["x"]
    assert pinned == made[0]["issuer"]["x"]
    ok = runner.invoke(args=["audit-verify", "--checkpoints", str(saved), "--public-key", pinned])
    assert ok.exit_code == 0, ok.output
    assert "intact: 10 entries, matching 3 signed checkpoints (newest: size 8" in ok.output
    assert cp.check_trail([]).ok


def test_audit_verify_catches_an_edited_and_rechained_trail(client, runner, trail):
    _, made = _checkpointed_trail(client, runner)
    victim = db.session.get(AuditEntry, 4)  # after the first checkpoint (2), before the second (5)
    victim.detail = victim.detail.replace('"n": 1', '"n": 100')
    _rechain_from(4)
    assert audit.verify_chain()[0]  # the chain on its own is fooled
    # Covering the tracks with the server's own key: the table's checkpoints deleted and a new one
    # signed over the rewritten head. The file's copies (and published ones) still disagree.
    db.session.execute(delete(AuditCheckpoint))
    db.session.commit()
    runner.invoke(args=["audit-checkpoint"])
    broken = runner.invoke(args=["audit-verify"])
    assert broken.exit_code == 1, broken.output
    assert (f"does NOT MATCH checkpoint of {made[1]['issued_at']} (size 5, in {trail})" in broken.output
            and "entry 5 no longer hashes to the checkpoint's head" in broken.output)


def test_audit_verify_catches_newest_entries_deleted_below_a_checkpoint(client, runner, trail):
    _, made = _checkpointed_trail(client, runner)
    db.session.execute(delete(AuditEntry).where(AuditEntry.seq > 7))
    db.session.commit()
    assert audit.verify_chain() == (True, 7, None)
    broken = runner.invoke(args=["audit-verify"])
    assert broken.exit_code == 1
    assert f"checkpoint of {made[2]['issued_at']} (size 8, in the database, {trail})" in broken.output
    assert "holds 7 entries, fewer than the checkpoint's 8: entries were deleted" in broken.output


def test_audit_verify_refuses_a_checkpoint_not_signed_by_the_regulator(client, runner, trail, tmp_path):
    _, made = _checkpointed_trail(client, runner)
    forged = dict(made[1], head="0" * 64)
    fake = tmp_path / "forged.jsonl"
    fake.write_text(json.dumps(forged) + "\n")
    out = runner.invoke(args=["audit-verify", "--checkpoints", str(fake)])
    assert out.exit_code == 1 and f"(size 5, in {fake})" in out.output and "not signed by" in out.output
    other = tok.b64url_encode(Ed25519PrivateKey.generate().public_key().public_bytes_raw())  # not the regulator's
    assert runner.invoke(args=["audit-verify", "--public-key", other]).exit_code == 1
    bad = runner.invoke(args=["audit-verify", "--public-key", "not base64!"])
    assert bad.exit_code == 2 and "--public-key" in bad.output and "Traceback" not in bad.output
    fake.write_text("{not json\n")
    unreadable = runner.invoke(args=["audit-verify", "--checkpoints", str(fake)])
    assert unreadable.exit_code == 2 and "line 1: not JSON" in unreadable.output


def test_audit_checkpoints_made_on_appends_when_due(app, client, trail, monkeypatch):
    monkeypatch.setitem(app.config, "AUDIT_CHECKPOINT_ENTRIES", 5)
    f.regulator(client)  # its key: the first append finds no checkpoint and makes one
    _entries(3)
    assert [c.size for c in db.session.scalars(select(AuditCheckpoint))] == [2]
    _entries(3, 3)  # 5 behind now: due
    assert db.session.scalars(select(AuditCheckpoint.size).order_by(AuditCheckpoint.size)).all() == [2, 8]
    # By time: the newest made long ago, the next append makes one.
    monkeypatch.setitem(app.config, "AUDIT_CHECKPOINT_ENTRIES", 0)
    db.session.execute(update(AuditCheckpoint).values(made_at=utcnow() - timedelta(minutes=11)))
    db.session.commit()
    app.extensions.pop("audit_checkpoint_last", None)
    _entries(1, 6)
    assert db.session.scalars(select(AuditCheckpoint.size).order_by(AuditCheckpoint.size)).all() == [2, 8, 9]
    assert [c["size"] for c in _lines(trail)] == [2, 8, 9]
    # One made in a transaction that rolls back never reaches the file.
    app.extensions.pop("audit_checkpoint_last", None)
    db.session.execute(delete(AuditCheckpoint))
    audit.record("test.rolled_back")
    db.session.rollback()
    assert [c["size"] for c in _lines(trail)] == [2, 8, 9]


def test_audit_checkpoint_endpoint_404_before_any(client, runner, trail):
    r = client.get("/api/v1/audit/checkpoint")
    assert r.status_code == 404 and r.mimetype == "application/problem+json"
    assert client.get("/api/v1/audit/checkpoints").get_json() == {"items": [], "next_cursor": None}
    none = runner.invoke(args=["audit-checkpoint"])
    assert none.exit_code == 2 and "bootstrap" in none.output
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    assert {"/api/v1/audit/checkpoint", "/api/v1/audit/checkpoints"} <= set(paths)
