"""The scanner's serial lookup and the phone's position, in a real headless Chromium (Debian's,
driven by Playwright), and the area's sites over HTTP.

Typed online, a serial is looked up in the registry and its certificate verified as if scanned
(the server's verdict, the scan recorded); an unknown one says the registry has no such serial.
With the position allowed, scans made online and offline reach the server with the phone's
latitude and longitude, and the sites near it are offered; without it, scans carry no position
and everything else works. ``GET /api/v1/inspect/sites`` is held to its box and its limits on both
backends. The lookup screen's picture goes to /tmp, not to docs/img.
"""
from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from sqlalchemy import select

from tests import factories as f
from tests.browser import PHONE, chromium, live_server, wait_for
from tests.verify.test_inspect_e2e import inspect_world
from tests.verify.test_online import setup
from training.db import db
from verify.verification.models import Scan

POINT = {"latitude": 34.7466, "longitude": 113.6253}  # where the phone is: Zhengzhou
SHOTS = Path(tempfile.gettempdir())


@pytest.fixture
def world(app, client, backend):
    w, cert, revoked, officer = inspect_world(client, backend)
    own = officer.post("/api/v1/sites", {"name": "监察大队驻点", "latitude": 30.0, "longitude": 104.0}).get_json()
    mine = f.org(w.reg, "enterprise", "豫中煤业", industry="coal_mine")
    near = mine.post("/api/v1/sites", {"name": "三号井 井下作业区", "latitude": 34.70, "longitude": 113.60,
                                       "risk_class": "high"}).get_json()
    far = mine.post("/api/v1/sites", {"name": "北京办事处", "latitude": 39.9, "longitude": 116.4}).get_json()
    db.session.commit()  # end the test thread's read so the server thread can write (SQLite locks)
    return {"cert": cert, "revoked": revoked, "officer": officer, "own": own, "near": near, "far": far}


def _shot(page, name, keep_flash=False):
    """A picture to look at, in /tmp: the published ones are test_inspect_e2e.py's."""
    page.evaluate("h => { window.scrollTo(0, 0); if (h) document.getElementById('flash').hidden = true; }",
                  not keep_flash)
    page.wait_for_timeout(150)
    page.screenshot(path=str(SHOTS / f"inspect-{name}.png"))


def _tab(page, view):
    page.click(f".tabs button[data-view={view}]")


def _open(page, base, lang=""):
    page.goto(f"{base}/inspect{lang}")
    page.wait_for_selector("body[data-ready='1']")
    wait_for(page, "document.querySelector('[data-testid=lists-age]').textContent.includes('名单更新于')")


def _sign_in(page, key):
    _tab(page, "settings")
    page.fill("[data-testid=api-key]", key)
    page.click("[data-testid=api-key-save]")
    page.wait_for_selector("h2.title .ok-text")
    _tab(page, "home")


def _site_options(page) -> set[str]:
    return set(page.eval_on_selector_all("#site option", "els => els.map(e => e.value)")) - {""}


def _look_up(page, typed):
    _tab(page, "home")
    page.fill("#serial", typed)
    page.click("#serial-btn")


def _flash(page, words):
    wait_for(page, "t => { const el = document.getElementById('flash');"
                           " return !el.hidden && el.textContent.includes(t); }", arg=words, timeout=10000)


def _verify_pasted(page, text, result, source):
    _tab(page, "home")
    page.fill("[data-testid=paste]", text)
    page.click("[data-testid=paste-verify]")
    page.wait_for_selector(f"[data-testid=verdict][data-result={result}][data-source={source}]", timeout=15000)


def _unknown(serial: str) -> str:
    return ("Z" if serial[0] != "Z" else "Y") + serial[1:]


def _scans(officer_org: str) -> list[Scan]:
    db.session.rollback()  # see what the server thread wrote
    return db.session.scalars(select(Scan).where(Scan.organization_id == officer_org)
                              .order_by(Scan.received_at)).all()


# --- typing a serial ------------------------------------------------------------------------


