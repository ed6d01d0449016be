"""Issuance, status changes, review and the lists, over HTTP on every database backend."""
from __future__ import annotations

from io import BytesIO

from PIL import Image
from sqlalchemy import func, select

from certificates.models import Certificate, CertificateToken
from certificates.token import b64url_decode, decode, extract_token
from tests import factories as f
from tests.certificates.test_qr import decode as read_qr
from training.db import db


def ready_worker(w: f.World, category="welding", hours=108):
    wk = f.worker(w.body)
    f.train(w.body, w.trainer["id"], [wk["id"]], category=category, hours=hours, start_days_ago=40)
    f.exam(w.centre, wk["id"], f.days_ago(5), category=category)
    return wk


def issue(w: f.World, wk, category="welding", **headers):
    return w.body.post("/api/v1/certificates", {"worker_id": wk["id"], "category": category}, headers or None)


def _certs():
    return db.session.scalar(select(func.count()).select_from(Certificate))


def test_issue_returns_contract_fields(client):
    w = f.World(client)
    wk = ready_worker(w)
    r = issue(w, wk)
    assert r.status_code == 201, r.get_json()
    c = r.get_json()
    for k in ("serial", "status", "category", "worker", "issuer", "issued_at", "valid_until", "review_due",
              "token", "qr_text", "verify_url"):
        assert k in c, k
    assert c["status"] == "valid" and c["worker"]["id_number_masked"] == wk["id_number_masked"]
    assert c["issuer"]["id"] == w.body.id and c["qr_text"].startswith("HTTPS://VERIFY.EXAMPLE.TEST/V/")
    assert int(c["valid_until"][:4]) - int(c["issued_at"][:4]) in (5, 6)
    # Issued under the 2026 rules (in force since 2026-06-01): renewed at expiry, never reviewed.
    assert c["rules"] == "2026" and c["review_due"] == c["valid_until"] and c["review_required"] is False
    ours, raw = extract_token(c["qr_text"])
    assert ours and raw == b64url_decode(c["token"])
    claims = decode(raw).claims
    assert claims.holder_id_masked == wk["id_number_masked"] and claims.serial_text == c["serial"]


def test_issue_unaccredited_category_403_whatever_the_evidence(client):
    w = f.World(client, categories=("welding",))
    wk = f.worker(w.body)
    r = issue(w, wk, "work_at_height")
    assert r.status_code == 403 and _certs() == 0


def test_issue_suspended_accreditation_403(client):
    w = f.World(client)
    wk = ready_worker(w)
    w.reg.patch(f"/api/v1/accreditations/{w.body_acc['id']}", {"status": "suspended", "reason": "检查"})
    assert issue(w, wk).status_code == 403


def test_issue_by_exam_centre_403(client):
    w = f.World(client)
    wk = ready_worker(w)
    assert w.centre.post("/api/v1/certificates", {"worker_id": wk["id"], "category": "welding"}).status_code == 403


def test_issue_without_evidence_422_each_reason(client):
    w = f.World(client)
    wk = f.worker(w.body)
    r = issue(w, wk)
    assert r.status_code == 422
    codes = {e["code"] for e in r.get_json()["errors"]}
    assert codes == {"insufficient_hours", "no_passed_exam"} and _certs() == 0


def test_issue_exam_before_training_422(client):
    w = f.World(client)
    wk = f.worker(w.body)
    f.exam(w.centre, wk["id"], f.days_ago(50))
    f.train(w.body, w.trainer["id"], [wk["id"]], hours=108, start_days_ago=40)
    r = issue(w, wk)
    assert r.status_code == 422 and [e["code"] for e in r.get_json()["errors"]] == ["exam_before_training"]


def test_issue_exam_expired_422(client):
    w = f.World(client)
    wk = f.worker(w.body)
    f.train(w.body, w.trainer["id"], [wk["id"]], hours=108, start_days_ago=398)
    f.exam(w.centre, wk["id"], f.days_ago(380))
    r = issue(w, wk)
    assert r.status_code == 422 and [e["code"] for e in r.get_json()["errors"]] == ["exam_expired"]


def test_issue_twice_409_with_existing_serial(client):
    w = f.World(client)
    wk = ready_worker(w)
    first = issue(w, wk).get_json()
    r = issue(w, wk)
    assert r.status_code == 409 and r.get_json()["serial"] == first["serial"] and _certs() == 1


