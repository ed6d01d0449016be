"""Benchmark: batch issuance, the path of `flask issue-batch` (certificates/cli.py issue_rows:
a group of rows at a time, certificates/issuance/batch.py, finds the workers by identity number, weighs
the evidence, signs, renders each QR code once, stores and commits the group), for a class of
10,000 workers whose training and exams are bulk-loaded straight into the tables. Target: at
least 100 certificates/s. Issues with the command's default (one issuer, groups of 50);
``--jobs N`` and ``--group N`` set them (``--group 1``: one transaction per row, for comparison).

Also prints, from the same run: this process's CPU time per certificate (on a shared machine
less noisy than the rate; the database server's own time is not in it), the QR rendering rate
alone (PNG + SVG of each issued qr_text from one symbol, as issuance does) and the QR version
distribution of what was issued.
It measures only. Run: .venv/bin/python bench/issuance.py [--db sqlite|postgresql|both]
[--count 10000] [--jobs N] [--group N]. ``--profile N`` runs the issuance loop under cProfile, with one
issuer, and prints its N costliest functions (the rate is then slower than without).
"""
from __future__ import annotations

import argparse
import collections
import cProfile
import io
import pstats
import random
import shutil
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests import live_server as live  # noqa: E402  (after the path that finds it)


def load_class(app, world, count: int, category: str = "welding") -> list[str]:
    """``count`` workers, 108 hours of class each and a passed exam, inserted in bulk; returns
    their identity numbers (the batch file's column)."""
    from tests import factories as f
    from training.db import db, new_id, utcnow
    from training.evidence.models import Attendance, Exam, TrainingSession
    from training.people.identity import generate_id_number, home_region, mask_id_number
    from training.people.models import Worker
    rng = random.Random(6)
    protector = app.extensions["identity"]
    numbers, workers = [], []
    seen = set()
    while len(numbers) < count:
        n = generate_id_number(rng)
        if n in seen:
            continue
        seen.add(n)
        numbers.append(n)
        workers.append({"id": new_id(), "name": "张伟", "id_hash": protector.lookup_hash(n),
                        "id_cipher": protector.encrypt(n), "id_masked": mask_id_number(n),
                        "home_region": home_region(n), "created_at": utcnow(), "created_by": world.body.id})
    sessions, attendance = [], []
    for day in range(14):
        start = f.days_ago(40 - day).astimezone(tz=None).replace(tzinfo=None) - timedelta(hours=8)
        hours = 8 if day < 13 else 4
        sid = new_id()
        sessions.append({"id": sid, "organization_id": world.body.id, "category": category, "kind": "initial",
                         "starts_at": start, "ends_at": start + timedelta(hours=hours), "location": "教室",
                         "trainer_id": world.trainer["id"], "capacity": count, "created_at": utcnow()})
        attendance += [{"id": new_id(), "session_id": sid, "worker_id": w["id"], "check_in": start,
                        "check_out": start + timedelta(hours=hours), "hours": hours, "created_at": utcnow()}
                       for w in workers]
    taken = f.days_ago(5).astimezone(tz=None).replace(tzinfo=None)
    exams = [{"id": new_id(), "worker_id": w["id"], "category": category, "exam_centre_id": world.centre.id,
              "taken_at": taken, "duration_minutes": 90, "theory_score": 90, "practical_score": 88,
              "examiner": "考评员甲", "passed": True, "created_at": utcnow()} for w in workers]
    with app.app_context():
        for model, rows in ((Worker, workers), (TrainingSession, sessions), (Attendance, attendance), (Exam, exams)):
            for i in range(0, len(rows), 20000):
                db.session.execute(model.__table__.insert(), rows[i:i + 20000])
        db.session.commit()
        db.session.remove()
    return numbers


