"""The public verify page (/v/...) in a real browser, phone and desktop, Chinese and English: a
certificate issued under the 2026 rules says it is renewed at expiry rather than reviewed, and the
small print names the rules it was issued under. Screenshots: docs/img/verify-valid*.png."""
from __future__ import annotations

from tests.browser import PHONE, chromium, live_server, screenshots
from tests.verify.test_inspect_e2e import inspect_world
from training.db import db

_shot = screenshots("verify-")


def test_verify_page_says_which_rules_applied(app, client, backend):
    _, cert, _, _ = inspect_world(client, backend)
    db.session.commit()  # end the test thread's read so the server thread can read freely (SQLite locks)
    path = "/" + cert["qr_text"].split("/", 3)[3]
    with live_server(app) as base, chromium() as browser:
        for name, options in (("valid-phone", PHONE), ("valid", {"viewport": {"width": 1280, "height": 800},
                                                                  "locale": "zh-CN"})):
            page = browser.new_context(**options).new_page()
            page.goto(base + path)
            text = page.text_content("body")
            assert "有效" in text and "无需复审，到期换证" in text
            assert "发证所依规定：" in text and "应急管理部令第19号" in text and "（2026）" in text
            assert "待原文核对" in text  # the 2026 figures are marked as reported
            _shot(page, name, full=True)
        page = browser.new_context(**{**PHONE, "locale": "en-US"}).new_page()
        page.goto(base + path + ("&" if "?" in path else "?") + "lang=en")
        text = page.text_content("body")
        assert "No review: renewed at expiry" in text and "Issued under: " in text and "MEM Order No. 19" in text
        _shot(page, "valid-phone-en", full=True)
