"""Contract-wide checks driven by the service's own OpenAPI document: every keyed operation
answers 401 without a key and 403 to an organisation kind it does not admit, in problem+json."""
from __future__ import annotations

import re

from tests import factories as f

KINDS = ("regulator", "training_body", "exam_centre", "enterprise", "labour_agency", "subcontractor",
         "inspectorate")
DUMMY = "0123456789abcdef"


def _operations(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    for path, ops in spec["paths"].items():
        for method, op in ops.items():
            yield re.sub(r"{[a-z_]+}", DUMMY, path), method, op


def _call(client, method, path, headers):
    return client.open(path, method=method.upper(), json={}, headers=headers)


def test_every_keyed_operation_401_without_key(client):
    checked = 0
    for path, method, op in _operations(client):
        if "security" not in op:
            continue
        r = _call(client, method, path, {})
        assert r.status_code == 401, (method, path, r.status_code)
        assert r.mimetype == "application/problem+json"
        checked += 1
    assert checked > 20


def test_every_kind_restricted_operation_403_for_other_kinds(client):
    reg = f.regulator(client)
    keys = {"regulator": reg.key}
    for kind in KINDS[1:]:
        keys[kind] = f.org(reg, kind).key
    checked = 0
    for path, method, op in _operations(client):
        allowed = op.get("description", "")
        if not allowed.startswith("Allowed organisation kinds:"):
            continue
        admitted = {k.strip(" .") for k in allowed.split(":", 1)[1].split(",")}
        for kind in set(KINDS) - admitted:
            r = _call(client, method, path, {"Authorization": f"Bearer {keys[kind]}"})
            assert r.status_code == 403, (kind, method, path, r.status_code)
            checked += 1
    assert checked > 20


def test_contract_paths_are_described(client):
    paths = {p for p, _, _ in _operations(client)}
    for needed in ("/healthz", "/api/v1/categories", "/api/v1/roles", "/api/v1/organizations",
                   "/api/v1/certificates", "/api/v1/verify", "/api/v1/trust-list", "/api/v1/status-list",
                   f"/api/v1/certificates/{DUMMY}/qr.png", f"/api/v1/certificates/{DUMMY}/card.pdf"):
        assert needed in paths, needed