def test_issue_idempotency_key_replays_same_certificate(client):
    w = f.World(client)
    wk = ready_worker(w)
    a = issue(w, wk, **{"Idempotency-Key": "issue-1"})
    b = issue(w, wk, **{"Idempotency-Key": "issue-1"})
    assert a.status_code == b.status_code == 201 and a.get_json()["serial"] == b.get_json()["serial"]
    assert _certs() == 1


def test_issue_stores_token_and_evidence_snapshot(client):
    w = f.World(client)
    wk = ready_worker(w)
    serial = issue(w, wk).get_json()["serial"]
    cert = db.session.get(Certificate, serial)
    assert '"credited_hours": 108' in cert.evidence and cert.qr_png[:8] == b"\x89PNG\r\n\x1a\n"
    assert db.session.scalar(select(func.count()).select_from(CertificateToken)) == 1


def test_qr_png_decodes_to_qr_text(client):
    w = f.World(client)
    c = issue(w, ready_worker(w)).get_json()
    r = w.body.get(f"/api/v1/certificates/{c['serial']}/qr.png")
    assert r.status_code == 200 and r.mimetype == "image/png"
    assert read_qr(Image.open(BytesIO(r.data))).text == c["qr_text"]
    assert c["qr_version"] <= 10


def test_qr_svg_and_card_pdf(client):
    w = f.World(client)
    c = issue(w, ready_worker(w)).get_json()
    svg = w.body.get(f"/api/v1/certificates/{c['serial']}/qr.svg")
    assert svg.status_code == 200 and b"<svg" in svg.data
    pdf = w.body.get(f"/api/v1/certificates/{c['serial']}/card.pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")


def test_certificate_get_unknown_404_and_public_401(client):
    w = f.World(client)
    assert w.body.get("/api/v1/certificates/AAAA-AAAA-AAAA-AAAA").status_code == 404
    assert client.get("/api/v1/certificates/AAAA-AAAA-AAAA-AAAA").status_code == 401


def test_revoke_suspend_reinstate(client):
    w = f.World(client)
    c = issue(w, ready_worker(w)).get_json()
    base = f"/api/v1/certificates/{c['serial']}"
    assert w.body.post(f"{base}/suspend", {"reason": "核查中"}).get_json()["status"] == "suspended"
    assert w.body.get(base).get_json()["status"] == "suspended"
    assert w.body.post(f"{base}/reinstate", {"reason": "核查无误"}).get_json()["status"] == "valid"
    assert w.reg.post(f"{base}/revoke", {"reason": "虚假培训"}).get_json()["status"] == "revoked"
    assert w.body.post(f"{base}/reinstate", {"reason": "x"}).status_code == 409


def test_revoke_by_other_body_403_needs_reason_422(client):
    w = f.World(client)
    other = f.org(w.reg, "training_body")
    c = issue(w, ready_worker(w)).get_json()
    assert other.post(f"/api/v1/certificates/{c['serial']}/revoke", {"reason": "x"}).status_code == 403
    assert w.body.post(f"/api/v1/certificates/{c['serial']}/revoke", {}).status_code == 422
    assert w.body.get(f"/api/v1/certificates/{c['serial']}").get_json()["status"] == "valid"


def test_review_needs_refresher_hours_then_extends_and_resigns(client):
    w = f.World(client)
    wk = ready_worker(w, "confined_space", 24)
    c = issue(w, wk, "confined_space").get_json()
    base = f"/api/v1/certificates/{c['serial']}"
    r = w.body.post(f"{base}/review")
    assert r.status_code == 422 and r.get_json()["errors"][0]["code"] == "insufficient_refresher_hours"
    from datetime import timedelta

    from certificates.models import CertificateEvent
    cert = db.session.get(Certificate, c["serial"])  # a year on: issued then, review due now
    cert.issued_at -= timedelta(days=365)
    for ev in db.session.scalars(select(CertificateEvent).where(CertificateEvent.serial == c["serial"])):
        ev.at -= timedelta(days=365)
    db.session.commit()
    s = f.session(w.body, f.days_ago(10), 8, "confined_space", kind="refresher", trainer_id=w.trainer["id"])
    f.attend(w.body, s, wk["id"])
    r = w.body.post(f"{base}/review")
    assert r.status_code == 200, r.get_json()
    after = r.get_json()
    assert after["serial"] == c["serial"] and after["review_due"] > c["review_due"]
    assert after["token"] != c["token"]
    assert db.session.scalar(select(func.count()).select_from(CertificateToken)) == 2


