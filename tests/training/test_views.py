"""HTTP tests of parties, keys, accreditation, sites and people, on every database backend."""
from __future__ import annotations

from sqlalchemy import func, select

from tests import factories as f
from training.db import db
from training.parties.models import Accreditation, ApiKey, Organization
from training.people.models import Worker


def _counts():
    return {m.__tablename__: db.session.scalar(select(func.count()).select_from(m))
            for m in (Organization, ApiKey, Accreditation, Worker)}


def test_healthz_ok_without_database(client):
    r = client.get("/healthz")
    assert r.status_code == 200 and r.get_json() == {"status": "ok"}


def test_categories_public_with_rules(client):
    items = client.get("/api/v1/categories").get_json()["items"]
    by_code = {c["code"]: c for c in items}
    assert by_code["electrician_low_voltage"]["initial_hours"] == 148
    assert by_code["welding"]["pass_mark"] == 80 and by_code["welding"]["validity_years"] == 6
    assert {"principal_manager", "safety_manager", "confined_space"} <= set(by_code)


def test_roles_public_with_required_categories(client):
    r = client.get("/api/v1/roles")
    roles = {x["code"]: x for x in r.get_json()["items"]}
    assert roles["welder"]["required_categories"] == ["welding"]
    assert roles["general_labourer"]["required_categories"] == []
    assert "中" not in r.get_data(as_text=True) or "\\u" not in r.get_data(as_text=True)


def test_organization_create_as_regulator(client):
    reg = f.regulator(client)
    body = {"name": "某某建设集团", "kind": "enterprise", "credit_code": f.generate_credit_code(f.RNG),
            "industry": "construction"}
    r = reg.post("/api/v1/organizations", body)
    assert r.status_code == 201
    out = r.get_json()
    assert out["kind"] == "enterprise" and out["industry"] == "construction" and out["id"]
    assert "某某建设集团" in r.get_data(as_text=True)  # characters, not \u escapes


def test_organization_create_employer_default_industry_other(client):
    reg = f.regulator(client)
    r = reg.post("/api/v1/organizations", {"name": "劳务公司", "kind": "labour_agency",
                                           "credit_code": f.generate_credit_code(f.RNG)})
    assert r.get_json()["industry"] == "other"


def test_organization_create_without_key_401(client):
    r = client.post("/api/v1/organizations", json={"name": "x", "kind": "enterprise"})
    assert r.status_code == 401 and r.mimetype == "application/problem+json"


def test_organization_create_with_bad_key_401(client):
    f.regulator(client)
    for header in ("Bearer az_0000000000000000_nope", "Bearer garbage", "Basic abc",
                   "Bearer az_" + "\x00" * 16 + "_nope", "Bearer az_ZZZZZZZZZZZZZZZZ_n\x00pe"):
        r = client.post("/api/v1/organizations", json={}, headers={"Authorization": header})
        assert r.status_code == 401, (header, r.get_data(as_text=True))


def test_organization_create_by_training_body_403(client):
    reg = f.regulator(client)
    body = f.org(reg, "training_body")
    before = _counts()
    r = body.post("/api/v1/organizations", {"name": "x", "kind": "enterprise",
                                            "credit_code": f.generate_credit_code(f.RNG)})
    assert r.status_code == 403 and _counts() == before


def test_organization_create_bad_credit_code_422_unchanged(client):
    reg = f.regulator(client)
    good = f.generate_credit_code(f.RNG)
    bad = good[:-1] + ("0" if good[-1] != "0" else "1")
    before = _counts()
    r = reg.post("/api/v1/organizations", {"name": "x", "kind": "enterprise", "credit_code": bad})
    assert r.status_code == 422
    assert r.get_json()["errors"][0]["field"] == "credit_code"
    assert r.get_json()["errors"][0]["code"] == "credit_code_check"
    assert _counts() == before


def test_organization_create_lists_every_bad_field(client):
    reg = f.regulator(client)
    r = reg.post("/api/v1/organizations", {"kind": "bank", "credit_code": "x", "surprise": 1})
    fields = {e["field"] for e in r.get_json()["errors"]}
    assert r.status_code == 422 and {"name", "kind", "credit_code", "surprise"} <= fields


