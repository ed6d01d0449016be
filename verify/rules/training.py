"""Fake-training rules: overlapping attendance, double-booked trainers, over-full classes, impossible
days, late records, trainees seen at work while in class, and far-from-home trainees en masse.

Each ``check_*`` works on rows the caller hands in (one worker's attendance, one session, one
trainer's sessions), so the live path (a signal, one small indexed read) and ``findings-rerun``
(history read in bulk) share the same rule. Nothing here edits evidence.
"""
from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta

from sqlalchemy import func, select

from certificates.models import Certificate
from training import clock
from training.clock import CHINA
from training.db import db
from training.evidence.models import TrainingSession
from verify.inspections.models import Inspection, InspectionCheck
from verify.rules import common as R
from verify.rules.queries import SYNC_LAG, A, scan_time, worker_rows
from verify.verification.models import Scan

_S = TrainingSession.__table__.c  # session columns


def _minutes(a_start, a_end, b_start, b_end) -> float:
    return (min(a_end, b_end) - max(a_start, b_start)).total_seconds() / 60


# --- one worker's attendance ----------------------------------------------------------------------

def overlapping_pairs(rows, min_minutes: float, only: str | None = None):
    rows = sorted(rows, key=lambda r: (r.check_in, r.id))
    for i, a in enumerate(rows):
        for b in rows[i + 1:]:
            if b.check_in >= a.check_out:
                break
            minutes = _minutes(a.check_in, a.check_out, b.check_in, b.check_out)
            if minutes >= min_minutes and (only is None or only in (a.id, b.id)):
                yield a, b, minutes


def day_totals(rows) -> dict:
    """China calendar day → (hours covered by the union of the day's attendance, ids)."""
    spans = defaultdict(list)
    for r in rows:
        start = r.check_in
        while start < r.check_out:
            local = start + CHINA
            midnight = datetime(local.year, local.month, local.day) + timedelta(days=1) - CHINA
            stop = min(r.check_out, midnight)
            spans[local.date()].append((start, stop, r.id))
            start = stop
    out = {}
    for day, items in spans.items():
        items.sort()
        total, cursor = 0.0, None
        for s, e, _ in items:
            if cursor is None or s >= cursor:
                total += (e - s).total_seconds()
                cursor = e
            elif e > cursor:
                total += (e - cursor).total_seconds()
                cursor = e
        out[day] = (total / 3600, sorted({i for _, _, i in items}))
    return out


def _entered(r):
    return (r.created_at, r.id)


def split_prior(rows) -> tuple[list, list]:
    """(records that rest the finding, records of the organisation with prior standing). Between
    organisations, the one whose record here was entered first had the time accounted for before
    the others wrote into it: the finding names it, but does not rest on its records, so it does
    not by itself make that organisation's certificate suspect (nor join one issued later on them).
    Within one organisation there is no one else to blame: every record rests the finding."""
    if len({r.organization_id for r in rows}) < 2:
        return list(rows), []
    first = min(rows, key=_entered).organization_id
    return [r for r in rows if r.organization_id != first], [r for r in rows if r.organization_id == first]


def _evidence_ids(rows) -> dict:
    blamed, prior = split_prior(rows)
    out = {"attendance_ids": sorted(r.id for r in blamed)}
    if prior:
        out["prior_attendance_ids"] = sorted(r.id for r in prior)
    return out


def check_worker(rows, only=None) -> None:
    """training_overlap and too_many_hours_in_a_day over one worker's attendance."""
    if not rows:
        return
    wid = rows[0].worker_id
    for a, b, minutes in overlapping_pairs(rows, R.cfg("training_overlap")["min_overlap_minutes"],
                                           only.id if only else None):
        ids, refs = sorted((a.id, b.id)), _evidence_ids((a, b))
        R.fire("training_overlap", f"{ids[0]}:{ids[1]}",
               {**refs, "session_ids": sorted({a.session_id, b.session_id}),
                "overlap_minutes": round(minutes), "intervals": [[a.check_in, a.check_out], [b.check_in, b.check_out]]},
               R.parties(R.worker_party(wid), R.org_party(a.organization_id), R.org_party(b.organization_id)),
               worker_id=wid, certificate_serial=R.certificate_for(wid, None, refs["attendance_ids"]))
    c = R.cfg("too_many_hours_in_a_day")
    days = day_totals(rows)
    touched = set(day_totals([only])) if only else set(days)
    for day in sorted(touched):
        hours, ids = days[day]
        if hours > c["max_hours"] + c["tolerance_hours"]:
            refs = _evidence_ids([r for r in rows if r.id in ids])
            R.fire("too_many_hours_in_a_day", f"{wid}:{day}",
                   {**refs, "day": str(day), "hours": round(hours, 2)},
                   R.parties(R.worker_party(wid), *(R.org_party(r.organization_id) for r in rows if r.id in ids)),
                   worker_id=wid, certificate_serial=R.certificate_for(wid, None, refs["attendance_ids"]))


