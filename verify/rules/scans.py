"""Fake-certificate rules fed by inspectors' scans: forged and unregistered codes, clones (one
certificate at two places faster than anyone travels), and the trainee seen at work while in class.

A scan's time is the server's receipt for online scans; an offline scan counts only with its
device's measured clock offset. A scan's place is its site's, else the coordinates it carries.
Each scan costs a bounded number of indexed reads, however often its certificate was scanned
before: the clone rule reads only the few scans next to it in time (see ``check_clone_at``).
Nothing here changes a verdict: ``findings.restate`` re-reads the certificate's counters after the
rules ran, when a finding was raised against it.
"""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import bindparam, select

from training.db import db
from training.parties.models import Site
from verify.findings.models import Finding
from verify.rules import common as R
from verify.rules.queries import ATT, SYNC_LAG, A, scan_time
from verify.rules.training import check_sighting
from verify.verification.models import Scan

SCAN_COLS = select(Scan.id, Scan.serial, Scan.received_at, Scan.scanned_at, Scan.offline, Scan.clock_offset_s,
                   Scan.latitude, Scan.longitude, Scan.site_id, Scan.organization_id)
# How many scans on each side of a new one it is held against at most. The walk stops earlier, at
# the first scan at the very same place (below); only a card seen at this many different places
# in a row reaches the cap.
NEIGHBOURS = 8
# The per-scan reads are built once, on table columns with bound parameters: building and keying a
# statement on every scan cost more than running it.
_S = Scan.__table__.c
_MINE = (select(_S.id, _S.received_at, _S.scanned_at, _S.offline, _S.clock_offset_s, _S.latitude, _S.longitude,
                _S.site_id, _S.result)
         .where(_S.serial == bindparam("serial"), _S.id != bindparam("me")))
_BEFORE = (_MINE.where(_S.received_at <= bindparam("t"), _S.received_at >= bindparam("since"))
           .order_by(_S.received_at.desc()).limit(NEIGHBOURS))
_AFTER = (_MINE.where(_S.received_at > bindparam("t"), _S.received_at <= bindparam("until"))
          .order_by(_S.received_at).limit(NEIGHBOURS))
_IN_CLASS = ATT.where(A.worker_id == bindparam("worker"), A.check_in <= bindparam("in_by"),
                      A.check_out >= bindparam("out_from"))
# Scans the clone rule never ran on: they cannot stand in for the scans behind them.
UNCHECKED = ("forged", "unregistered", "not_ours")


def place(scan, site: Site | None = None):
    """Where a scan was: its site's point (``site``, when the caller has it loaded), else the
    coordinates it carries, else None."""
    if site is not None:
        return site.latitude, site.longitude
    info = R.site_info(scan.site_id)
    if info is not None:
        return info[1], info[2]
    if scan.latitude is not None and scan.longitude is not None:
        return scan.latitude, scan.longitude
    return None


def _site_party(scan):
    site = R.site_info(scan.site_id)
    return R.org_party(site[3]) if site is not None else None


def check_fake(scan, result: str, reasons, token_hash, claimed_serial=None, issuer_id=None) -> None:
    if result not in ("forged", "unregistered"):
        return
    key = token_hash.hex() if token_hash else scan.id
    inspectorate = R.org_party(scan.organization_id, "inspectorate")
    if result == "forged":
        R.fire("forged_certificate", key, {"scan_ids": [scan.id], "reason_codes": " ".join(reasons),
                                           "site_id": scan.site_id},
               R.parties(inspectorate, _site_party(scan)))
    else:
        R.fire("unregistered_certificate", key, {"scan_ids": [scan.id], "serial": claimed_serial,
                                                 "site_id": scan.site_id, "signer_id": issuer_id},
               R.parties(R.org_party(issuer_id), inspectorate, _site_party(scan)))


def _open_clone(serial: str) -> bool:
    return db.session.scalar(select(Finding.id).where(
        Finding.kind == "certificate_clone", Finding.certificate_serial == serial, Finding.status == "open")
        .limit(1)) is not None


def _too_fast(c: dict, t, here, t2, there):
    """(km, hours) when two sightings need more than the speed limit over at least the minimum
    distance within the window; None otherwise."""
    if abs(t - t2) > timedelta(hours=c["window_hours"]):
        return None
    distance = R.km(*here, *there)
    hours = max(abs(t - t2).total_seconds() / 3600, 1 / 60)
    if distance >= c["min_distance_km"] and distance / hours > c["max_speed_kmh"]:
        return distance, hours
    return None