def test_organization_malformed_json_400(client):
    reg = f.regulator(client)
    r = reg.post("/api/v1/organizations", data="{not json", headers={"Content-Type": "application/json"})
    assert r.status_code == 400 and r.get_json()["status"] == 400


def test_organization_body_over_limit_413(client):
    reg = f.regulator(client)
    r = reg.post("/api/v1/organizations", data=b"{" + b" " * (2 * 1024 * 1024) + b"}",
                 headers={"Content-Type": "application/json"})
    assert r.status_code == 413


def test_organization_duplicate_credit_code_409(client):
    reg = f.regulator(client)
    code = f.generate_credit_code(f.RNG)
    assert reg.post("/api/v1/organizations", {"name": "a", "kind": "enterprise", "credit_code": code}).status_code == 201
    assert reg.post("/api/v1/organizations", {"name": "b", "kind": "enterprise", "credit_code": code}).status_code == 409


def test_idempotency_same_key_same_body_same_response(client):
    reg = f.regulator(client)
    body = {"name": "a", "kind": "enterprise", "credit_code": f.generate_credit_code(f.RNG)}
    h = {"Idempotency-Key": "abc-1"}
    r1, r2 = reg.post("/api/v1/organizations", body, h), reg.post("/api/v1/organizations", body, h)
    assert r1.status_code == r2.status_code == 201 and r1.get_json()["id"] == r2.get_json()["id"]
    body2 = dict(body, name="b")
    assert reg.post("/api/v1/organizations", body2, h).status_code == 409


def test_api_key_holder_expiry_and_revocation(client):
    reg = f.regulator(client)
    insp = f.org(reg, "inspectorate")
    r = reg.post(f"/api/v1/organizations/{insp.id}/api-keys",
                 {"holder": {"name": "李警官", "badge": "110-123"}, "expires_at": "2099-01-01T00:00:00+08:00"})
    assert r.status_code == 201
    out = r.get_json()
    assert out["api_key"].startswith("az_") and out["holder"]["badge"] == "110-123"
    stored = db.session.get(ApiKey, out["key_id"])
    assert out["api_key"].split("_", 2)[2].encode() not in bytes(stored.secret_hash)
    key = f.Api(client, out["api_key"])
    assert key.get(f"/api/v1/organizations/{insp.id}").status_code == 200
    assert reg.delete(f"/api/v1/api-keys/{out['key_id']}").status_code == 200
    assert key.get(f"/api/v1/organizations/{insp.id}").status_code == 401


def test_api_key_expired_401(client):
    reg = f.regulator(client)
    ent = f.org(reg, "enterprise")
    from datetime import datetime, timedelta

    from training.db import utcnow
    r = reg.post(f"/api/v1/organizations/{ent.id}/api-keys", {"expires_at": "2000-01-01T00:00:00Z"})
    assert r.status_code == 422
    key = db.session.get(ApiKey, ent.key.split("_")[1])
    key.expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    assert ent.get(f"/api/v1/organizations/{ent.id}").status_code == 401
    assert isinstance(datetime.now(), datetime)


def test_api_key_other_org_cannot_issue_403(client):
    reg = f.regulator(client)
    a, b = f.org(reg, "enterprise"), f.org(reg, "enterprise")
    assert a.post(f"/api/v1/organizations/{b.id}/api-keys", {}).status_code == 403
    assert a.post(f"/api/v1/organizations/{a.id}/api-keys", {}).status_code == 201


def test_api_key_revoke_other_org_404(client):
    reg = f.regulator(client)
    a, b = f.org(reg, "enterprise"), f.org(reg, "enterprise")
    b_key = b.key.split("_")[1]
    assert a.delete(f"/api/v1/api-keys/{b_key}").status_code == 404
    assert b.get(f"/api/v1/organizations/{b.id}").status_code == 200


