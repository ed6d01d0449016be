"""Page language: Chinese first, English available.

The language is chosen by ``?lang=`` (remembered in a cookie), then the cookie, and is Chinese
otherwise, whatever the browser asks: the pages are Chinese first and English on request.
Templates call ``t(zh, en)``.
"""
from __future__ import annotations

from flask import Flask, request
from werkzeug.datastructures import LanguageAccept
from werkzeug.http import parse_accept_header

LANGS = ("zh", "en")


def current_lang() -> str:
    env = request.environ  # per request, not ``g``: an app context can outlive one request
    if "anzheng.lang" not in env:
        asked = request.args.get("lang") or request.cookies.get("lang")
        env["anzheng.lang"] = asked if asked in LANGS else "zh"
    return env["anzheng.lang"]


def t(zh: str, en: str) -> str:
    return en if current_lang() == "en" else zh


def init_app(app: Flask) -> None:
    app.jinja_env.globals.update(t=t, current_lang=current_lang)

    @app.after_request
    def _remember(resp):
        asked = request.args.get("lang")
        if asked in LANGS and request.cookies.get("lang") != asked:
            resp.set_cookie("lang", asked, max_age=365 * 86400, samesite="Lax")
        return resp


def api_lang() -> str:
    """Language of messages in API responses: the client's Accept-Language, Chinese by default."""
    return lang_for(request.environ.get("HTTP_ACCEPT_LANGUAGE"))


def lang_for(accept_language: str | None) -> str:
    """``api_lang`` for an Accept-Language header's value (None or empty: none sent)."""
    if not accept_language:  # most scanners send none: skip the parse
        return "zh"
    accepted = parse_accept_header(accept_language, LanguageAccept)
    if accepted:
        return accepted.best_match(LANGS, default="zh") or "zh"
    return "zh"