def _fire_clone(serial: str, worker_id, scan, other, distance: float, hours: float) -> None:
    if _open_clone(serial):
        return  # at most one open clone finding per certificate
    pair = sorted((scan.id, other.id))
    R.fire("certificate_clone", f"{serial}:{pair[0]}:{pair[1]}",
           {"scan_ids": pair, "certificate_serial": serial, "distance_km": round(distance),
            "hours": round(hours, 2), "speed_kmh": round(distance / hours)},
           R.parties(R.worker_party(worker_id), _site_party(scan), _site_party(other)),
           worker_id=worker_id, certificate_serial=serial)


def check_clone(serial: str, worker_id, scan, others) -> None:
    """certificate_clone between ``scan`` and the first of ``others`` too far away for the time
    between them (``findings-rerun`` hands each scan the one before it)."""
    c = R.cfg("certificate_clone")
    t, here = scan_time(scan.received_at, scan.scanned_at, scan.offline, scan.clock_offset_s), place(scan)
    if t is None or here is None:
        return
    for other in others:
        if other.id == scan.id:
            continue
        t2, there = scan_time(other.received_at, other.scanned_at, other.offline, other.clock_offset_s), place(other)
        hit = None if t2 is None or there is None else _too_fast(c, t, here, t2, there)
        if hit:
            _fire_clone(serial, worker_id, scan, other, *hit)
            return


def _neighbours(serial: str, scan, t) -> list:
    """The scans of ``serial`` next to ``scan`` in time, on one index (serial, received_at).

    Every scan's time is at most its receipt (a device scans before it uploads), so the newest
    receipts up to ``t`` hold the scans just before it. An online scan is the newest there is; an
    offline one arrives late, and the scans received after its time (later ones, and late ones
    like itself) are read too."""
    window = timedelta(hours=R.cfg("certificate_clone")["window_hours"])
    rows = db.session.execute(_BEFORE, {"serial": serial, "me": scan.id, "t": t, "since": t - window}).all()
    if scan.offline:
        rows += db.session.execute(_AFTER, {"serial": serial, "me": scan.id, "t": t,
                                            "until": t + window + SYNC_LAG}).all()
    return rows


def check_clone_at(serial: str, worker_id, scan, here, site: Site | None = None) -> None:
    """certificate_clone for a newly recorded scan, against the scans next to it in time.

    Walking outwards from the new scan on each side, the walk stops at the first scan at the very
    same place (and checked itself): any scan beyond it is the same distance away and further in
    time, so it would have been too fast against that nearer scan, and that pair was checked when
    the later of the two was recorded. A card scanned a thousand times at one gate costs one
    short read, not a thousand comparisons."""
    c = R.cfg("certificate_clone")
    t = scan_time(scan.received_at, scan.scanned_at, scan.offline, scan.clock_offset_s)
    if t is None or here is None:
        return
    timed = []
    for other in _neighbours(serial, scan, t):
        t2 = scan_time(other.received_at, other.scanned_at, other.offline, other.clock_offset_s)
        if t2 is not None:
            timed.append((t2, other))
    before = sorted((x for x in timed if x[0] <= t), key=lambda x: x[0], reverse=True)
    after = sorted((x for x in timed if x[0] > t), key=lambda x: x[0])
    for side in (before, after):
        for t2, other in side[:NEIGHBOURS]:
            there = here if site is not None and other.site_id == site.id else place(other)
            if there is None:
                continue
            if there == here and other.result not in UNCHECKED:
                break
            hit = _too_fast(c, t, here, t2, there)
            if hit:
                _fire_clone(serial, worker_id, scan, other, *hit)
                return


def check_while_on_site(worker_id: str, scan) -> None:
    t = scan_time(scan.received_at, scan.scanned_at, scan.offline, scan.clock_offset_s)
    if t is None or (scan.site_id is None and (scan.latitude is None or scan.longitude is None)):
        return  # a sighting without a place proves nothing
    edge = timedelta(minutes=R.cfg("training_while_on_site")["edge_minutes"])
    for row in db.session.execute(_IN_CLASS, {"worker": worker_id, "in_by": t - edge, "out_from": t + edge}):
        check_sighting(row, "scan", scan.id, t, scan.latitude, scan.longitude, scan.site_id)


def on_scan(scan, outcome=None, site: Site | None = None, **_):
    """``site``: the scan's site as record_scan loaded it (saves reading it again)."""
    if outcome is None:
        return
    check_fake(scan, outcome.result, outcome.reasons, outcome.token_hash, outcome.serial,
               (outcome.extra or {}).get("issuer_id"))
    if not outcome.serial or outcome.result in UNCHECKED:
        return
    check_clone_at(outcome.serial, outcome.worker_id, scan, place(scan, site), site)
    if outcome.worker_id:
        check_while_on_site(outcome.worker_id, scan)
