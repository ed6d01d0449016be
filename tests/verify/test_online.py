"""Online verification over HTTP: every result code, the scan record, the page, the limit."""
from __future__ import annotations

from datetime import UTC, date, timedelta

from sqlalchemy import func, select, update

from certificates import token as tok
from certificates.keys import bump_generation
from certificates.models import Certificate, SigningKey
from tests import factories as f
from tests.certificates.test_issuance import issue, ready_worker
from training.db import db, utcnow
from training.parties.models import Accreditation, Organization
from verify.verification.models import Scan


def setup(client):
    w = f.World(client)
    wk = ready_worker(w)
    cert = issue(w, wk).get_json()
    insp = f.org(w.reg, "inspectorate")
    r = w.reg.post(f"/api/v1/organizations/{insp.id}/api-keys", {"holder": {"name": "李明", "badge": "豫A1024"}})
    officer = f.Api(client, r.get_json()["api_key"], insp.org)
    return w, wk, cert, officer


def verify(api_or_client, text, **extra):
    post = api_or_client.post
    r = post("/api/v1/verify", json={"qr_text": text, **extra}) if not isinstance(api_or_client, f.Api) \
        else post("/api/v1/verify", {"qr_text": text, **extra})
    assert r.status_code == 200, r.get_data(as_text=True)
    return r.get_json()


def test_verify_valid_public_minimal_and_masked(client):
    w, wk, cert, _ = setup(client)
    out = verify(client, cert["qr_text"])
    assert out["result"] == "valid" and [r["code"] for r in out["reasons"]] == ["signature_valid", "registry_checked"]
    c = out["certificate"]
    assert c["holder_name"] != wk["name"] and c["holder_name"][0] == wk["name"][0]
    assert "worker_id" not in c and c["category"] == "welding" and c["issuer"]["id"] == w.body.id
    assert db.session.scalar(select(func.count()).select_from(Scan)) == 0


def test_verify_bare_token_same_verdict(client):
    _, _, cert, _ = setup(client)
    out = verify(client, cert["token"])
    assert out["result"] == "valid", out


def test_verify_inspector_records_scan_with_officer(client):
    w, wk, cert, officer = setup(client)
    site = officer.post("/api/v1/sites", {"name": "三号井", "latitude": 34.7, "longitude": 113.6}).get_json()
    out = verify(officer, cert["qr_text"], site_id=site["id"], latitude=34.7, longitude=113.6)
    assert out["result"] == "valid" and out["certificate"]["holder_name"] == wk["name"]
    scan = db.session.get(Scan, out["scan_id"])
    assert scan.officer_badge == "豫A1024" and scan.serial == cert["serial"] and scan.site_id == site["id"]


def test_verify_bit_flip_in_qr_forged(client):
    _, _, cert, _ = setup(client)
    raw = bytearray(tok.b64url_decode(cert["token"]))
    raw[60] ^= 0x01
    text = tok.qr_text(bytes(raw), "https://anything.example")
    assert verify(client, text)["result"] == "forged"


def test_verify_not_ours_for_foreign_text(client):
    for text in ("https://zwfw.mem.gov.cn/tzzy/cx?zh=T410881199001011234", "hello", "", "证书编号123", "\x00\xff"):
        out = verify(client, text)
        assert out["result"] == "not_ours" and out["certificate"] is None


def test_verify_unregistered_when_signed_but_unknown(client, app):
    w, wk, cert, _ = setup(client)
    key = db.session.scalar(select(SigningKey).where(SigningKey.organization_id == w.body.id))
    claims = tok.decode(tok.b64url_decode(cert["token"])).claims
    from dataclasses import replace
    stolen = app.extensions["signer"].sign_token(key, replace(claims, serial=tok.new_serial()))
    out = verify(client, tok.b64url_encode(stolen))
    assert out["result"] == "unregistered" and out["reasons"][0]["code"] == "not_in_registry"


def test_verify_revoked_and_suspended(client):
    w, wk, cert, _ = setup(client)
    w.body.post(f"/api/v1/certificates/{cert['serial']}/suspend", {"reason": "核查"})
    assert verify(client, cert["qr_text"])["result"] == "suspended"
    w.body.post(f"/api/v1/certificates/{cert['serial']}/revoke", {"reason": "虚假培训"})
    assert verify(client, cert["qr_text"])["result"] == "revoked"