def test_inspect_lookup_serial_online_shows_the_registrys_verdict(app, world):
    cert, revoked, officer = world["cert"], world["revoked"], world["officer"]
    with live_server(app) as base, chromium() as browser:
        ctx = browser.new_context(**PHONE)
        page = ctx.new_page()
        _open(page, base)
        _sign_in(page, officer.key)
        # As a person types it from the card: lower case, spaces for hyphens.
        _look_up(page, cert["serial"].lower().replace("-", " "))
        page.wait_for_selector("[data-testid=verdict][data-result=valid][data-source=online]", timeout=15000)
        assert page.text_content("[data-testid=verdict-title]").strip() == "有效"
        assert cert["serial"] in page.text_content("#view")
        codes = page.eval_on_selector_all("[data-testid=reasons] li", "els => els.map(e => e.dataset.code)")
        assert codes[:2] == ["signature_valid", "registry_checked"]
        assert "*" in page.text_content("[data-testid=holder-name]")  # masked, as on the verdict screen
        assert page.text_content("[data-testid=holder-id]").count("*") == 8
        _shot(page, "lookup-valid")

        page.click("#next-btn")
        _look_up(page, revoked["serial"])
        page.wait_for_selector("[data-testid=verdict][data-result=revoked][data-source=online]", timeout=15000)
        assert revoked["serial"] in page.text_content("#view")

        page.click("#next-btn")
        _look_up(page, _unknown(cert["serial"]))
        _flash(page, "登记库中没有这个编号")
        assert page.query_selector("[data-testid=verdict]") is None  # still on the scan screen
        _shot(page, "lookup-unknown", keep_flash=True)
        _look_up(page, "12345")
        _flash(page, "不是有效的证书编号")

        # Signed out, online: the app says a lookup needs sign-in and consults its own lists.
        _tab(page, "settings")
        page.click("#key-clear")
        _look_up(page, revoked["serial"])
        page.wait_for_selector("section.verdict.bad")
        note = page.text_content("section.verdict")
        assert "在线查询编号需要登录" in note and "该编号在撤销名单中" in note
        ctx.close()

    scans = _scans(officer.id)
    assert [(s.serial, s.result, s.offline) for s in scans] == [(cert["serial"], "valid", 0),
                                                               (revoked["serial"], "revoked", 0)]
    assert all(s.officer_badge == "豫A1024" and s.latitude is None for s in scans)


def test_inspect_lookup_screen_in_english(app, world):
    with live_server(app) as base, chromium() as browser:
        ctx = browser.new_context(**PHONE)
        page = ctx.new_page()
        page.goto(f"{base}/inspect?lang=en")
        page.wait_for_selector("body[data-ready='1']")
        wait_for(page, "document.querySelector('[data-testid=lists-age]').textContent.includes('Lists updated')")
        _tab(page, "settings")
        page.fill("[data-testid=api-key]", world["officer"].key)
        page.click("[data-testid=api-key-save]")
        page.wait_for_selector("h2.title .ok-text")
        _look_up(page, _unknown(world["cert"]["serial"]))
        _flash(page, "The registry has no certificate with this serial")
        _look_up(page, world["cert"]["serial"])
        page.wait_for_selector("[data-testid=verdict][data-result=valid][data-source=online]", timeout=15000)
        assert page.is_visible("text=VALID")
        _shot(page, "lookup-valid-en")
        ctx.close()


# --- the phone's position ---------------------------------------------------------------------


def _scan_online_and_offline(page, ctx, cert):
    """One scan verified online, then one made offline and uploaded when the network is back."""
    _verify_pasted(page, cert["qr_text"], "valid", "online")
    ctx.set_offline(True)
    wait_for(page, "document.getElementById('net').textContent === '离线'")
    _verify_pasted(page, cert["qr_text"], "valid", "offline")
    ctx.set_offline(False)  # the 'online' event uploads the queue
    wait_for(page, "document.getElementById('net').textContent === '在线'")
    _tab(page, "queue")
    wait_for(page, "document.querySelectorAll('[data-testid=scan-row][data-state=synced]').length === 1",
                           timeout=20000)
    assert page.locator("[data-testid=scan-row][data-state=queued]").count() == 0


def test_inspect_scans_carry_the_phones_position_when_allowed(app, world):
    with live_server(app) as base, chromium() as browser:
        ctx = browser.new_context(**PHONE, geolocation=POINT, permissions=["geolocation"])
        page = ctx.new_page()
        # The browser hands out the position (asked on another page of the origin: Chromium's
        # emulation answers a second request only after the app's watch has had its first).
        page.goto(f"{base}/api/v1/roles")
        where = page.evaluate("""new Promise(ok => navigator.geolocation.getCurrentPosition(
            p => ok([p.coords.latitude, p.coords.longitude]), e => ok(e.code), {timeout: 10000}))""")
        assert where == [POINT["latitude"], POINT["longitude"]]
        _open(page, base)
        _sign_in(page, world["officer"].key)
        # The sites near the phone come with the inspector's own; one 600 km away does not.
        wait_for(page, f"!!document.querySelector('#site option[value=\"{world['near']['id']}\"]')",
                               timeout=10000)
        assert _site_options(page) == {world["own"]["id"], world["near"]["id"]}
        page.select_option("#site", world["near"]["id"])
        wait_for(page, "document.getElementById('status').textContent.includes('三号井 井下作业区 · 高风险')")
        _scan_online_and_offline(page, ctx, world["cert"])
        ctx.close()

    scans = _scans(world["officer"].id)
    assert [s.offline for s in scans] == [0, 1]
    for s in scans:
        assert (s.latitude, s.longitude) == pytest.approx((POINT["latitude"], POINT["longitude"]), abs=1e-6)
        assert s.site_id == world["near"]["id"] and s.result == "valid"


