"""The audit trail's appends: a chain from the genesis hash, its head row made on first use, and
what the entry describes written before it. On every database backend."""
from __future__ import annotations

from sqlalchemy import select

from training.db import audit, db
from training.db.models import AuditEntry, Meta


def test_record_chains_entries_from_genesis(app):
    audit.record("test.first", actor_org="org1", subject="s1", detail={"n": 1})
    audit.record("test.second", detail={"n": 2})
    audit.record("test.third")
    db.session.commit()
    entries = db.session.scalars(select(AuditEntry).order_by(AuditEntry.seq)).all()
    assert [e.seq for e in entries] == [1, 2, 3] and entries[0].prev_hash == audit.GENESIS
    assert [e.prev_hash for e in entries[1:]] == [e.hash for e in entries[:-1]]
    assert entries[0].detail == '{"n": 1}' and entries[2].detail == "{}"
    assert db.session.get(Meta, "audit_head").value == 0
    assert audit.verify_chain() == (True, 3, None)


def test_record_continues_the_chain_in_a_later_transaction(app):
    audit.record("test.first")
    db.session.commit()
    audit.record("test.second")
    db.session.commit()
    first, second = db.session.scalars(select(AuditEntry).order_by(AuditEntry.seq)).all()
    assert second.seq == 2 and second.prev_hash == first.hash
    assert audit.verify_chain() == (True, 2, None)


def test_record_writes_pending_changes_before_the_entry(app):
    db.session.add(Meta(key="test_pending", value=7))
    audit.record("test.after_pending")
    # The pending row is in the database already, not only in the session.
    with db.session.no_autoflush:
        assert db.session.execute(select(Meta.__table__.c.value).where(Meta.__table__.c.key == "test_pending")
                                  ).scalar() == 7
    db.session.rollback()
    assert db.session.scalar(select(AuditEntry)) is None


def test_record_sends_the_new_head_and_verify_chain_hands_back_heads(app):
    seen = []

    def receiver(_sender, size, head, **_):
        seen.append((size, head))
    audit.appended.connect(receiver)
    try:
        audit.record_many([{"event": "test.a"}, {"event": "test.b"}])
        audit.record("test.c")
    finally:
        audit.appended.disconnect(receiver)
    db.session.commit()
    entries = db.session.scalars(select(AuditEntry).order_by(AuditEntry.seq)).all()
    assert seen == [(2, entries[1].hash), (3, entries[2].hash)]
    assert audit.head()[:2] == (3, entries[2].hash)
    heads = {1: None, 3: None, 7: None}
    assert audit.verify_chain(batch=2, heads=heads) == (True, 3, None)
    assert heads == {1: entries[0].hash, 3: entries[2].hash, 7: None}