def test_verify_expired_and_review_overdue_from_registry(client):
    _, _, cert, _ = setup(client)
    row = db.session.get(Certificate, cert["serial"])
    # A welding review that fell due after 2026-06-01 lapsed with the 2026 rules (renewed at
    # expiry instead); one that fell due before it, and was not made, is overdue.
    row.review_due = max(utcnow().date() - timedelta(days=2), date(2026, 6, 1))
    db.session.commit()
    assert verify(client, cert["qr_text"])["result"] == "valid"
    row.review_due = date(2026, 5, 31)
    db.session.commit()
    out = verify(client, cert["qr_text"])
    assert out["result"] == "review_overdue" and out["certificate"]["review_required"] is True
    row.valid_until = utcnow().date() - timedelta(days=2)
    db.session.commit()
    assert verify(client, cert["qr_text"])["result"] == "expired"


def test_verify_issuer_not_accredited_at_signing(client):
    w, _, cert, _ = setup(client)
    db.session.execute(update(Accreditation).where(Accreditation.id == w.body_acc["id"])
                       .values(valid_from=utcnow().date() + timedelta(days=3)))
    bump_generation()
    db.session.commit()
    assert verify(client, cert["qr_text"])["result"] == "issuer_not_accredited"


def test_verify_suspect_open_for_inspectors_confirmed_for_all(client):
    _, _, cert, officer = setup(client)
    row = db.session.get(Certificate, cert["serial"])
    row.open_findings = 1
    db.session.commit()
    assert verify(client, cert["qr_text"])["result"] == "valid"
    assert verify(officer, cert["qr_text"])["result"] == "suspect"
    row.open_findings, row.confirmed_findings = 0, 1
    db.session.commit()
    assert verify(client, cert["qr_text"])["result"] == "suspect"


def _thief_signs(app, kid: bytes, claims) -> bytes:
    """What whoever stole the key can do: sign any claims with its private key."""
    key = db.session.get(SigningKey, kid)
    key.status = "active"  # the thief's copy of the key knows nothing of the compromise
    token = app.extensions["signer"].sign_token(key, claims)
    db.session.rollback()
    return token


def test_verify_compromised_key_keeps_the_registrys_tokens_only(client, app, runner):
    """Tokens the registry recorded under a key before its compromise verify, online and offline
    with the published lists: the first issue, a review's re-signing under the same key, and
    the old card after a later review under the body's next key. Whatever the thief signs
    under one of those serials is forged, with the status list's pins as with the registry."""
    from certificates.issuance.service import sign_certificate  # the re-signing a review does, without its evidence
    from certificates.keys import rotate_key
    from verify.verification.verdict import StatusIndex, TrustIndex, check_token
    w, wk, cert, _ = setup(client)
    row = db.session.get(Certificate, cert["serial"])
    first, old_kid = row.token, bytes(row.kid)
    signer, base = app.extensions["signer"], app.config["PUBLIC_BASE_URL"]
    row.review_due -= timedelta(days=1)  # as a review moves it: a token of its own, in any second
    sign_certificate(row, db.session.get(SigningKey, old_kid), signer, base, utcnow())
    reviewed = row.token
    sign_certificate(row, rotate_key(db.session.get(Organization, w.body.id), signer), signer, base, utcnow())
    latest = row.token
    db.session.commit()
    result = runner.invoke(args=["compromise-key", tok.b64url_encode(old_kid)])
    assert result.exit_code == 0, result.output
    claims = tok.decode(first).claims
    from dataclasses import replace
    forgeries = [_thief_signs(app, old_kid, replace(claims, holder_name="张三")),
                 _thief_signs(app, old_kid, replace(claims, category_code=claims.category_code + 1)),
                 _thief_signs(app, old_kid, replace(claims, serial=tok.new_serial()))]
    status_doc = client.get("/api/v1/status-list").get_json()
    pinned = status_doc["compromised_keys"][0]["pinned_tokens"]
    assert pinned["count"] == 2 and "allowed_serials" not in status_doc["compromised_keys"][0]
    trust = TrustIndex.from_document(client.get("/api/v1/trust-list").get_json())
    status = StatusIndex.from_document(status_doc)
    for genuine in (first, reviewed, latest):
        assert verify(client, tok.b64url_encode(genuine))["result"] == "valid"
        assert check_token(genuine, trust, status, utcnow().replace(tzinfo=UTC)).result == "valid"
    for forged in forgeries:
        out = verify(client, tok.b64url_encode(forged))
        assert (out["result"], [r["code"] for r in out["reasons"]]) == ("forged", ["compromised_key"])
        assert check_token(forged, trust, status, utcnow().replace(tzinfo=UTC)).reasons == ("compromised_key",)


