"""Keyless verification answered in front of Flask (verify/verification/fastpath.py): the same bytes as the
view, the same limit counted once, and everything it does not answer handed on untouched."""
from __future__ import annotations

import json

import pytest
from werkzeug.test import EnvironBuilder, run_wsgi_app

from certificates import token as tok
from tests import factories as f
from tests.certificates.test_issuance import issue, ready_worker
from training.db import db
from verify.verification import fastpath
from verify.verification.models import Scan


@pytest.fixture
def paths(app):
    """(fast, flask): the application as served, and Flask alone behind it, counting what
    reaches Flask."""
    served = app.wsgi_app
    assert isinstance(served, fastpath.FastVerify)
    flask_app = served.wsgi_app
    reached = []

    def counting(environ, start_response):
        reached.append(environ.get("PATH_INFO"))
        return flask_app(environ, start_response)
    served.wsgi_app = counting
    try:
        yield served, flask_app, reached
    finally:
        served.wsgi_app = flask_app


def call(wsgi, body=None, data=None, headers=None, query=None, method="POST"):
    env = EnvironBuilder(path="/api/v1/verify", method=method, headers=headers or {}, query_string=query,
                         data=data if data is not None else json.dumps(body, ensure_ascii=False).encode(),
                         content_type="application/json", environ_base={"REMOTE_ADDR": "10.0.0.9"}).get_environ()
    app_iter, status, resp_headers = run_wsgi_app(wsgi, env)
    out = b"".join(app_iter)
    if hasattr(app_iter, "close"):
        app_iter.close()
    return status, list(resp_headers.items()), out


@pytest.fixture
def cert(client):
    w = f.World(client)
    return issue(w, ready_worker(w)).get_json()


def _texts(cert):
    raw = bytearray(tok.b64url_decode(cert["token"]))
    raw[-1] ^= 1
    forged = cert["qr_text"].rsplit("/", 1)[0] + "/" + tok.b64url_encode(bytes(raw))
    return [cert["qr_text"], cert["token"], f"  {cert['qr_text']}\n", forged, "https://example.com/hello",
            "plain words", cert["qr_text"][:-5], "9" * 40]


@pytest.mark.parametrize("lang", [None, "en", "en-US,en;q=0.9", "zh-CN,zh;q=0.9", "fr", "xx;q=bad"])
def test_answers_byte_for_byte_as_the_view(app, cert, paths, lang):
    fast, flask_app, reached = paths
    headers = {"Accept-Language": lang} if lang else {}
    for text in _texts(cert):
        mine = call(fast, {"qr_text": text}, headers=headers)
        assert reached == [], "the fast path let a plain verification through"
        theirs = call(flask_app, {"qr_text": text}, headers=headers)
        assert mine == theirs, text
    assert json.loads(call(fast, {"qr_text": cert["qr_text"]})[2])["result"] == "valid"


@pytest.mark.parametrize("case", [
    dict(body={"qr_text": "x", "site_id": "abc"}),  # more than the text: the view's schema
    dict(body={"qr_text": 5}),
    dict(body=["qr_text"]),
    dict(data=b"{not json"),
    dict(data=b""),
    dict(data=b"\xff\xfe"),
    dict(data=json.dumps({"qr_text": "a" * 17000}).encode()),  # over the body cap: 413
    dict(body={"qr_text": "x"}, query="lang=en"),
    dict(body={"qr_text": "x"}, method="PUT"),
    dict(body={"qr_text": "x"}, headers={"Authorization": "Bearer az_nope_nope"}),
], ids=["extra-field", "not-text", "not-object", "bad-json", "empty", "bad-utf8", "too-large", "query",
        "put", "bad-key"])
def test_hands_everything_else_to_the_view_unchanged(app, cert, paths, case):
    fast, flask_app, reached = paths
    mine = call(fast, **case)
    assert reached == ["/api/v1/verify"]
    assert mine == call(flask_app, **case)
    assert not mine[0].startswith("5")


def test_an_inspectors_scan_is_recorded_by_the_view(app, client, cert, paths):
    fast, _, reached = paths
    w = f.World(client)
    insp = f.org(w.reg, "inspectorate")
    key = w.reg.post(f"/api/v1/organizations/{insp.id}/api-keys", {"holder": {"name": "李明"}}).get_json()["api_key"]
    reached.clear()
    status, _, body = call(fast, {"qr_text": cert["qr_text"]}, headers={"Authorization": f"Bearer {key}"})
    assert status.startswith("200") and reached == ["/api/v1/verify"]
    assert db.session.get(Scan, json.loads(body)["scan_id"]) is not None


def test_the_limit_is_counted_once_and_refused_by_the_view(app, cert, paths, monkeypatch):
    fast, _, reached = paths
    monkeypatch.setitem(app.extensions, "verify_limit", (3, 3600))
    answers = [call(fast, {"qr_text": cert["qr_text"]}) for _ in range(5)]
    assert [a[0][:3] for a in answers] == ["200", "200", "200", "429", "429"]
    assert reached == ["/api/v1/verify"] * 2  # the refusals only
    assert dict(answers[3][1])["Content-Type"] == "application/problem+json"
    assert int(dict(answers[3][1])["Retry-After"]) > 0


def test_a_failure_is_answered_by_the_view_and_counted_once(app, cert, paths, monkeypatch, caplog):
    fast, _, reached = paths
    monkeypatch.setitem(app.extensions, "verify_limit", (2, 3600))

    def broken(*_a, **_k):
        raise RuntimeError("registry unreachable")
    monkeypatch.setattr(fastpath, "verify_text", broken)
    first = call(fast, {"qr_text": cert["qr_text"]})
    assert first[0].startswith("200") and reached == ["/api/v1/verify"]  # the view's own attempt
    assert json.loads(first[2])["result"] == "valid"
    assert "handed to the view after RuntimeError" in caplog.text and "unreachable" not in caplog.text
    assert call(fast, {"qr_text": cert["qr_text"]})[0].startswith("200")
    assert call(fast, {"qr_text": cert["qr_text"]})[0].startswith("429")


def test_off_leaves_flask_alone():
    from tests.conftest import SECRETS
    from wsgi import create_app
    app = create_app({**SECRETS, "DATABASE_URL": "sqlite://", "VERIFY_FAST_PATH": "off"})
    assert not isinstance(app.wsgi_app, fastpath.FastVerify)