def test_accreditation_grant_suspend_history(client):
    reg = f.regulator(client)
    body = f.org(reg, "training_body")
    acc = f.accredit(reg, body, ["welding", "work_at_height"])
    assert acc["status"] == "active" and acc["categories"] == ["welding", "work_at_height"]
    r = reg.patch(f"/api/v1/accreditations/{acc['id']}", {"status": "suspended", "reason": "整改"})
    assert r.status_code == 200
    hist = r.get_json()["history"]
    assert [h["status"] for h in hist] == ["active", "suspended"] and hist[1]["reason"] == "整改"


def test_accreditation_patch_needs_reason_422(client):
    reg = f.regulator(client)
    body = f.org(reg, "training_body")
    acc = f.accredit(reg, body, ["welding"])
    assert reg.patch(f"/api/v1/accreditations/{acc['id']}", {"status": "suspended"}).status_code == 422


def test_accreditation_enterprise_not_accreditable_422(client):
    reg = f.regulator(client)
    ent = f.org(reg, "enterprise")
    r = reg.post(f"/api/v1/organizations/{ent.id}/accreditations",
                 {"categories": ["welding"], "valid_from": "2026-01-01", "valid_until": "2027-01-01"})
    assert r.status_code == 422


def test_accreditation_by_training_body_403(client):
    reg = f.regulator(client)
    body = f.org(reg, "training_body")
    r = body.post(f"/api/v1/organizations/{body.id}/accreditations",
                  {"categories": ["welding"], "valid_from": "2026-01-01", "valid_until": "2027-01-01"})
    assert r.status_code == 403


def test_accreditation_bad_dates_and_category_422(client):
    reg = f.regulator(client)
    body = f.org(reg, "training_body")
    r = reg.post(f"/api/v1/organizations/{body.id}/accreditations",
                 {"categories": ["juggling"], "valid_from": "2027-01-01", "valid_until": "2026-01-01"})
    fields = {e["field"] for e in r.get_json()["errors"]}
    assert r.status_code == 422 and any(x.startswith("categories") for x in fields)


def test_site_create_by_enterprise_defaults_to_itself(client):
    reg = f.regulator(client)
    ent = f.org(reg, "enterprise")
    r = ent.post("/api/v1/sites", {"name": "一号工地", "latitude": 34.7, "longitude": 113.6})
    assert r.status_code == 201 and r.get_json()["enterprise_id"] == ent.id


def test_site_create_by_inspectorate_without_enterprise(client):
    reg = f.regulator(client)
    insp = f.org(reg, "inspectorate")
    r = insp.post("/api/v1/sites", {"name": "无名工地", "latitude": 34.7, "longitude": 113.6})
    assert r.status_code == 201 and r.get_json()["enterprise_id"] is None


def test_site_create_by_training_body_403(client):
    reg = f.regulator(client)
    body = f.org(reg, "training_body")
    assert body.post("/api/v1/sites", {"name": "x", "latitude": 1, "longitude": 1}).status_code == 403


def test_site_bad_coordinates_422(client):
    reg = f.regulator(client)
    ent = f.org(reg, "enterprise")
    r = ent.post("/api/v1/sites", {"name": "x", "latitude": 91, "longitude": "east"})
    assert r.status_code == 422 and {e["field"] for e in r.get_json()["errors"]} == {"latitude", "longitude"}


def test_worker_register_masked_and_found_again(client):
    reg = f.regulator(client)
    body = f.org(reg, "training_body")
    number = f.id_number()
    r = body.post("/api/v1/workers", {"name": "张三", "id_number": number})
    assert r.status_code == 201
    out = r.get_json()
    assert out["id_number_masked"] == number[:6] + "*" * 8 + number[-4:]
    assert number not in r.get_data(as_text=True)
    again = body.post("/api/v1/workers", {"name": "张三", "id_number": number.lower()})
    assert again.status_code == 200 and again.get_json()["id"] == out["id"]
    got = body.get(f"/api/v1/workers/{out['id']}")
    assert got.status_code == 200 and number not in got.get_data(as_text=True)


