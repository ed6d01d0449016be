"""The scan rules at their boundaries (speed, distance, window, the class's edges), the clone rule's
walk through a certificate's earlier scans, and a keyed scan's cost whatever the card's history."""
from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import event, insert

from tests import factories as f
from tests.verify.test_online import verify
from tests.verify.test_rules import found
from tests.verify.test_rules_certificates import BEIJING, ZHENGZHOU, certified, officer_for, scan, site
from training.db import db, new_id, utcnow
from verify.rules.common import km
from verify.verification.models import Scan

BUENOS_AIRES = (-34.60, -58.38)  # ~19,300 km from Beijing: over 300 km/h even across 48 hours
KM_PER_DEGREE = 6371.0088 * 3.141592653589793 / 180  # along a meridian


@pytest.fixture(autouse=True)
def _quiet(app, monkeypatch):
    monkeypatch.setitem(app.config, "FINDINGS_LATE_RECORDS", False)


def north_of(point, distance_km):
    return point[0] + distance_km / KM_PER_DEGREE, point[1]


def seen(officer, cert, where=None, minutes_ago: float = 0) -> dict:
    """A keyed scan of the card (at a site, if given), then dated back as if made ``minutes_ago``."""
    out = scan(officer, cert["qr_text"], where["id"] if where else None)
    if minutes_ago:  # in Python: SQLite cannot subtract an interval from a date
        row = db.session.get(Scan, out["scan_id"])
        row.received_at -= timedelta(minutes=minutes_ago)
        db.session.commit()
    return out


def point(p) -> tuple[float, float]:
    return p["latitude"], p["longitude"]


def test_rules_clone_fires_just_over_the_speed_limit_not_just_under(client):
    w = f.World(client)
    (_, slow), (_, fast) = certified(w, 2)
    officer = officer_for(w)
    a, b = site(officer, "郑州工地", ZHENGZHOU), site(officer, "新乡工地", north_of(ZHENGZHOU, 100))
    hours_at_limit = km(*point(a), *point(b)) / 300
    seen(officer, slow, a, minutes_ago=hours_at_limit * 60 * 1.03)  # 291 km/h
    assert seen(officer, slow, b)["result"] == "valid" and found("certificate_clone") == []
    seen(officer, fast, a, minutes_ago=hours_at_limit * 60 * 0.97)  # 309 km/h
    assert seen(officer, fast, b)["result"] == "suspect"
    (hit,) = found("certificate_clone")
    assert hit.certificate_serial == fast["serial"] and 300 < json.loads(hit.evidence)["speed_kmh"] < 310


def test_rules_clone_needs_the_minimum_distance_however_fast(client):
    w = f.World(client)
    (_, near), (_, far) = certified(w, 2)
    officer = officer_for(w)
    a = site(officer, "甲", ZHENGZHOU)
    b29, b31 = site(officer, "乙", north_of(ZHENGZHOU, 29)), site(officer, "丙", north_of(ZHENGZHOU, 31))
    assert 28.9 < km(*point(a), *point(b29)) < 30 < km(*point(a), *point(b31)) < 31.1
    seen(officer, near, a)
    assert seen(officer, near, b29)["result"] == "valid"  # 29 km at once: no finding
    seen(officer, far, a)
    assert seen(officer, far, b31)["result"] == "suspect"
    (hit,) = found("certificate_clone")
    assert hit.certificate_serial == far["serial"]


def test_rules_clone_only_within_the_window(client):
    w = f.World(client)
    (_, inside), (_, outside) = certified(w, 2)
    officer = officer_for(w)
    there, here = site(officer, "布宜诺斯艾利斯", BUENOS_AIRES), site(officer, "北京", BEIJING)
    seen(officer, inside, there, minutes_ago=47.5 * 60)
    seen(officer, outside, there, minutes_ago=48.5 * 60)  # still over 300 km/h, but 48 h is the window
    assert seen(officer, outside, here)["result"] == "valid" and found("certificate_clone") == []
    assert seen(officer, inside, here)["result"] == "suspect"
    (hit,) = found("certificate_clone")
    assert hit.certificate_serial == inside["serial"]


def test_rules_clone_walks_past_scans_that_do_not_settle_it(client):
    """Nearer scans without a place, or at another place below the minimum distance, do not hide a
    clone further back: 0 → 25 km → 50 km in three minutes is 50 km at 1,000 km/h."""
    w = f.World(client)
    ((_, cert),) = certified(w)
    officer = officer_for(w)
    p0, p25, p50 = (site(officer, name, north_of(ZHENGZHOU, d)) for name, d in (("零", 0), ("廿五", 25), ("五十", 50)))
    first = seen(officer, cert, p0, minutes_ago=3)
    seen(officer, cert, None, minutes_ago=2.5)
    seen(officer, cert, p25, minutes_ago=2)
    assert found("certificate_clone") == []
    last = seen(officer, cert, p50)
    assert last["result"] == "suspect"
    (hit,) = found("certificate_clone")
    assert json.loads(hit.evidence)["scan_ids"] == sorted([first["scan_id"], last["scan_id"]])