def test_review_by_body_whose_accreditation_is_suspended_or_withdrawn_403(client):
    from datetime import timedelta

    from certificates.models import CertificateEvent
    w = f.World(client)
    wk = ready_worker(w, "confined_space", 24)
    c = issue(w, wk, "confined_space").get_json()
    cert = db.session.get(Certificate, c["serial"])  # a year on, with the refresher done
    cert.issued_at -= timedelta(days=365)
    for ev in db.session.scalars(select(CertificateEvent).where(CertificateEvent.serial == c["serial"])):
        ev.at -= timedelta(days=365)
    db.session.commit()
    s = f.session(w.body, f.days_ago(10), 8, "confined_space", kind="refresher", trainer_id=w.trainer["id"])
    f.attend(w.body, s, wk["id"])
    base, acc = f"/api/v1/certificates/{c['serial']}", f"/api/v1/accreditations/{w.body_acc['id']}"
    for status in ("suspended", "active", "withdrawn"):
        changed = w.reg.patch(acc, {"status": status, "reason": "整改"})
        assert changed.status_code == 200, changed.get_json()
        r = w.body.post(f"{base}/review")
        if status == "active":  # the same review goes through once the body is accredited again
            assert r.status_code == 200, r.get_json()
            c = r.get_json()
            continue
        assert r.status_code == 403 and r.content_type == "application/problem+json", r.get_json()
        assert w.body.get(base).get_json()["review_due"] == c["review_due"]
    assert db.session.scalar(select(func.count()).select_from(CertificateToken)) == 2  # signed twice, not thrice


def test_trust_list_shape_and_signature(client, app):
    from verify.verification.verdict import TrustIndex, verify_document_signature
    w = f.World(client)
    c = issue(w, ready_worker(w)).get_json()
    doc = client.get("/api/v1/trust-list").get_json()
    assert doc["issued_at"] and doc["keys"]
    key = doc["keys"][0]
    assert key["alg"] == "EdDSA" and key["crv"] == "Ed25519" and key["organization_id"] == w.body.id
    assert {"category": "welding"}.items() <= key["accreditations"][-1].items() or any(
        a["category"] == "welding" for a in key["accreditations"])
    issuer_x = b64url_decode(doc["issuer"]["x"])
    assert verify_document_signature(doc, issuer_x)
    doc["keys"][0]["status"] = "retired"
    assert not verify_document_signature(doc, issuer_x)
    assert TrustIndex.from_document(client.get("/api/v1/trust-list").get_json())
    assert c["serial"]


def test_status_list_carries_revoked_and_suspended(client):
    w = f.World(client)
    a = issue(w, ready_worker(w)).get_json()["serial"]
    b = issue(w, ready_worker(w)).get_json()["serial"]
    w.body.post(f"/api/v1/certificates/{a}/revoke", {"reason": "x"})
    w.body.post(f"/api/v1/certificates/{b}/suspend", {"reason": "y"})
    doc = client.get("/api/v1/status-list").get_json()
    assert [x["serial"] for x in doc["revoked"]] == [a] and [x["serial"] for x in doc["suspended"]] == [b]
    assert doc["signature"]["alg"] == "EdDSA"


def test_issued_certificate_is_in_the_session_whole(client):
    # Issuance writes the certificate's row with a plain insert; the object it returns must still
    # be the session's, with every column and both parties loaded: reading them asks nothing.
    from flask import current_app
    from sqlalchemy import event, inspect

    from certificates.issuance import service
    from training.accounts.api_keys import Caller
    w = f.World(client)
    wk = ready_worker(w)
    db.session.remove()
    caller = Caller("cli", w.body.id, "training_body", "", None, None)
    cert = service.issue_certificate({"worker_id": wk["id"], "category": "welding"}, caller,
                                     current_app.extensions["signer"], current_app.config["PUBLIC_BASE_URL"])
    statements = []

    def seen(conn, cursor, statement, *_):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", seen)
    try:
        assert inspect(cert).persistent and not inspect(cert).expired_attributes
        values = {c.key: getattr(cert, c.key) for c in Certificate.__table__.c}
        assert cert.worker.id == wk["id"] and cert.issuer.id == w.body.id
    finally:
        event.remove(db.engine, "before_cursor_execute", seen)
    assert statements == []
    assert values["open_findings"] == 0 and values["created_at"] is not None and values["status_at"] is None
    db.session.commit()
    db.session.expire_all()
    stored = db.session.get(Certificate, values["serial"])
    assert {c.key: getattr(stored, c.key) for c in Certificate.__table__.c} == values
