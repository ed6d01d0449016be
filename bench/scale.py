"""Benchmark: does verification (and the evidence query behind issuance and pre-start checks)
stay as fast with a province's data as with a town's?

Builds two databases, each with a real world and one issued certificate, and bulk-loads filler
rows straight into the tables (through the driver: COPY on PostgreSQL): the small one to
10,000 certificates and 50,000 attendance records, the large one to 1,000,000 certificates
with their token rows and 5,000,000 attendance records over 500,000 workers. Then it measures
both in interleaved rounds, in the same process:

  - ``verify.service.verify_text`` of a real issued certificate (signature, registry, status,
    accreditation, findings; the same path as POST /api/v1/verify without HTTP),
  - ``training.evidence.evidence_for`` of a real trained worker (the query issuance and the
    pre-start check rest on).

Prints medians and the ratio large/small (target <= 1.2). The pre-start check endpoint
(verify/prestart*.py) was being written when this was; it is not measured here.
It measures only. Run: .venv/bin/python bench/scale.py [--db sqlite|postgresql|both]
[--certs 1000000 --attendance 5000000]
"""
from __future__ import annotations

import argparse
import os
import secrets
import shutil
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests import live_server as live  # noqa: E402

SMALL_CERTS, SMALL_ATTENDANCE = 10_000, 50_000
CHUNK = 50_000


def _insert(app, table, columns: tuple[str, ...], rows: list[tuple]) -> None:
    """Rows straight through the driver: COPY on PostgreSQL, executemany on SQLite."""
    from training.db import db
    conn = db.engine.raw_connection()
    try:
        cur = conn.cursor()
        if db.engine.dialect.name == "postgresql":
            with cur.copy(f'COPY {table} ({", ".join(columns)}) FROM STDIN') as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            cur.execute("BEGIN")
            cur.executemany(f'INSERT INTO {table} ({", ".join(columns)}) VALUES ({", ".join("?" * len(columns))})',
                            rows)
        conn.commit()
    finally:
        conn.close()


