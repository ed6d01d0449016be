"""The scanner end to end in a real headless Chromium (Debian's, driven by Playwright).

The app loads from the real server, caches the signed lists, goes offline, verifies a valid, a
revoked and a tampered certificate from pasted text, records a person without a card, reopens
offline from its service worker, marks stale lists, comes back online and uploads; the server
then holds the scans with the right verdicts. A second run reads a certificate's QR code from a
fake camera. Screenshots of the main screens go to docs/img/inspect-*.png.
"""
from __future__ import annotations

import pytest
from sqlalchemy import select

from certificates import token as tok
from tests import factories as f
from tests.browser import PHONE, chromium, live_server, require_browser, screenshots, wait_for, y4m_from_png
from tests.certificates.test_issuance import issue, ready_worker
from tests.verify.test_online import setup
from training.db import db
from verify.verification.models import Scan

_save = screenshots("inspect-")
# Moves the page's clock (Date.now) by what the test leaves in localStorage: stale lists, on demand.
SHIFT_CLOCK = """(() => { const shift = Number(localStorage.getItem('e2e-clock-shift') || 0);
  if (shift) { const real = Date.now.bind(Date); Date.now = () => real() + shift; } })();"""


def inspect_world(client, backend):
    """What the scanner's browser tests start from: SQLite only (the API it calls is tested on
    both), a browser, an inspector's key, a valid certificate and a revoked one."""
    if backend != "sqlite":
        pytest.skip("the browser runs once, on SQLite; the API it calls is tested on both backends")
    require_browser()
    w, wk, cert, officer = setup(client)
    revoked = issue(w, ready_worker(w)).get_json()
    w.body.post(f"/api/v1/certificates/{revoked['serial']}/revoke", {"reason": "虚假培训"})
    return w, cert, revoked, officer


@pytest.fixture
def world(app, client, backend):
    w, cert, revoked, officer = inspect_world(client, backend)
    site = officer.post("/api/v1/sites", {"name": "三号井 井下作业区", "latitude": 34.7, "longitude": 113.6}).get_json()
    raw = bytearray(tok.b64url_decode(cert["token"]))
    raw[60] ^= 0x01
    qr_png = officer.get(f"/api/v1/certificates/{cert['serial']}/qr.png").data
    db.session.commit()  # end the test thread's read so the server thread can write (SQLite locks)
    return {"w": w, "cert": cert, "revoked": revoked, "officer": officer, "site": site, "qr_png": qr_png,
            "tampered": tok.qr_text(bytes(raw), "https://verify.example.test")}


def _shot(page, name):
    page.evaluate("window.scrollTo(0, 0); document.getElementById('flash').hidden = true")
    page.wait_for_timeout(150)
    _save(page, name)


def _tab(page, view):
    page.click(f".tabs button[data-view={view}]")


def _verify_pasted(page, text, expected):
    _tab(page, "home")
    page.fill("[data-testid=paste]", text)
    page.click("[data-testid=paste-verify]")
    verdict = page.wait_for_selector(f"[data-testid=verdict][data-result={expected}]", timeout=10000)
    return verdict.get_attribute("data-source")


def _sign_in_and_choose_site(page, world):
    _tab(page, "settings")
    page.fill("[data-testid=api-key]", world["officer"].key)
    page.click("[data-testid=api-key-save]")
    _tab(page, "home")
    wait_for(page, "document.querySelectorAll('#site option').length > 1", timeout=10000)
    page.select_option("#site", world["site"]["id"])


