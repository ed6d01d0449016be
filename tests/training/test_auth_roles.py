"""People's API keys: a key minted with a person's key is that person's and dies with the account
(or with the key that minted it), and the person's console role narrows every API endpoint, the
ones added later included."""
from __future__ import annotations

import re

import pytest

from tests import factories as f

WRITES = {"POST", "PATCH", "PUT", "DELETE"}


def person_key(org_id: str, role: str, duties=()) -> tuple[object, str]:
    """(account, full API key) for a new person of that role holding a console-issued key. The
    account is written directly: these tests never sign in, so no password hash is paid for."""
    from training.accounts import service as accounts
    from training.accounts.models import Account
    from training.db import db
    from training.parties.models import Organization
    acc = Account(organization_id=org_id, login=f"{role}-{f.RNG.randrange(10**9)}", name=f"测试{role}", role=role,
                  duties=" ".join(duties), password_hash="!", must_change_password=0)
    acc.organization = db.session.get(Organization, org_id)
    db.session.add(acc)
    db.session.flush()
    _, full = accounts.issue_key(acc, "测试", None, acc)
    db.session.commit()
    return acc, full


def bearer(key: str) -> dict:
    return {"Authorization": f"Bearer {key}"}


def test_auth_roles_a_minted_key_is_the_persons_and_dies_with_the_account(app, client):
    from training.accounts import service as accounts
    from training.accounts.models import AccountKey
    from training.db import db, utcnow
    from training.parties.models import ApiKey
    reg = f.regulator(client)
    body = f.org(reg, "training_body")
    admin, key = person_key(body.id, "administrator")
    r = client.post(f"/api/v1/organizations/{body.id}/api-keys", json={}, headers=bearer(key))
    assert r.status_code == 201, r.get_json()
    minted = r.get_json()
    link = db.session.get(AccountKey, minted["key_id"])
    assert link.account_id == admin.id and link.minted_with == key.split("_")[1]
    assert client.get(f"/api/v1/organizations/{body.id}", headers=bearer(minted["api_key"])).status_code == 200
    admin.disabled_at = utcnow()  # however the account ends, its keys end with it
    db.session.commit()
    for k in (key, minted["api_key"]):
        assert client.get(f"/api/v1/organizations/{body.id}", headers=bearer(k)).status_code == 401
    # the organisation's own key (no person behind it) is untouched
    assert client.get(f"/api/v1/organizations/{body.id}", headers=bearer(body.key)).status_code == 200
    # disabling on the console also revokes what the person minted
    admin.disabled_at = None
    head, _ = person_key(body.id, "administrator")
    accounts.set_disabled(admin, True, head)
    db.session.commit()
    assert db.session.get(ApiKey, minted["key_id"]).revoked_at is not None


def test_auth_roles_revoking_a_key_revokes_what_it_minted(app, client):
    reg = f.regulator(client)
    body = f.org(reg, "training_body")
    _, first = person_key(body.id, "administrator")
    second = client.post(f"/api/v1/organizations/{body.id}/api-keys", json={}, headers=bearer(first)).get_json()
    third = client.post(f"/api/v1/organizations/{body.id}/api-keys", json={},
                        headers=bearer(second["api_key"])).get_json()
    r = client.delete(f"/api/v1/api-keys/{first.split('_')[1]}", headers=bearer(body.key))
    assert r.status_code == 200
    for k in (first, second["api_key"], third["api_key"]):
        assert client.get(f"/api/v1/organizations/{body.id}", headers=bearer(k)).status_code == 401


def test_auth_roles_an_analysts_key_may_not_suspend_or_revoke(app, client):
    from tests.verify.test_rules_certificates import certified
    w = f.World(client)
    ((_, cert),) = certified(w)
    serial = cert["serial"]
    _, analyst = person_key(w.reg.id, "analyst", ("findings", "organisations"))
    _, body_analyst = person_key(w.body.id, "analyst")
    _, body_clerk = person_key(w.body.id, "clerk")
    for key in (analyst, body_analyst, body_clerk):
        for action in ("suspend", "revoke"):
            r = client.post(f"/api/v1/certificates/{serial}/{action}", json={"reason": "试一下"}, headers=bearer(key))
            assert r.status_code == 403, (action, r.get_json())
            assert r.headers["Content-Type"].startswith("application/problem+json")
    assert w.body.get(f"/api/v1/certificates/{serial}").get_json()["status"] == "valid"
    # an analyst may still not mint an administrator's key for themselves
    r = client.post(f"/api/v1/organizations/{w.body.id}/api-keys", json={}, headers=bearer(body_analyst))
    assert r.status_code == 403
    _, body_admin = person_key(w.body.id, "administrator")
    r = client.post(f"/api/v1/certificates/{serial}/suspend", json={"reason": "核查"}, headers=bearer(body_admin))
    assert r.status_code == 200 and r.get_json()["status"] == "suspended"


def _url(rule, args: dict) -> str:
    return re.sub(r"<(?:\w+:)?(\w+)>", lambda m: args[m[1]], rule.rule)


def test_auth_roles_every_api_write_is_checked_for_roles(app, client):
    """Walks the app's routes: every /api/v1 write names its console action, and an analyst's key
    is refused (403, before the view runs) on every write the analyst's role may not do."""
    from training.accounts.api_keys import Caller
    from training.accounts.roles import ACTIONS, API_ACTIONS, action_for, may_act
    writes = [r for r in app.url_map.iter_rules() if r.rule.startswith("/api/v1/") and r.methods & WRITES]
    assert len(writes) > 30
    unnamed = [r.endpoint for r in writes if r.endpoint not in API_ACTIONS]
    assert not unnamed, f"give these endpoints their action in training.accounts.roles.API_ACTIONS: {unnamed}"
    reg = f.regulator(client)
    body = f.org(reg, "training_body")
    acc, key = person_key(body.id, "analyst")
    caller = Caller("k", body.id, "training_body", "", None, None, acc.id, "analyst", frozenset())
    refused = 0
    for rule in writes:
        for method in sorted(rule.methods & WRITES):
            args = {name: body.id if name == "org_id" else "0123456789abcdef" for name in rule.arguments}
            action = action_for(rule.endpoint, method, caller, args)
            assert action in ACTIONS, (rule.endpoint, action)
            if may_act("training_body", "analyst", frozenset(), action):
                continue
            r = client.open(_url(rule, args), method=method, json={}, headers=bearer(key))
            assert r.status_code == 403 and "role" in r.get_json()["detail"], (rule.endpoint, r.status_code)
            refused += 1
    assert refused >= 20


def test_auth_roles_a_write_without_an_action_is_refused_to_people():
    from training.accounts.api_keys import Caller
    from training.accounts.roles import action_for
    caller = Caller("k", "o", "training_body", "", None, None, "a", "administrator", frozenset())
    assert action_for("training.some_new_write", "POST", caller, {}) is None
    assert action_for("training.some_new_read", "GET", caller, {}) == "view"


@pytest.mark.parametrize("role, allowed", [("administrator", True), ("clerk", True), ("analyst", False)])
def test_auth_roles_follow_the_console_table(role, allowed):
    from training.accounts.roles import may_act
    assert may_act("training_body", role, frozenset(), "records") is allowed
    assert may_act("regulator", "analyst", frozenset({"findings"}), "revoke") is False