def check_late(row) -> None:
    delay = (row.created_at - row.check_out).total_seconds() / 3600
    if delay > R.cfg("late_record")["max_delay_hours"]:
        R.fire("late_record", f"session:{row.session_id}",
               {"attendance_ids": [row.id], "session_id": row.session_id, "delay_hours": round(delay),
                "entered_at": row.created_at, "described_until": row.check_out},
               R.parties(R.org_party(row.organization_id)))


def check_capacity(session_id: str, capacity: int, org_id: str, trainer_id) -> None:
    attendees = db.session.scalar(select(func.count(func.distinct(A.worker_id)))
                                  .where(A.session_id == session_id, A.voided_at.is_(None)))
    if attendees > capacity:
        ids = db.session.scalars(select(A.id).where(A.session_id == session_id, A.voided_at.is_(None))
                                 .order_by(A.created_at, A.id)).all()
        R.fire("session_over_capacity", session_id,
               {"session_id": session_id, "capacity": capacity, "attendees": attendees, "attendance_ids": ids},
               R.parties(R.org_party(org_id), R.trainer_party(trainer_id)))


# --- far from home, en masse ------------------------------------------------------------------------

def training_point(row):
    if row.latitude is not None and row.longitude is not None:
        return row.latitude, row.longitude
    info = R.org_info(row.organization_id)
    return R.province_point(info[2]) if info else None


def home_region_count(row, rows) -> dict:
    """Counter increments when ``row`` is the worker's first class at this body."""
    if row.kind == "induction":
        return {}
    first = min((r for r in rows if r.organization_id == row.organization_id and r.kind != "induction"),
                key=lambda r: (r.check_in, r.id))
    worker = R.worker_info(row.worker_id)
    home, place = R.province_point(worker[1] if worker else None), training_point(row)
    if first.id != row.id or home is None or place is None:
        return {}
    far = R.km(*home, *place) > R.cfg("home_region_far")["far_km"]
    month = clock.month(row.check_in)
    return {f"far:{row.organization_id}:{month}:n": 1, f"far:{row.organization_id}:{month}:f": int(far)}


def evaluate_far(org_id: str, month: str, source=None) -> None:
    c = R.cfg("home_region_far")
    months = R.months_back(month, c["window_months"])
    counts = R.read_counters([f"far:{org_id}:{m}:{x}" for m in months for x in "nf"], source)
    n = sum(v for k, v in counts.items() if k.endswith(":n"))
    far = sum(v for k, v in counts.items() if k.endswith(":f"))
    if n < c["min_trainees"] or far / n < c["min_share"]:
        return
    p = R.binom_sf(far, n, c["baseline_share"])
    if p < c["alpha"]:
        R.fire("home_region_far", f"{org_id}:{month}",
               {"organization_id": org_id, "month": month, "trainees": n, "far": far,
                "share_pct": round(100 * far / n), "baseline_pct": round(100 * c["baseline_share"]),
                "p_value": R.fmt_p(p)}, R.parties(R.org_party(org_id)))


# --- a trainee seen at work while in class ------------------------------------------------------

