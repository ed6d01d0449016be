"""Fake-certificate rules fed by inspectors' scans: forged and unregistered codes, clones (one
certificate at two places faster than anyone travels), and the trainee seen at work while in class.

A scan's time is the server's receipt for online scans; an offline scan counts only with its
device's measured clock offset. A scan's place is its site's, else the coordinates it carries.
Nothing here changes a verdict: the view re-reads the certificate's counters after the rules ran.
"""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from training.db import db

from . import rules as R
from .models import Finding, Scan
from .rules_training import ATT, SYNC_LAG, _A, check_sighting, scan_time

SCAN_COLS = select(Scan.id, Scan.serial, Scan.received_at, Scan.scanned_at, Scan.offline, Scan.clock_offset_s,
                   Scan.latitude, Scan.longitude, Scan.site_id, Scan.organization_id)


def place(scan):
    site = R.site_info(scan.site_id)
    if site is not None:
        return site[1], site[2]
    if scan.latitude is not None and scan.longitude is not None:
        return scan.latitude, scan.longitude
    return None


def _site_party(scan):
    site = R.site_info(scan.site_id)
    return R.org_party(site[3]) if site is not None else None


def check_fake(scan, result: str, reasons, token_hash, claimed_serial=None, issuer_id=None) -> None:
    key = token_hash.hex() if token_hash else scan.id
    inspectorate = R.org_party(scan.organization_id, "inspectorate")
    if result == "forged":
        R.fire("forged_certificate", key, {"scan_ids": [scan.id], "reason_codes": " ".join(reasons),
                                           "site_id": scan.site_id},
               R.parties(inspectorate, _site_party(scan)))
    elif result == "unregistered":
        R.fire("unregistered_certificate", key, {"scan_ids": [scan.id], "serial": claimed_serial,
                                                 "site_id": scan.site_id, "signer_id": issuer_id},
               R.parties(R.org_party(issuer_id), inspectorate, _site_party(scan)))


def _open_clone(serial: str) -> bool:
    return db.session.scalar(select(Finding.id).where(
        Finding.kind == "certificate_clone", Finding.certificate_serial == serial, Finding.status == "open")
        .limit(1)) is not None


def check_clone(serial: str, worker_id, scan, others) -> None:
    """certificate_clone between ``scan`` and each earlier or later scan of the same serial."""
    c = R.cfg("certificate_clone")
    t, here = scan_time(scan.received_at, scan.scanned_at, scan.offline, scan.clock_offset_s), place(scan)
    if t is None or here is None:
        return
    for other in others:
        if other.id == scan.id:
            continue
        t2, there = scan_time(other.received_at, other.scanned_at, other.offline, other.clock_offset_s), place(other)
        if t2 is None or there is None or abs(t - t2) > timedelta(hours=c["window_hours"]):
            continue
        distance = R.km(*here, *there)
        hours = max(abs(t - t2).total_seconds() / 3600, 1 / 60)
        if distance >= c["min_distance_km"] and distance / hours > c["max_speed_kmh"]:
            if _open_clone(serial):
                return
            pair = sorted((scan.id, other.id))
            R.fire("certificate_clone", f"{serial}:{pair[0]}:{pair[1]}",
                   {"scan_ids": pair, "certificate_serial": serial, "distance_km": round(distance),
                    "hours": round(hours, 2), "speed_kmh": round(distance / hours)},
                   R.parties(R.worker_party(worker_id), _site_party(scan), _site_party(other)),
                   worker_id=worker_id, certificate_serial=serial)
            return


def check_while_on_site(worker_id: str, scan) -> None:
    t = scan_time(scan.received_at, scan.scanned_at, scan.offline, scan.clock_offset_s)
    if t is None:
        return
    for row in db.session.execute(ATT.where(_A.worker_id == worker_id, _A.check_in <= t, _A.check_out >= t)):
        check_sighting(row, "scan", scan.id, t, scan.latitude, scan.longitude, scan.site_id)


def on_scan(scan, outcome=None, **_):
    if outcome is None:
        return
    check_fake(scan, outcome.result, outcome.reasons, outcome.token_hash, outcome.serial,
               (outcome.extra or {}).get("issuer_id"))
    if not outcome.serial or outcome.result in ("forged", "unregistered", "not_ours"):
        return
    c = R.cfg("certificate_clone")
    since = scan.received_at - timedelta(hours=c["window_hours"]) - SYNC_LAG
    # The newest scans in the window are the ones a clone shows against; a certificate scanned
    # over and over (a gate, a benchmark) must not make every scan compare with hundreds.
    others = db.session.execute(SCAN_COLS.where(Scan.serial == outcome.serial, Scan.received_at >= since)
                                .order_by(Scan.received_at.desc()).limit(50)).all()[::-1]
    check_clone(outcome.serial, outcome.worker_id, scan, others)
    if outcome.worker_id:
        check_while_on_site(outcome.worker_id, scan)
