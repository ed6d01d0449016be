"""The hottest request answered in front of the web framework: a keyless POST /api/v1/verify
whose body is exactly ``{"qr_text": "<text>"}``.

Profiled under gunicorn, Flask's request machinery (request context, cookie session, URL
matching, hooks, teardown) cost about as much as the verdict itself. This WSGI layer answers
that one request with the same rate limit, the same verdict (``service.verify_text``), the
same words and the same bytes as the view ``verify.verification.views.verify_api``, inside an application
context (the database engines live there). Anything else goes on to Flask untouched: another
route or method, an API key (inspectors' scans are recorded by the view), a query string, a
body the view would refuse or validate, a client over its limit (counted once, here; the view
answers the 429), and any error (the view tries again, and answers and logs as it always does).
``VERIFY_FAST_PATH=off`` sends everything to Flask. tests/verify/test_fastpath.py checks that both
answer byte for byte alike.
"""
from __future__ import annotations

import io
import json
import logging

from flask import Flask

from training.web.http import SECURITY_HEADERS
from training.web.i18n import lang_for
from verify.verification.messages import verdict_body
from verify.verification.service import verify_text

_log = logging.getLogger(__name__)
PATH = "/api/v1/verify"
MAX_BODY = 16 * 1024  # verify.verification.views.MAX_VERIFY_BODY: larger bodies go to the view's 413
COUNTED = "anzheng.verify_counted"  # this request has been counted against the public limit
WAIT = "anzheng.verify_wait"  # ... and is over it by this many seconds


class FastVerify:
    def __init__(self, app: Flask, wsgi_app):
        self.app = app
        self.wsgi_app = wsgi_app  # Flask's own: everything this does not answer
        self._headers = [("Content-Type", "application/json")]

    def __call__(self, environ, start_response):
        if (environ.get("PATH_INFO") == PATH and environ.get("REQUEST_METHOD") == "POST"
                and "HTTP_AUTHORIZATION" not in environ and not environ.get("QUERY_STRING")):
            answer = self._answer(environ)
            if answer is not None:
                start_response("200 OK", self._headers + [("Content-Length", str(len(answer)))]
                               + list(SECURITY_HEADERS))  # in the order Flask's after_request adds them
                return [answer]
        return self.wsgi_app(environ, start_response)

    def _answer(self, environ) -> bytes | None:
        """The verdict's bytes, or None to let the view answer."""
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return None
        if not 0 < length <= MAX_BODY or environ.get("HTTP_TRANSFER_ENCODING"):
            return None
        raw = environ["wsgi.input"].read(length)
        environ["wsgi.input"] = io.BytesIO(raw)  # the view reads the body again if it answers
        try:
            body = json.loads(raw)
        except (ValueError, UnicodeDecodeError, RecursionError):  # the view counts it and answers 400
            return None
        if type(body) is not dict or len(body) != 1 or type(body.get("qr_text")) is not str:
            return None
        app = self.app
        with app.app_context():
            environ[COUNTED] = True  # counted from here on, even if counting fails half-way
            try:
                wait = app.extensions["verify_counts"].hit(f"verify:{environ.get('REMOTE_ADDR')}",
                                                           app.extensions["verify_limit"])
                if wait is not None:
                    environ[WAIT] = wait
                    return None
                outcome = verify_text(body["qr_text"], app.extensions["key_table"], None)
            except Exception as err:  # noqa: BLE001 - the view meets it again and answers as always
                # Its type only: a driver's message may quote what was sent.
                _log.warning("keyless verification handed to the view after %s", type(err).__name__)
                return None
            answer = verdict_body(outcome, lang_for(environ.get("HTTP_ACCEPT_LANGUAGE")))
        return json.dumps(answer, ensure_ascii=False, separators=(",", ":")).encode()


def install(app: Flask) -> None:
    if app.config.get("VERIFY_FAST_PATH", True):
        app.wsgi_app = FastVerify(app, app.wsgi_app)