def test_inspect_offline_verify_queue_and_sync(app, world):
    with live_server(app) as base, chromium() as browser:
        ctx = browser.new_context(**PHONE)
        ctx.add_init_script(SHIFT_CLOCK)
        page = ctx.new_page()
        page.goto(f"{base}/inspect")
        page.wait_for_selector("body[data-ready='1']")
        wait_for(page, "document.querySelector('[data-testid=lists-age]').textContent.includes('名单更新于')")
        _sign_in_and_choose_site(page, world)
        assert page.evaluate("navigator.serviceWorker.ready.then(r => !!r.active)")
        _shot(page, "home")

        ctx.set_offline(True)
        wait_for(page, "document.getElementById('net').textContent === '离线'")
        assert _verify_pasted(page, world["cert"]["qr_text"], "valid") == "offline"
        codes = page.eval_on_selector_all("[data-testid=reasons] li", "els => els.map(e => e.dataset.code)")
        assert codes == ["signature_valid", "offline_registry_not_checked"]
        name = page.text_content("[data-testid=holder-name]")
        assert "*" in name and page.text_content("[data-testid=holder-id]").count("*") == 8
        # Issued under the 2026 rules: the trust list says no review falls due, so none is shown.
        assert page.text_content("[data-testid=review-due]") == "无需复审，到期换证"
        page.click("[data-testid=holder-match]")
        page.select_option("#task", "welder")
        _shot(page, "verdict-valid")
        page.click("#add-check-btn")

        assert _verify_pasted(page, world["revoked"]["qr_text"], "revoked") == "offline"
        page.click("[data-testid=holder-mismatch]")
        page.select_option("#task", "welder")
        page.click("#add-check-btn")
        assert _verify_pasted(page, world["tampered"], "forged") == "offline"
        _shot(page, "verdict-forged")

        _tab(page, "home")
        page.click("#nocard-btn")
        page.fill("[data-testid=id-number]", "110101199003071234")  # wrong check digit
        assert "校验不通过" in page.text_content("#id-state")
        person = f.id_number()
        page.fill("[data-testid=id-number]", person)
        assert "号码格式正确" in page.text_content("#id-state")
        page.select_option("#nocard-task", "confined_space_worker")
        # Even a generated number stays out of the published screenshot: blur the field for it.
        # (through the element's style: the page's policy refuses inline style sheets)
        field = "[data-testid=id-number]"
        page.eval_on_selector(field, "el => { el.style.filter = 'blur(6px)'; }")
        _shot(page, "nocard")
        page.eval_on_selector(field, "el => { el.style.filter = ''; }")
        page.click("[data-testid=nocard-add]")
        page.wait_for_selector("#submit-record:not([disabled])")
        assert person not in page.content()  # the full number never reaches the page
        page.fill("#officers", "王强 豫A2048")
        page.dispatch_event("#officers", "change")
        _shot(page, "record")
        page.click("#submit-record")

        # Reopened with no network: the service worker serves the app, IndexedDB the lists. With
        # the device's clock 30 hours on, the lists are stale and a valid is no longer green.
        page.evaluate("localStorage.setItem('e2e-clock-shift', String(30 * 3600 * 1000))")
        page.reload()
        page.wait_for_selector("body[data-ready='1']")
        wait_for(page, "document.querySelector('[data-testid=lists-age]').textContent.includes('名单已过期')")
        _verify_pasted(page, world["cert"]["qr_text"], "valid")
        assert "warn" in page.get_attribute("[data-testid=verdict]", "class")
        assert page.is_visible("[data-testid=stale-warning]")
        _shot(page, "stale")
        page.evaluate("localStorage.removeItem('e2e-clock-shift')")
        page.reload()
        page.wait_for_selector("body[data-ready='1']")
        _tab(page, "queue")
        # The queue is read from IndexedDB after the tab opens: wait for it rather than count at once.
        wait_for(page, 
            "document.querySelectorAll('[data-testid=scan-row][data-state=queued]').length >= 4", timeout=20000)
        assert page.locator("[data-testid=scan-row][data-state=queued]").count() == 4

        ctx.set_offline(False)  # the 'online' event uploads the queue
        wait_for(page, "document.getElementById('net').textContent === '在线'")
        wait_for(page, """document.querySelectorAll('[data-testid=scan-row][data-state=synced]').length === 4
            && !document.querySelector('.flash:not([hidden])')""", timeout=20000)
        _shot(page, "queue")
        _tab(page, "settings")
        _shot(page, "settings")
        records = page.evaluate("""new Promise(ok => { const r = indexedDB.open('anzheng-inspect');
            r.onsuccess = () => { const q = r.result.transaction('inspections').objectStore('inspections').getAll();
            q.onsuccess = () => ok(q.result.map(x => x.state)); }; })""")
        ctx.close()

    db.session.rollback()
    scans = db.session.scalars(select(Scan).where(Scan.offline == 1).order_by(Scan.received_at)).all()
    assert sorted(s.result for s in scans) == ["forged", "revoked", "valid", "valid"]
    assert len({s.client_ref for s in scans}) == 4 and all(s.site_id == world["site"]["id"] for s in scans)
    assert all(s.clock_offset_s is not None and abs(s.clock_offset_s) <= 5 for s in scans)
    assert all(s.officer_badge == "豫A1024" and s.scanned_at is not None for s in scans)
    if any(r.rule == "/api/v1/inspections" and "POST" in r.methods for r in app.url_map.iter_rules()):
        from verify.inspections.models import Inspection, InspectionCheck
        assert records == ["synced"]
        insp = db.session.scalar(select(Inspection))
        checks = db.session.scalars(select(InspectionCheck).where(InspectionCheck.inspection_id == insp.id)).all()
        assert len(checks) == 3 and "王强" in insp.officers
        assert sorted(c.holder_matches for c in checks if c.holder_matches is not None) == [0, 1]
    else:
        assert records == ["waiting_endpoint"]  # kept on the device until the server takes records


def test_inspect_reads_qr_from_camera(app, world, tmp_path):
    video = y4m_from_png(world["qr_png"], tmp_path / "qr.y4m")
    args = ["--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream",
            f"--use-file-for-fake-video-capture={video}"]
    with live_server(app) as base, chromium(args) as browser:
        ctx = browser.new_context(**PHONE)
        ctx.grant_permissions(["camera"], origin=base)
        page = ctx.new_page()
        page.goto(f"{base}/inspect?lang=en")
        page.wait_for_selector("body[data-ready='1']")
        wait_for(page, "document.querySelector('[data-testid=lists-age]').textContent.includes('Lists updated')")
        page.click("[data-testid=scan-camera]")
        page.wait_for_selector("[data-testid=verdict][data-result=valid]", timeout=20000)
        # Offline first, then the server's answer (online, with the inspector's key: recorded).
        page.wait_for_selector("[data-testid=verdict][data-result=valid][data-source=online]", timeout=10000)
        assert page.is_visible("text=VALID")
        _shot(page, "camera-valid-en")
        ctx.close()