def test_inspect_scans_carry_no_position_without_permission(app, world):
    with live_server(app) as base, chromium() as browser:
        # A position is there to be had, but the page was never allowed to read it.
        ctx = browser.new_context(**PHONE, geolocation=POINT)
        page = ctx.new_page()
        _open(page, base)
        assert page.evaluate("navigator.permissions.query({name: 'geolocation'}).then(p => p.state)") != "granted"
        _sign_in(page, world["officer"].key)
        wait_for(page, f"!!document.querySelector('#site option[value=\"{world['own']['id']}\"]')",
                               timeout=10000)
        assert _site_options(page) == {world["own"]["id"]}
        _scan_online_and_offline(page, ctx, world["cert"])
        assert page.query_selector(".flash-bad:not([hidden])") is None
        ctx.close()

    scans = _scans(world["officer"].id)
    assert [(s.offline, s.result, s.latitude, s.longitude, s.site_id) for s in scans] == [
        (0, "valid", None, None, None), (1, "valid", None, None, None)]


def test_inspect_scans_carry_no_position_once_the_inspector_turns_it_off(app, world):
    with live_server(app) as base, chromium() as browser:
        ctx = browser.new_context(**PHONE, geolocation=POINT, permissions=["geolocation"])
        page = ctx.new_page()
        _open(page, base)
        _sign_in(page, world["officer"].key)
        wait_for(page, f"!!document.querySelector('#site option[value=\"{world['near']['id']}\"]')",
                               timeout=10000)
        _tab(page, "settings")
        page.uncheck("#pos")
        _scan_online_and_offline(page, ctx, world["cert"])
        ctx.close()

    scans = _scans(world["officer"].id)
    assert [(s.offline, s.latitude, s.longitude) for s in scans] == [(0, None, None), (1, None, None)]


# --- the area's sites over HTTP (both backends) -------------------------------------------------


def _area(officer, **query):
    q = "&".join(f"{k}={v}" for k, v in query.items())
    r = officer.get(f"/api/v1/inspect/sites?{q}")
    assert r.status_code == 200, r.get_data(as_text=True)
    return {s["name"] for s in r.get_json()["items"]}


def test_area_sites_radius_draws_the_box_around_the_point(client):
    w, _, _, officer = setup(client)
    ent = f.org(w.reg, "enterprise", industry="construction")
    lat, lon = POINT["latitude"], POINT["longitude"]
    for name, dlat, dlon in (("北20km", 20 / 111, 0), ("南40km", -40 / 111, 0), ("北60km", 60 / 111, 0),
                             ("东40km", 0, 40 / (111 * 0.8218)), ("东60km", 0, 60 / (111 * 0.8218))):
        assert ent.post("/api/v1/sites", {"name": name, "latitude": lat + dlat, "longitude": lon + dlon}).status_code == 201
    at = {"latitude": lat, "longitude": lon}
    assert _area(officer, **at, radius_km=10) == set()
    assert _area(officer, **at, radius_km=25) == {"北20km"}
    assert _area(officer, **at) == {"北20km", "南40km", "东40km"}  # 50 km by default
    assert _area(officer, **at, radius_km=50) == _area(officer, **at)
    assert _area(officer, **at, radius_km=500) == {"北20km", "南40km", "北60km", "东40km", "东60km"}
    # Half a point is no point: only the inspector's own sites (none here).
    assert _area(officer, latitude=lat) == set() and _area(officer, radius_km=500) == set()
    assert _area(officer, latitude=0, longitude=0, radius_km=500) == set()


def test_area_sites_pages_follow_the_cursor(client):
    w, _, _, officer = setup(client)
    ent = f.org(w.reg, "enterprise", industry="construction")
    for n in range(5):
        ent.post("/api/v1/sites", {"name": f"工点{n}", "latitude": 34.7 + n / 1000, "longitude": 113.6})
    seen, cursor = [], None
    for _ in range(10):
        q = "latitude=34.7&longitude=113.6&radius_km=5&limit=2" + (f"&cursor={cursor}" if cursor else "")
        out = officer.get(f"/api/v1/inspect/sites?{q}").get_json()
        assert len(out["items"]) <= 2
        seen += [s["name"] for s in out["items"]]
        cursor = out["next_cursor"]
        if not cursor:
            break
    assert sorted(seen) == [f"工点{n}" for n in range(5)]


@pytest.mark.parametrize("query", [
    "radius_km=-1", "radius_km=500.5", "radius_km=abc", "radius_km=nan", "radius_km=inf", "radius_km=1e999",
    "radius_km=", "latitude=91&longitude=0", "latitude=0&longitude=-180.1", "latitude=nan&longitude=0",
])
def test_area_sites_bad_point_or_radius_is_a_problem_not_a_crash(client, query):
    _, _, _, officer = setup(client)
    r = officer.get(f"/api/v1/inspect/sites?latitude=34.7&longitude=113.6&{query}"
                    if query.startswith("radius") else f"/api/v1/inspect/sites?{query}&radius_km=10")
    # The endpoint documents its refusal of a malformed query as 400 (errors=("400",)).
    assert r.status_code == 400, r.get_data(as_text=True)
    assert r.mimetype == "application/problem+json"
    body = r.get_json()
    assert body["status"] == 400 and ("radius_km" in body["detail"] or "itude" in body["detail"])
