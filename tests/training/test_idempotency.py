"""Idempotency records: a secret in the first answer is never kept (a replay answers the same ids
without it), and records past their lifetime are pruned and no longer replay. On every backend."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update

from tests import factories as f
from training.db import db, utcnow
from training.db.models import IdempotencyRecord
from training.parties.models import ApiKey
from training.web.http import prune_idempotency

KEY = {"Idempotency-Key": "key-for-ops-desk"}


def _create_key(reg, ent, body=None):
    return reg.post(f"/api/v1/organizations/{ent.id}/api-keys", body or {"holder": {"name": "值班员", "badge": "A1"}},
                    headers=KEY)


def _rows() -> list[tuple]:
    return [tuple(r) for r in db.session.execute(select(*IdempotencyRecord.__table__.c)).all()]


def test_idempotency_record_of_key_creation_holds_no_secret(client):
    reg = f.regulator(client)
    ent = f.org(reg, "enterprise")
    first = _create_key(reg, ent)
    assert first.status_code == 201
    made = first.get_json()
    secret = made["api_key"].split("_", 2)[2]  # az_<id>_<secret>: the secret may hold "_" itself
    assert f.Api(client, made["api_key"]).get(f"/api/v1/organizations/{ent.id}").status_code == 200
    db.session.expire_all()
    rows = _rows()
    assert len(rows) == 1
    for value in rows[0]:
        assert secret not in str(value) and made["api_key"] not in str(value)
    replay = _create_key(reg, ent)
    again = replay.get_json()
    assert replay.status_code == 201 and replay.headers["Idempotent-Replayed"] == "true"
    assert again["key_id"] == made["key_id"] and again["api_key"] is None and "shown once" in again["detail"]
    assert again["holder"] == made["holder"]
    assert db.session.scalar(select(db.func.count()).select_from(ApiKey).where(ApiKey.organization_id == ent.id)) == 2
    assert _create_key(reg, ent, {"holder": {"name": "别人"}}).status_code == 409


def test_idempotency_expired_key_is_treated_as_new(client):
    reg = f.regulator(client)
    ent = f.org(reg, "enterprise")
    first = _create_key(reg, ent).get_json()
    db.session.execute(update(IdempotencyRecord).values(created_at=utcnow() - timedelta(hours=25)))
    db.session.commit()
    fresh = _create_key(reg, ent)
    assert fresh.status_code == 201 and "Idempotent-Replayed" not in fresh.headers
    assert fresh.get_json()["key_id"] != first["key_id"] and fresh.get_json()["api_key"]
    db.session.expire_all()
    assert len(_rows()) == 1


def test_idempotency_prune_deletes_only_records_past_their_lifetime(app, client, runner, monkeypatch):
    reg = f.regulator(client)
    ent = f.org(reg, "enterprise")
    for n in range(3):
        reg.post(f"/api/v1/organizations/{ent.id}/api-keys", {}, headers={"Idempotency-Key": f"k{n}"})
    db.session.execute(update(IdempotencyRecord).where(IdempotencyRecord.key.in_(("k0", "k1")))
                       .values(created_at=utcnow() - timedelta(hours=24, minutes=1)))
    db.session.commit()
    out = runner.invoke(args=["prune"])
    assert out.exit_code == 0 and "pruned 2 idempotency records" in out.output
    db.session.expire_all()
    assert [r[1] for r in _rows()] == ["k2"]
    # Written opportunistically too: with a prune on every new record, an old one goes at once.
    db.session.execute(update(IdempotencyRecord).values(created_at=utcnow() - timedelta(hours=30)))
    db.session.commit()
    monkeypatch.setitem(app.config, "IDEMPOTENCY_PRUNE_EVERY", 1)
    reg.post(f"/api/v1/organizations/{ent.id}/api-keys", {}, headers={"Idempotency-Key": "k3"})
    db.session.expire_all()
    assert [r[1] for r in _rows()] == ["k3"]
    assert prune_idempotency(utcnow() + timedelta(hours=25)) == 1