def check_sighting(row, kind: str, ident: str, seen_at: datetime, lat, lon, site_id) -> None:
    c = R.cfg("training_while_on_site")
    edge = timedelta(minutes=c["edge_minutes"])
    if not (row.check_in + edge <= seen_at <= row.check_out - edge):
        return
    site = R.site_info(site_id)
    if site is not None:
        lat, lon = site[1], site[2]
        if row.kind == "induction" and site[3] == row.organization_id:
            return  # the employer's own induction, held at its own site
    if lat is None or lon is None:
        return
    distance = None
    if row.latitude is not None and row.longitude is not None:
        distance = R.km(row.latitude, row.longitude, lat, lon)
        if distance <= c["near_km"]:
            return  # training held at (or next to) the site itself
    wid = row.worker_id
    R.fire("training_while_on_site", row.id,
           {"attendance_ids": [row.id], "session_id": row.session_id, f"{kind}_ids": [ident], "seen_at": seen_at,
            "site_id": site_id, "distance_km": round(distance) if distance is not None else "?"},
           R.parties(R.worker_party(wid), R.org_party(row.organization_id),
                     R.org_party(site[3]) if site is not None else None),
           worker_id=wid, certificate_serial=R.certificate_for(wid, row.category, [row.id]),
           session_location=row.location, place=site[0] if site is not None else f"{lat:.3f},{lon:.3f}")


def sightings_during(row) -> None:
    serials = db.session.scalars(select(Certificate.serial).where(Certificate.worker_id == row.worker_id)).all()
    if serials:
        for s in db.session.execute(select(Scan.id, Scan.received_at, Scan.scanned_at, Scan.offline,
                                           Scan.clock_offset_s, Scan.latitude, Scan.longitude, Scan.site_id)
                                    .where(Scan.serial.in_(serials), Scan.received_at >= row.check_in,
                                           Scan.received_at <= row.check_out + SYNC_LAG)):
            t = scan_time(s.received_at, s.scanned_at, s.offline, s.clock_offset_s)
            if t is not None:
                check_sighting(row, "scan", s.id, t, s.latitude, s.longitude, s.site_id)
    for ck in db.session.execute(select(InspectionCheck.id, InspectionCheck.at, Inspection.site_id)
                                 .join(Inspection, Inspection.id == InspectionCheck.inspection_id)
                                 .where(InspectionCheck.worker_id == row.worker_id,
                                        InspectionCheck.at >= row.check_in, InspectionCheck.at <= row.check_out)):
        check_sighting(row, "inspection_check", ck.id, ck.at, None, None, ck.site_id)


# --- signal receivers ------------------------------------------------------------------------------

def on_attendance(att, **_):
    rows = worker_rows(att.worker_id)
    me = next((r for r in rows if r.id == att.id), None)
    if me is None:
        return
    check_worker(rows, only=me)
    check_capacity(me.session_id, me.capacity, me.organization_id, me.trainer_id)
    check_late(me)
    counts = home_region_count(me, rows)
    if counts:
        R.bump(counts)
        evaluate_far(me.organization_id, next(iter(counts)).split(":")[2])
    sightings_during(me)


def check_trainer(sessions) -> None:
    """trainer_double_booked over one trainer's sessions (any bodies)."""
    sessions = sorted(sessions, key=lambda s: (s.starts_at, s.id))
    need = R.cfg("trainer_double_booked")["min_overlap_minutes"]
    for i, a in enumerate(sessions):
        for b in sessions[i + 1:]:
            if b.starts_at >= a.ends_at:
                break
            minutes = _minutes(a.starts_at, a.ends_at, b.starts_at, b.ends_at)
            if minutes >= need:
                ids = sorted((a.id, b.id))
                R.fire("trainer_double_booked", f"{ids[0]}:{ids[1]}",
                       {"session_ids": ids, "trainer_id": a.trainer_id, "overlap_minutes": round(minutes),
                        "bodies": len({a.organization_id, b.organization_id})},
                       R.parties(R.trainer_party(a.trainer_id), R.org_party(a.organization_id),
                                 R.org_party(b.organization_id)))


def on_session(session, **_):
    if not session.trainer_id:
        return
    others = db.session.execute(select(_S.id, _S.trainer_id, _S.organization_id, _S.starts_at, _S.ends_at)
                                .where(_S.trainer_id == session.trainer_id, _S.starts_at < session.ends_at,
                                       _S.ends_at > session.starts_at)).all()
    check_trainer(others)


def recheck_worker(worker_id: str, session_id: str) -> None:
    check_worker(worker_rows(worker_id))
    s = db.session.execute(select(_S.capacity, _S.organization_id, _S.trainer_id).where(_S.id == session_id)).first()
    check_capacity(session_id, s.capacity, s.organization_id, s.trainer_id)