def test_worker_stored_hashed_and_encrypted(client, app):
    reg = f.regulator(client)
    body = f.org(reg, "training_body")
    number = f.id_number()
    wid = f.worker(body, number)["id"]
    w = db.session.get(Worker, wid)
    assert number not in w.id_hash and number.encode() not in bytes(w.id_cipher)
    assert app.extensions["identity"].decrypt(bytes(w.id_cipher)) == number


def test_worker_bad_check_digit_422_unchanged(client):
    reg = f.regulator(client)
    body = f.org(reg, "training_body")
    number = f.id_number()
    bad = number[:-1] + ("0" if number[-1] != "0" else "1")
    before = _counts()
    r = body.post("/api/v1/workers", {"name": "张三", "id_number": bad})
    assert r.status_code == 422 and r.get_json()["errors"][0]["code"] == "id_number_check"
    assert bad not in r.get_data(as_text=True)
    assert _counts() == before


def test_worker_by_inspectorate_403(client):
    reg = f.regulator(client)
    insp = f.org(reg, "inspectorate")
    assert insp.post("/api/v1/workers", {"name": "张三", "id_number": f.id_number()}).status_code == 403


def test_worker_get_unknown_404(client):
    reg = f.regulator(client)
    assert reg.get("/api/v1/workers/0123456789abcdef").status_code == 404


def test_worker_batch_each_item_alone(client):
    reg = f.regulator(client)
    body = f.org(reg, "training_body")
    good = f.id_number()
    r = body.post("/api/v1/workers/batch", {"items": [
        {"name": "甲", "id_number": good}, {"name": "乙", "id_number": "123"}, "nonsense",
        {"name": "丙", "id_number": f.id_number()}]})
    assert r.status_code == 200
    items = r.get_json()["items"]
    assert [i["status"] for i in items] == [201, 422, 422, 201]
    assert [i["index"] for i in items] == [0, 1, 2, 3]
    assert db.session.scalar(select(func.count()).select_from(Worker)) == 2


def test_worker_batch_too_many_items_422(client):
    reg = f.regulator(client)
    body = f.org(reg, "training_body")
    r = body.post("/api/v1/workers/batch", {"items": [{}] * 1001})
    assert r.status_code == 422


def test_trainer_register_once_across_bodies(client):
    reg = f.regulator(client)
    a, b = f.org(reg, "training_body"), f.org(reg, "training_body")
    number = f.id_number()
    r1 = a.post("/api/v1/trainers", {"name": "孙老师", "id_number": number})
    r2 = b.post("/api/v1/trainers", {"name": "孙老师", "id_number": number})
    assert (r1.status_code, r2.status_code) == (201, 200) and r1.get_json()["id"] == r2.get_json()["id"]


def test_trainer_by_exam_centre_403(client):
    reg = f.regulator(client)
    centre = f.org(reg, "exam_centre")
    assert centre.post("/api/v1/trainers", {"name": "x", "id_number": f.id_number()}).status_code == 403


def test_openapi_lists_contract_paths(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    for path in ("/api/v1/organizations", "/api/v1/organizations/{org_id}/api-keys",
                 "/api/v1/organizations/{org_id}/accreditations", "/api/v1/accreditations/{acc_id}",
                 "/api/v1/categories", "/api/v1/sites", "/api/v1/workers", "/api/v1/workers/batch",
                 "/api/v1/workers/{worker_id}", "/api/v1/trainers", "/api/v1/sessions",
                 "/api/v1/sessions/{session_id}/attendance", "/api/v1/sessions/{session_id}/attendance/batch",
                 "/api/v1/exams", "/api/v1/attendance/{att_id}/void", "/api/v1/exams/{exam_id}/void",
                 "/api/v1/roles", "/healthz"):
        assert path in spec["paths"], path
    assert "201" in spec["paths"]["/api/v1/workers"]["post"]["responses"]


def test_unknown_route_problem_json_404(client):
    r = client.get("/api/v1/nothing-here")
    assert r.status_code == 404 and r.mimetype == "application/problem+json"
