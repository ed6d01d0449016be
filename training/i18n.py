"""Page language: Chinese first, English available.

The language is chosen by ``?lang=`` (remembered in a cookie), then the cookie, then the
browser's Accept-Language between zh and en, and Chinese otherwise. Templates call ``t(zh, en)``.
"""
from __future__ import annotations

from flask import Flask, g, request

LANGS = ("zh", "en")


def current_lang() -> str:
    if "lang" not in g:
        asked = request.args.get("lang") or request.cookies.get("lang")
        if asked not in LANGS:
            asked = request.accept_languages.best_match(LANGS, default="zh") if request.accept_languages else "zh"
        g.lang = asked
    return g.lang


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
