"""The scanner's API over HTTP: verdict wording, the area's sites, and offline scans uploaded."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from certificates import token as tok
from tests import factories as f
from tests.verify.test_online import setup
from training.db import db
from verify.verification.messages import MESSAGES
from verify.verification.models import Scan


def _now(delta_s: float = 0) -> str:
    return (datetime.now(UTC) + timedelta(seconds=delta_s)).isoformat()


def _item(text, ref, **extra):
    return {"client_ref": ref, "qr_text": text, "scanned_at": _now(-600), "device_now": _now(), **extra}


def test_verdict_messages_public_and_complete(client):
    r = client.get("/api/v1/verdict-messages")
    assert r.status_code == 200
    body = r.get_json()
    assert body["messages"] == MESSAGES and "valid" in body["results"]
    assert "这不是安证证书" in r.get_data(as_text=True)  # characters, not \u escapes


def test_inspect_shell_chinese_first(client):
    r = client.get("/inspect")
    assert r.status_code == 200 and 'lang="zh-CN"' in r.get_data(as_text=True)
    assert "现场核验" in r.get_data(as_text=True)


def test_inspect_shell_english_on_request(client):
    # (a test of its own: the fixture's app context keeps the first request's language in g)
    r = client.get("/inspect?lang=en")
    assert 'lang="en"' in r.get_data(as_text=True) and '"lang": "en"' in r.get_data(as_text=True)


def test_inspect_service_worker_scope_header(client):
    r = client.get("/inspect/sw.js")
    if r.status_code == 404:  # the bundle is built by scripts/setup.sh
        return
    assert r.headers["Service-Worker-Allowed"] == "/inspect" and "no-cache" in r.headers["Cache-Control"]
    m = client.get("/inspect/manifest.webmanifest").get_json(force=True)
    assert m["scope"] == "/inspect" and {i["sizes"] for i in m["icons"]} == {"192x192", "512x512"}
    assert client.get("/inspect/icon-512.png").data[:8] == b"\x89PNG\r\n\x1a\n"


def test_area_sites_own_plus_radius_for_inspectors_only(client):
    w, _, _, officer = setup(client)
    own = officer.post("/api/v1/sites", {"name": "自建点", "latitude": 10.0, "longitude": 10.0}).get_json()
    ent = f.org(w.reg, "enterprise", industry="coal_mine")
    near = ent.post("/api/v1/sites", {"name": "三号井", "latitude": 34.70, "longitude": 113.60,
                                      "risk_class": "high"}).get_json()
    far = ent.post("/api/v1/sites", {"name": "远处", "latitude": 39.9, "longitude": 116.4}).get_json()
    ids = {s["id"] for s in officer.get("/api/v1/inspect/sites").get_json()["items"]}
    assert ids == {own["id"]}
    out = officer.get("/api/v1/inspect/sites?latitude=34.75&longitude=113.65&radius_km=30").get_json()
    assert {s["id"] for s in out["items"]} == {own["id"], near["id"]} and far["id"] not in ids
    assert [s["risk_class"] for s in out["items"] if s["id"] == near["id"]] == ["high"]
    assert officer.get("/api/v1/inspect/sites?latitude=abc&longitude=1").status_code == 400
    assert ent.get("/api/v1/inspect/sites").status_code == 403
    assert client.get("/api/v1/inspect/sites").status_code == 401


def test_upload_scans_verifies_online_records_offline_with_clock_offset(client):
    w, _, cert, officer = setup(client)
    site = officer.post("/api/v1/sites", {"name": "隧道口", "latitude": 30.0, "longitude": 104.0}).get_json()
    raw = bytearray(tok.b64url_decode(cert["token"]))
    raw[40] ^= 0x04
    items = [
        _item(cert["qr_text"], "ref-valid-0001", site_id=site["id"], latitude=30.0, longitude=104.0,
              offline_result="valid", device_now=_now(120)),
        _item(tok.qr_text(bytes(raw), "http://x"), "ref-forged-0001", offline_result="forged"),
        _item("hello", "ref-foreign-001", offline_result="valid"),
    ]
    r = officer.post("/api/v1/scans", {"items": items})
    assert r.status_code == 200, r.get_json()
    out = r.get_json()["items"]
    assert [i["status"] for i in out] == [201, 201, 201]
    assert [i["result"] for i in out] == ["valid", "forged", "not_ours"]
    assert out[0]["reasons"][0]["code"] == "signature_valid" and out[0]["certificate"]["serial"] == cert["serial"]
    assert [i["changed"] for i in out] == [False, False, True]
    assert 115 <= out[0]["clock_offset_s"] <= 125 and abs(out[1]["clock_offset_s"]) <= 5
    scan = db.session.get(Scan, out[0]["id"])
    assert scan.offline == 1 and scan.client_ref == "ref-valid-0001" and scan.site_id == site["id"]
    assert scan.officer_badge == "豫A1024" and scan.scanned_at is not None and scan.clock_offset_s == out[0]["clock_offset_s"]


def test_upload_scans_idempotent_by_client_ref(client):
    w, _, cert, officer = setup(client)
    body = {"items": [_item(cert["qr_text"], "same-ref-000001")]}
    first = officer.post("/api/v1/scans", body).get_json()["items"][0]
    w.body.post(f"/api/v1/certificates/{cert['serial']}/revoke", {"reason": "核查"})
    again = officer.post("/api/v1/scans", body).get_json()["items"][0]
    assert again["id"] == first["id"] and again["status"] == 200 and again["replayed"] is True
    assert again["result"] == "valid"  # the answer recorded at first receipt
    assert db.session.scalar(select(func.count()).select_from(Scan).where(Scan.client_ref == "same-ref-000001")) == 1


def test_upload_scans_items_stand_alone(client):
    w, _, cert, officer = setup(client)
    other = f.org(w.reg, "inspectorate")
    other.post("/api/v1/scans", {"items": [_item(cert["qr_text"], "theirs-0000001")]})
    items = [_item(cert["qr_text"], "good-ref-00001"), {"client_ref": "x"}, "not an object",
             _item(cert["qr_text"], "theirs-0000001"), _item(cert["qr_text"], "bad-site-00001", site_id="nope")]
    out = officer.post("/api/v1/scans", {"items": items}).get_json()["items"]
    assert [i["status"] for i in out] == [201, 422, 422, 409, 422]
    assert {e["field"] for e in out[1]["errors"]} >= {"client_ref", "qr_text", "scanned_at", "device_now"}
    assert db.session.scalar(select(func.count()).select_from(Scan)) == 2


def test_upload_scans_needs_inspector_key_and_a_batch(client):
    w, _, cert, officer = setup(client)
    assert client.post("/api/v1/scans", json={"items": []}).status_code == 401
    assert w.body.post("/api/v1/scans", {"items": [_item(cert["qr_text"], "ref-body-00001")]}).status_code == 403
    assert officer.post("/api/v1/scans", {"items": []}).status_code == 422
    assert officer.post("/api/v1/scans", {"items": [_item("x", f"r-{i:012d}") for i in range(1001)]}).status_code in (413, 422)
    r = officer.client.post("/api/v1/scans", data="{", headers={"Authorization": f"Bearer {officer.key}",
                                                                 "Content-Type": "application/json"})
    assert r.status_code == 400
