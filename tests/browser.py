"""Browser tests' plumbing: Debian's chromium driven by Playwright, and the real server in a thread.

Never `playwright install`: the browser is /usr/bin/chromium (scripts/test installs Debian's
package when it is missing and it may). Without it, or without the playwright package, the
browser tests are skipped with the reason.
"""
from __future__ import annotations

import os
import threading
from contextlib import contextmanager
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"]
PHONE = {"viewport": {"width": 360, "height": 740}, "device_scale_factor": 2, "is_mobile": True,
         "has_touch": True, "locale": "zh-CN"}


def require_browser():
    """Skip, saying why, when the browser or its driver is not here."""
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is missing: scripts/test installs Debian's chromium when run as root")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        pytest.skip("playwright is not installed (requirements-dev.txt)")


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