def test_verify_rereads_the_keys_without_waiting_for_a_writer(client, app, caplog):
    """After a key change every worker reads the trust list again, on a connection of its own:
    it does not wait behind a transaction that holds SQLite's write lock (it used to wait out
    the 30-second busy timeout, then fail over to the view)."""
    w, _, cert, _ = setup(client)
    assert verify(client, cert["qr_text"])["result"] == "valid"  # the key table is read
    bump_generation()
    db.session.commit()
    with db.engine.connect() as writer:
        writer.begin()  # SQLite: BEGIN IMMEDIATE, the write lock; PostgreSQL: a row lock
        writer.execute(update(Accreditation).where(Accreditation.organization_id == w.body.id)
                       .values(valid_until=Accreditation.valid_until))
        with caplog.at_level("WARNING", logger="verify.verification.fastpath"):
            assert verify(client, cert["qr_text"])["result"] == "valid"
        writer.rollback()
    assert "handed to the view" not in caplog.text


def test_verify_key_reread_leaves_the_callers_session_alone(client, app):
    w, _, cert, _ = setup(client)
    table = app.extensions["key_table"]
    org = db.session.get(Organization, w.body.id)
    org.name = "改名未提交"
    db.session.flush()  # the caller's transaction, with a change not yet committed
    trust, _ = table.current(-1)  # a generation no process has read: the table is read again
    assert table.generation == -1 and trust is not None
    assert db.session().in_transaction() and db.session.get(Organization, w.body.id).name == "改名未提交"
    db.session.rollback()
    assert db.session.get(Organization, w.body.id).name != "改名未提交"


def test_verify_bad_requests(client):
    setup(client)
    assert client.post("/api/v1/verify", json={}).status_code == 422
    assert client.post("/api/v1/verify", json={"qr_text": 5}).status_code == 422
    assert client.post("/api/v1/verify", data="{", headers={"Content-Type": "application/json"}).status_code == 400
    assert client.post("/api/v1/verify", json={"qr_text": "x" * 20000}).status_code == 413


def test_verify_long_text_gets_verdict(client):
    out = verify(client, "1" * 9000)
    assert out["result"] in ("forged", "not_ours")


def test_verify_rate_limited_public_429(client, app):
    setup(client)
    app.extensions["verify_limit"] = (2, 60)
    try:
        codes = [client.post("/api/v1/verify", json={"qr_text": "x"}).status_code for _ in range(3)]
        r = client.post("/api/v1/verify", json={"qr_text": "x"})
        assert codes == [200, 200, 429] and int(r.headers["Retry-After"]) >= 1
        assert r.mimetype == "application/problem+json"
    finally:
        app.extensions["verify_limit"] = None


def test_page_valid_in_chinese_with_masked_data(client):
    w, wk, cert, _ = setup(client)
    path = "/" + cert["qr_text"].split("/", 3)[3]
    r = client.get(path)
    html = r.get_data(as_text=True)
    assert r.status_code == 200 and "有效" in html and wk["id_number_masked"] in html
    assert "lang=\"zh-CN\"" in html


def test_page_forged_and_english(client):
    _, _, cert, _ = setup(client)
    path = "/" + cert["qr_text"].split("/", 3)[3]
    bad = path[:-3] + ("111" if not path.endswith("111") else "222")
    html = client.get(bad + "?lang=en").get_data(as_text=True)
    assert "FORGED" in html and "Not a genuine certificate" in html


def test_page_any_text_never_error(client):
    for path in ("/V/", "/V/abc", "/v/" + "9" * 3000, "/V/%00%ff"):
        assert client.get(path).status_code in (200, 404)