def test_rules_clone_dismissed_is_not_raised_again_by_the_next_scan_at_the_same_place(client):
    """The next scan at the same place adds nothing to the pair a regulator has reviewed; a new
    place does."""
    w = f.World(client)
    ((_, cert),) = certified(w)
    officer = officer_for(w)
    bj, zz = site(officer, "北京", BEIJING), site(officer, "郑州", ZHENGZHOU)
    seen(officer, cert, bj, minutes_ago=60)
    seen(officer, cert, zz, minutes_ago=30)
    (hit,) = found("certificate_clone")
    r = w.reg.patch(f"/api/v1/findings/{hit.id}", {"status": "dismissed", "reason": "北京工地坐标录错"})
    assert r.status_code == 200, r.get_json()
    assert seen(officer, cert, zz)["result"] == "valid"
    assert len(found("certificate_clone")) == 1
    assert seen(officer, cert, bj)["result"] == "suspect"  # Zhengzhou to Beijing in a moment
    assert len(found("certificate_clone", "open")) == 1


def test_rules_clone_for_a_late_offline_scan_against_the_scans_after_it(client):
    w = f.World(client)
    (_, late), (_, stale) = certified(w, 2)
    officer = officer_for(w)
    bj, zz = site(officer, "北京", BEIJING), site(officer, "郑州", ZHENGZHOU)
    now = datetime.now(UTC)

    def upload(cert, ref, minutes_ago):
        item = {"client_ref": ref, "qr_text": cert["qr_text"], "site_id": zz["id"],
                "scanned_at": (now - timedelta(minutes=minutes_ago)).isoformat(), "device_now": now.isoformat()}
        r = officer.post("/api/v1/scans", {"items": [item]})
        assert r.status_code == 200, r.get_json()
        return r.get_json()["items"][0]

    seen(officer, late, bj)
    seen(officer, stale, bj)
    upload(stale, "ref-stale-00001", 72 * 60)  # three days before: outside the window
    assert found("certificate_clone") == []
    upload(late, "ref-late-000001", 30)  # made in Zhengzhou half an hour before the Beijing scan
    (hit,) = found("certificate_clone")
    assert hit.certificate_serial == late["serial"] and '"distance_km": 6' in hit.evidence


def test_rules_training_while_on_site_only_inside_the_edges(client):
    """Seen at work 14 minutes into a class (or 14 before its end) is an early start or a late
    finish, not fraud; 16 minutes is."""
    w = f.World(client)
    certs = certified(w, 4)
    officer = officer_for(w)
    work = site(officer, "三号井", BEIJING)
    # Seen four hours ago; the classes are over, as they must be before their attendance is entered.
    then = datetime.now(f.CST).replace(microsecond=0) - timedelta(hours=4)
    starts = {"甲": then - timedelta(minutes=14), "乙": then - timedelta(minutes=16),  # into the class
              "丙": then + timedelta(minutes=14) - timedelta(hours=4),  # before its end
              "丁": then + timedelta(minutes=16) - timedelta(hours=4)}
    by_name = {}
    for (wk, cert), (name, start) in zip(certs, starts.items()):
        s = f.session(w.body, start, 4, "confined_space", trainer_id=f.trainer(w.body, f"{name}老师")["id"],
                      latitude=ZHENGZHOU[0], longitude=ZHENGZHOU[1])
        seen(officer, cert, work, minutes_ago=240)
        f.attend(w.body, s, wk["id"])
        by_name[name] = wk["id"]
    assert {h.worker_id for h in found("training_while_on_site")} == {by_name["乙"], by_name["丁"]}


def _earlier_scans(serial: str, like: Scan, n: int, where: dict | None, spread_hours: float = 20) -> None:
    """``n`` scans of the serial over the last hours, straight into the table (as history)."""
    now = utcnow()
    rows = [{"id": new_id(), "serial": serial, "token_hash": like.token_hash, "result": "valid", "reasons": "",
             "organization_id": like.organization_id, "key_id": like.key_id,
             "site_id": where["id"] if where else None,
             "latitude": None if where else ZHENGZHOU[0], "longitude": None if where else ZHENGZHOU[1],
             "received_at": now - timedelta(hours=spread_hours * (i + 1) / (n + 1)), "offline": 0}
            for i in range(n)]
    db.session.execute(insert(Scan.__table__), rows)
    db.session.commit()


def _statements(do) -> int:
    n = [0]

    def count(*_a, **_k):
        n[0] += 1
    event.listen(db.engine, "before_cursor_execute", count)
    try:
        do()
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    return n[0]


@pytest.mark.parametrize("at_site", [True, False], ids=["site", "coordinates"])
def test_rules_scan_statements_do_not_grow_with_earlier_scans(client, at_site):
    """A keyed scan runs as many statements after 5 earlier scans of its card as after 200."""
    w = f.World(client)
    ((wk, cert),) = certified(w)
    officer = officer_for(w)
    gate = site(officer, "一号门", ZHENGZHOU) if at_site else None
    where = {"site_id": gate["id"]} if gate else {"latitude": ZHENGZHOU[0], "longitude": ZHENGZHOU[1]}
    first = db.session.get(Scan, verify(officer, cert["qr_text"], **where)["scan_id"])  # and warms the caches
    counts = []
    for earlier in (5, 200):
        _earlier_scans(cert["serial"], first, earlier, gate)
        counts.append(_statements(lambda: verify(officer, cert["qr_text"], **where)))
    assert counts[0] == counts[1], counts
    assert found("certificate_clone") == []