def run(kind: str, count: int, profile: int = 0, jobs: int = 0, group: int = 0) -> dict:
    from tests import factories as f
    workdir = Path(tempfile.mkdtemp(prefix="anzheng-issue-"))
    url = live.database_url(kind, workdir, "issuance")
    try:
        app = live.make_app(url, FINDINGS_ISSUANCE_SPIKES="off", FINDINGS_LATE_RECORDS="off")
        with app.app_context():
            world = f.World(app.test_client())
            from training.db import db
            db.session.remove()
        t0 = time.perf_counter()
        numbers = load_class(app, world, count)
        load_s = time.perf_counter() - t0
        from certificates import qr
        from certificates.cli import issue_rows
        from certificates.issuance import batch
        from certificates.models import Certificate
        from training.accounts.api_keys import Caller
        from training.db import db
        with app.app_context():
            caller = Caller("cli", world.body.id, "training_body", "", None, None)
            # cProfile sees only this thread: a profiled run issues with one issuer.
            jobs = 1 if profile else (jobs or 1)
            group = group or batch.GROUP
            profiler = cProfile.Profile() if profile else None
            rows = [{"id_number": n, "category": "welding"} for n in numbers]
            t0, cpu0 = time.perf_counter(), time.process_time()
            if profiler:
                profiler.enable()
            results = issue_rows(rows, caller, jobs, group=group)
            if profiler:
                profiler.disable()
            outcomes = collections.Counter(r[2] for r in results)
            issue_s, cpu_s = time.perf_counter() - t0, time.process_time() - cpu0
            texts = db.session.scalars(db.select(Certificate.qr_text)).all()
            versions = collections.Counter(db.session.scalars(db.select(Certificate.qr_version)).all())
            sample = texts[:500]
            t0 = time.perf_counter()
            for text in sample:
                qr.render(text)
            qr_s = time.perf_counter() - t0
            db.session.remove()
            db.engine.dispose()
    finally:
        live.drop_database(url)
        shutil.rmtree(workdir, ignore_errors=True)
    return {"count": count, "jobs": jobs, "group": group, "load_s": load_s, "issue_s": issue_s,
            "outcomes": dict(outcomes),
            "rate": outcomes["issued"] / issue_s, "cpu_ms": cpu_s / count * 1000, "qr_rate": len(sample) / qr_s,
            "versions": dict(versions), "profile": _top(profiler, profile) if profiler else ""}


def _top(profiler: cProfile.Profile, n: int) -> str:
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out).strip_dirs()
    stats.sort_stats("cumulative").print_stats(n)
    stats.sort_stats("tottime").print_stats(n)
    return out.getvalue()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--db", choices=("sqlite", "postgresql", "both"), default="both")
    ap.add_argument("--count", type=int, default=10_000)
    ap.add_argument("--jobs", type=int, default=0,
                    help="issuers at once, as `flask issue-batch --jobs` (0: its default, 1)")
    ap.add_argument("--group", type=int, default=0,
                    help="rows per transaction (0: the command's, batch.GROUP; 1: one per row)")
    ap.add_argument("--profile", type=int, default=0, metavar="N",
                    help="profile the issuance loop and print its N costliest functions")
    args = ap.parse_args()
    for kind in ("sqlite", "postgresql") if args.db == "both" else (args.db,):
        r = run(kind, args.count, args.profile, args.jobs, args.group)
        print(f"\n== {kind}: batch issuance of {r['count']} certificates (issue_rows with {r['jobs']} "
              f"issuer{'s' if r['jobs'] > 1 else ''}, one commit per group of {r['group']})")
        print(f"bulk load of the class: {r['load_s']:.1f} s; outcomes: {r['outcomes']}")
        print(f"issuance: {r['issue_s']:.1f} s = {r['rate']:.0f} certificates/s   target >= 100 "
              f"(ratio to target {r['rate'] / 100:.2f})")
        print(f"CPU of this process (all issuers): {r['cpu_ms']:.1f} ms per certificate")
        print(f"QR rendering alone (PNG + SVG): {r['qr_rate']:.0f} codes/s; "
              f"issuance spends {r['rate'] / r['qr_rate']:.2f} of its time on it")
        print("QR versions issued: " + ", ".join(f"v{v}: {n}" for v, n in sorted(r["versions"].items())))
        if r["profile"]:
            print(r["profile"])


if __name__ == "__main__":
    main()