def fill(app, body_id: str, kid: bytes, certs: int, attendance: int) -> None:
    """Filler rows up to the sizes asked: certificates with their token rows, and attendance over
    one worker per ten records (the real world's rows are already there)."""
    from training.db import db, new_id
    now = datetime(2026, 1, 5, 8)
    with app.app_context():
        session_id = new_id()
        _insert(app, "sessions", ("id", "organization_id", "category", "kind", "starts_at", "ends_at", "location",
                                  "capacity", "created_at"),
                [(session_id, body_id, "welding", "initial", now, now + timedelta(days=3650), "filler", 10**9, now)])
        made_c = made_a = 0
        while made_c < certs or made_a < attendance:
            n_c, n_a = min(CHUNK, certs - made_c), min(5 * CHUNK, attendance - made_a)
            workers = [new_id() for _ in range(max(n_c, n_a // 10, 1))]
            _insert(app, "workers", ("id", "name", "id_hash", "id_cipher", "id_masked", "home_region", "created_at"),
                    [(w, "填充", secrets.token_hex(32), b"x", "410881********0000", "410881", now) for w in workers])
            serials = [f"F{made_c + i:018d}" for i in range(n_c)]
            _insert(app, "certificates", (
                "serial", "worker_id", "category", "issuer_id", "kid", "issued_at", "valid_until", "review_due",
                "status", "token", "qr_text", "qr_version", "qr_png", "qr_svg", "evidence", "open_findings",
                "confirmed_findings", "created_at"),
                [(s, workers[i % len(workers)], "welding", body_id, kid, now, now.date(), now.date(), "valid", b"t",
                  "", 10, b"", b"", "{}", 0, 0, now) for i, s in enumerate(serials)])
            _insert(app, "certificate_tokens", ("token_hash", "serial", "signed_at"),
                    [(secrets.token_bytes(32), s, now) for s in serials])
            _insert(app, "attendance", ("id", "session_id", "worker_id", "check_in", "check_out", "hours", "created_at"),
                    [(new_id(), session_id, workers[i % len(workers)], now + timedelta(hours=i % 80000),
                      now + timedelta(hours=i % 80000, minutes=90), 1.5, now) for i in range(n_a)])
            made_c, made_a = made_c + n_c, made_a + n_a
        db.session.execute(db.text("ANALYZE"))
        db.session.commit()
        db.session.remove()


def world_with_certificate(kind: str, workdir: Path, name: str):
    """A fresh database with a real world and one issued certificate: (app, url, body, kid, cert, worker)."""
    from sqlalchemy import select

    from certificates.models import SigningKey
    from tests import factories as f
    from tests.certificates.test_issuance import issue, ready_worker
    url = live.database_url(kind, workdir, name)
    app = live.make_app(url, FINDINGS_ISSUANCE_SPIKES="off", FINDINGS_LATE_RECORDS="off")
    with app.app_context():
        w = f.World(app.test_client())
        wk = ready_worker(w)
        cert = issue(w, wk).get_json()
        from training.db import db
        kid = db.session.scalar(select(SigningKey.kid).where(SigningKey.organization_id == w.body.id))
        db.session.remove()
    return app, url, w.body.id, kid, cert, wk


def measure(apps: dict, rounds: int = 9, batch: int = 200) -> dict:
    """Median microseconds per call of each function on each database, rounds interleaved."""
    from training.db import db
    from training.evidence import evidence_for
    from verify.service import verify_text
    out = {(name, fn): [] for name in apps for fn in ("verify_text", "evidence_for")}
    for _ in range(rounds):
        for name, (app, cert, wk) in apps.items():
            with app.app_context():
                table = app.extensions["key_table"]
                assert verify_text(cert["qr_text"], table, None).result == "valid"
                for fn, call in (("verify_text", lambda: verify_text(cert["qr_text"], table, None)),
                                 ("evidence_for", lambda: evidence_for(wk["id"], "welding"))):
                    for _ in range(20):
                        call()
                    t0 = time.perf_counter()
                    for _ in range(batch):
                        call()
                    out[(name, fn)].append((time.perf_counter() - t0) / batch * 1e6)
                db.session.remove()
    return {k: statistics.median(v) for k, v in out.items()}


def run(kind: str, certs: int, attendance: int) -> dict:
    workdir = Path(tempfile.mkdtemp(prefix="anzheng-scale-"))
    made, loads = {}, {}
    try:
        for name, (n_c, n_a) in (("small", (SMALL_CERTS, SMALL_ATTENDANCE)), ("large", (certs, attendance))):
            app, url, body_id, kid, cert, wk = world_with_certificate(kind, workdir, f"scale_{name}")
            made[name] = (app, url, cert, wk)
            t0 = time.perf_counter()
            fill(app, body_id, kid, n_c, n_a)
            loads[name] = time.perf_counter() - t0
        result = measure({name: (app, cert, wk) for name, (app, _, cert, wk) in made.items()})
    finally:
        for app, url, _, _ in made.values():
            with app.app_context():
                from training.db import db
                db.engine.dispose()
            live.drop_database(url)
        shutil.rmtree(workdir, ignore_errors=True)
    return {"result": result, "loads": loads}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--db", choices=("sqlite", "postgresql", "both"), default="both")
    ap.add_argument("--certs", type=int, default=1_000_000)
    ap.add_argument("--attendance", type=int, default=5_000_000)
    args = ap.parse_args()
    for kind in ("sqlite", "postgresql") if args.db == "both" else (args.db,):
        r = run(kind, args.certs, args.attendance)
        print(f"\n== {kind}: two databases, {SMALL_CERTS:,} certificates / {SMALL_ATTENDANCE:,} attendance and "
              f"{args.certs:,} / {args.attendance:,} (bulk loads {r['loads']['small']:.0f} s, "
              f"{r['loads']['large']:.0f} s), measured in interleaved rounds")
        for fn in ("verify_text", "evidence_for"):
            small, big = r["result"][("small", fn)], r["result"][("large", fn)]
            print(f"{fn:<14} small {small:8.0f} us   large {big:8.0f} us   ratio large/small {big / small:.2f}"
                  "   (target <= 1.2)")


if __name__ == "__main__":
    main()
