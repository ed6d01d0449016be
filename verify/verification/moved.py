"""Where the regulator's old pages were: ``/regulator/*`` now sends the browser to the console.

The dashboard, the review queue and the case pages once sat behind a regulator's API key kept in
an ``az_key`` cookie; people now sign in to the console as themselves (password and TOTP) and the
pages live in ``console_regulator_views``. Each old address answers with a redirect to its
console equivalent and drops the old cookies, so no API key lingers in a browser.

Must not: accept a key (from a form, a cookie or a URL) or change anything: a POST to an old
form is answered with the same redirect, and nothing is done.
"""
from __future__ import annotations

from flask import redirect, request

from verify.web import bp

PATH = "/regulator"
MOVED = {"": "/console/dashboard", "dashboard": "/console/dashboard", "sign-in": "/console/sign-in",
         "sign-out": "/console/", "findings": "/console/findings", "cases": "/console/cases"}


def console_address(rest: str) -> str:
    parts = [p for p in rest.split("/") if p]
    if len(parts) >= 2 and parts[0] in ("cases", "findings") and parts[1].isalnum() and len(parts[1]) <= 16:
        return f"/console/{parts[0]}/{parts[1]}"
    return MOVED.get(parts[0] if parts else "", "/console/")


@bp.route(PATH, defaults={"rest": ""}, methods=["GET", "POST"])
@bp.route(f"{PATH}/<path:rest>", methods=["GET", "POST"])
def regulator_moved(rest):
    resp = redirect(console_address(rest), 301 if request.method == "GET" else 303)
    for cookie in ("az_key", "az_csrf"):
        if cookie in request.cookies:
            resp.delete_cookie(cookie, path=PATH, httponly=True, samesite="Strict")
    return resp
