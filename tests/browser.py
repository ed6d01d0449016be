"""Browser tests' plumbing: Debian's chromium driven by Playwright, the real server in a thread,
and what the end-to-end files share (the skip when the browser is missing, a seeded app served on
loopback, desktop and phone contexts, signing in to the console, screenshots for docs/img).

Never `playwright install`: the browser is /usr/bin/chromium (scripts/test installs Debian's
package when it is missing and it may). Without it, or without the playwright package, the
browser tests are skipped with the reason.
"""
from __future__ import annotations

import os
import threading
import time
from contextlib import contextmanager
from datetime import timedelta, timezone
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"]
PHONE = {"viewport": {"width": 360, "height": 740}, "device_scale_factor": 2, "is_mobile": True,
         "has_touch": True, "locale": "zh-CN"}
DESKTOP_VIEW, PHONE_VIEW = {"width": 1280, "height": 800}, {"width": 390, "height": 844}  # the console's
SHOTS = Path(__file__).resolve().parents[1] / "docs" / "img"
CST = timezone(timedelta(hours=8))


def _missing() -> str | None:
    if not Path(CHROMIUM).exists():
        return (f"Debian's chromium is not installed at {CHROMIUM} (apt-get install chromium; "
                "scripts/test does it when run as root)")
    try:
        import playwright.sync_api  # noqa: F401  (only whether it imports)
    except ImportError:
        return "playwright is not installed (requirements-dev.txt)"
    return None


MISSING = _missing()
# For a module whose every test needs the browser: ``pytestmark = needs_browser``.
needs_browser = pytest.mark.skipif(MISSING is not None, reason=MISSING or "")


def require_browser():
    """Skip, saying why, when the browser or its driver is not here."""
    if MISSING:
        pytest.skip(MISSING)


@contextmanager
def live_server(app):
    """The app served by werkzeug on a free loopback port, in a thread, for the test's length."""
    from werkzeug.serving import make_server
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(10)


@contextmanager
def chromium(extra_args=()):
    from playwright.sync_api import sync_playwright
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS + list(extra_args), headless=True)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture(scope="module")
def browser():
    """One Chromium for a test module (a fixture: import it into the module that uses it)."""
    with chromium() as b:
        yield b


@contextmanager
def served_world(tmp_dir: Path, seed, **config):
    """A fresh app on its own SQLite file in ``tmp_dir``, seeded by ``seed(app)`` in an app
    context, then served on a free loopback port: yields the seed's dict with ``base`` and ``app``."""
    from flask_migrate import stamp

    from tests.conftest import SECRETS
    from training.db import db
    from wsgi import create_app
    app = create_app({**SECRETS, "DATABASE_URL": f"sqlite:///{tmp_dir / 'e2e.db'}", "RATE_LIMIT_VERIFY": "off",
                      **config})
    with app.app_context():
        db.create_all()
        stamp()
        world = seed(app)
    with live_server(app) as base:
        world.update(base=base, app=app)
        yield world
    with app.app_context():
        db.engine.dispose()


def context(browser, phone: bool = False):
    """A new context as a person in China sees the console: desktop 1280x800 or phone 390x844."""
    return browser.new_context(viewport=PHONE_VIEW if phone else DESKTOP_VIEW, locale="zh-CN",
                               device_scale_factor=1, is_mobile=phone, has_touch=phone)


def screenshots(prefix: str):
    """``shot(page, name, full=False)``, which saves the page as docs/img/<prefix><name>.png."""
    def shot(page, name: str, full: bool = False) -> None:
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / f"{prefix}{name}.png"), full_page=full)
    return shot


def totp_code(app, login: str, secret: str) -> str:
    """The current code, or the next one when this 30-second step's was already used."""
    import pyotp

    from training.accounts.models import Account
    from training.db import db
    with app.app_context():
        last = db.session.query(Account.totp_last_step).filter(Account.login == login).scalar() or 0
    return pyotp.TOTP(secret).generate_otp(max(int(time.time() // 30), last + 1))


def sign_in(page, base: str, login: str, password: str, secret: str | None = None, app=None) -> None:
    """Sign in to the console, with the authenticator's code when ``secret`` is given."""
    page.goto(f"{base}/console/sign-in")
    page.fill("#login", login)
    page.fill("#password", password)
    page.click("button[type=submit]")
    if secret:
        page.wait_for_selector("#code")
        page.fill("#code", totp_code(app, login, secret))
        page.click("form[action='/console/sign-in/code'] button[type=submit]")
    page.wait_for_url(f"{base}/console/")


def y4m_from_png(png: bytes, path: Path, width: int = 640, height: int = 480) -> Path:
    """A one-frame Y4M video of a picture on white (Chromium loops it as a fake camera)."""
    import io

    from PIL import Image
    qr = Image.open(io.BytesIO(png)).convert("RGB")
    side = min(width, height) - 40
    qr = qr.resize((side, side), Image.NEAREST)
    frame = Image.new("RGB", (width, height), "white")
    frame.paste(qr, ((width - side) // 2, (height - side) // 2))
    y, cb, cr = frame.convert("YCbCr").split()
    half = (width // 2, height // 2)
    with open(path, "wb") as fh:
        fh.write(f"YUV4MPEG2 W{width} H{height} F10:1 Ip A1:1 C420jpeg\n".encode())
        fh.write(b"FRAME\n" + y.tobytes() + cb.resize(half).tobytes() + cr.resize(half).tobytes())
    return path


def wait_for(page, expression: str, arg=None, timeout: float = 30000):
    """``page.wait_for_function`` for pages whose Content-Security-Policy refuses eval (the
    scanner's): Playwright polls a string predicate with eval inside the page, which the policy
    blocks; this polls from here with ``page.evaluate`` (DevTools' own evaluation, which the
    policy does not govern). Returns the predicate's first truthy value."""
    deadline = time.monotonic() + timeout / 1000
    while True:
        value = page.evaluate(expression, arg)
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"not true within {timeout:g} ms: {expression[:120]}")
        time.sleep(0.05)
