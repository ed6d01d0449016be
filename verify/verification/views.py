"""HTTP views of verification: the API verdict and the page behind every QR code."""
from __future__ import annotations

from flask import current_app, render_template, request

from training.accounts.api_keys import current_caller
from training.catalogue import load_catalogue
from training.errors import PayloadTooLarge, TooManyRequests
from training.web.http import json_body, json_response, unit_of_work
from training.web.i18n import api_lang, current_lang
from training.web.openapi import doc
from verify.findings.service import restate
from verify.verification import fastpath
from verify.verification.messages import reasons, verdict_body
from verify.verification.scans import record_scan
from verify.verification.schemas import VerdictSchema, VerifyRequestSchema
from verify.verification.service import PRIVILEGED, verify_text
from verify.web import bp

MAX_VERIFY_BODY = fastpath.MAX_BODY


def _limit_public() -> None:
    """Keyless verification is limited per client; keyed callers are known and not limited.
    A client over its limit of failed keys waits like one over the public limit. A request the
    fast path (verify.verification.fastpath) has counted already is not counted again."""
    if current_caller() is not None:
        return
    env = request.environ
    if env.get(fastpath.COUNTED):
        wait = env.get(fastpath.WAIT)
    else:
        wait = env.get("anzheng.auth_retry_after") or current_app.extensions["verify_counts"].hit(
            f"verify:{request.remote_addr}", current_app.extensions["verify_limit"])
    if wait is not None:
        raise TooManyRequests("Too many verifications from this client; try again shortly.",
                              headers={"Retry-After": str(wait)})


_REQUEST = VerifyRequestSchema()


def _verify_request(body: dict) -> dict:
    """The common scan, {"qr_text": "..."}, needs no schema: the body cap already bounds the
    text below the schema's limit. Anything else goes through the schema."""
    if len(body) == 1 and type(body.get("qr_text")) is str:
        return body
    return _REQUEST.load(body)


@bp.post("/api/v1/verify")
@doc("Verify any scanned text; inspectors' keys record the scan", body=VerifyRequestSchema,
     response=VerdictSchema, tags=["verification"], errors=("400", "413", "422", "429"))
def verify_api():
    # The verdict only reads (service.verify_text: no session, no transaction); an inspector's
    # scan record is the one write, in its own unit of work.
    if (request.content_length or 0) > MAX_VERIFY_BODY:
        raise PayloadTooLarge(f"A verification request is at most {MAX_VERIFY_BODY} bytes.")
    _limit_public()
    data = _verify_request(json_body())
    caller = current_caller()
    kind = caller.kind if caller else None
    outcome = verify_text(data["qr_text"], current_app.extensions["key_table"], kind)
    body = verdict_body(outcome, api_lang())
    if caller is not None and kind in PRIVILEGED:
        with unit_of_work():
            body["scan_id"] = record_scan(outcome, caller, data).id
        body.update(restate(outcome, current_lang()))  # the scan that reveals a clone is already suspect
    return json_response(body)


VERDICT_STYLE = {"valid": "ok", "suspect": "warn", "review_overdue": "warn"}


@bp.get("/V/<path:rest>")
@bp.get("/v/<path:rest>")
def verify_page(rest):
    try:
        _limit_public()
    except TooManyRequests as err:
        return render_template("verdict.html", outcome=None, retry=err.extra["headers"]["Retry-After"]), 429
    outcome = verify_text(request.base_url, current_app.extensions["key_table"], None)
    lang = current_lang()
    return render_template("verdict.html", outcome=outcome, style=VERDICT_STYLE.get(outcome.result, "bad"),
                           reasons=reasons(outcome.reasons, lang), retry=None, rule_set=load_catalogue().rule_set)
