"""No full identity number leaves the service: demo-like data is built with numbers the test
knows, then every response, page, QR code, token, card and log line produced is searched for
each of them."""
from __future__ import annotations

import logging
from io import BytesIO

import pytest
from PIL import Image
from pypdf import PdfReader
from sqlalchemy import select

from certificates.token import b64url_decode, decode, extract_token
from tests import factories as f
from tests.certificates.test_issuance import issue, ready_worker
from tests.certificates.test_qr import decode as read_qr
from training import demo
from training.db import db
from training.people.models import Worker


def _recording(client, seen: list):
    original = client.open

    def open_and_keep(*args, **kwargs):
        resp = original(*args, **kwargs)
        seen.append(("response", resp.get_data()))
        return resp
    client.open = open_and_keep
    return client


def test_no_full_identity_number_anywhere(client, backend, caplog, monkeypatch):
    if backend != "sqlite":
        pytest.skip("what is shown does not depend on the database; SQLite suffices")
    caplog.set_level(logging.DEBUG)
    numbers: set[str] = set()

    def known(make):
        def wrapper(*args, **kwargs):
            n = make(*args, **kwargs)
            numbers.add(n)
            return n
        return wrapper
    monkeypatch.setattr(demo, "generate_id_number", known(demo.generate_id_number))
    monkeypatch.setattr(f, "id_number", known(f.id_number))
    seen: list[tuple[str, bytes]] = []
    _recording(client, seen)

    w = f.World(client)
    from training.parties.models import Organization
    demo.load_demo(db.session.get(Organization, w.reg.id), seed=11)
    db.session.commit()
    certs = [issue(w, ready_worker(w)).get_json() for _ in range(2)]
    insp = f.org(w.reg, "inspectorate")
    officer = f.Api(client, w.reg.post(f"/api/v1/organizations/{insp.id}/api-keys",
                                       {"holder": {"name": "李明", "badge": "豫A1024"}}).get_json()["api_key"])
    # Refusals must not echo a number either: a known number with its check digit broken.
    some = sorted(numbers)[0]
    broken = some[:-1] + ("0" if some[-1] != "0" else "1")
    numbers.add(broken)
    assert w.body.post("/api/v1/workers", {"name": "王芳", "id_number": broken}).status_code == 422
    # A registered number with another name is refused (409) without echoing the number either.
    assert w.body.post("/api/v1/workers", {"name": "王芳", "id_number": some}).status_code in (200, 201, 409)

    for cert in certs:
        serial = cert["serial"]
        path = "/" + cert["qr_text"].split("/", 3)[3]
        client.post("/api/v1/verify", json={"qr_text": cert["qr_text"]})
        officer.post("/api/v1/verify", {"qr_text": cert["qr_text"]})
        client.get(path)
        client.get(path + "?lang=en")
        w.body.get(f"/api/v1/certificates/{serial}")
        png = w.body.get(f"/api/v1/certificates/{serial}/qr.png").get_data()
        w.body.get(f"/api/v1/certificates/{serial}/qr.svg")
        pdf = w.body.get(f"/api/v1/certificates/{serial}/card.pdf").get_data()
        scanned = read_qr(Image.open(BytesIO(png))).text
        assert scanned == cert["qr_text"]
        claims = decode(extract_token(scanned)[1]).claims
        seen.append(("qr", scanned.encode()))
        seen.append(("token claims", repr(claims).encode()))
        seen.append(("token", b64url_decode(cert["token"])))
        seen.append(("card text", "".join(p.extract_text() for p in PdfReader(BytesIO(pdf)).pages).encode()))
    for worker_id in db.session.scalars(select(Worker.id)):
        w.reg.get(f"/api/v1/workers/{worker_id}")
    for path in ("/api/v1/trust-list", "/api/v1/status-list", "/api/v1/organizations", "/api/v1/sessions",
                 "/api/v1/openapi.json"):
        w.reg.get(path)
        w.body.get(path)

    assert len(numbers) > 50 and len(seen) > 100
    seen += [("log", (r.getMessage() + (r.exc_text or "")).encode()) for r in caplog.records]
    leaks = [(where, n) for where, raw in seen for n in numbers
             if n.encode() in raw or n.lower().encode() in raw]
    assert leaks == []
