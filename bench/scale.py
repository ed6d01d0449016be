"""Benchmark: do verification, the evidence query and the pre-start check stay as fast with a
province's data as with a town's? (issue 6, target 3: the large case within 1.2 x the small)

Builds two databases, each with a real world and one issued certificate, and bulk-loads filler
rows straight into the tables (through the driver: COPY on PostgreSQL, executemany on SQLite):
the small one to 10,000 certificates and 50,000 attendance records, the large one to 1,000,000
certificates with their token rows and 5,000,000 attendance records over 1,000,000 workers.
The real world also has a host enterprise (construction) and a labour agency; the real worker is
placed with the host through the agency as a welder and has had the host's three-level
induction. The filler scales with the certificates: an employment per filler worker (one in
five also an earlier, ended one; one in ten with the real host, one in ten through the real
agency), a host per 1,000 certificates and an agency per 10,000, training classes of 30 (a
session per class and day) and each host's induction sessions (one filler attendance record in
five is induction), a recorded pre-start check per two workers, a finding per 50 certificates
(open, confirmed, dismissed; worker and employer parties) and a case per ten findings.

Then it measures, in the same process, without HTTP:

  - ``verify.verification.service.verify_text`` of the real certificate (signature, registry, status,
    accreditation, findings; the same path as POST /api/v1/verify),
  - ``training.evidence.service.evidence_for`` of the real worker (what issuance and the pre-start check
    rest on),
  - ``prestart``: POST /api/v1/prestart-checks as the agency, as the view runs it: the request
    schema, ``verify.prestart.service.check_hire`` (host, certificates, induction, cases, findings, the
    signed receipt) and the insert and commit of the recorded check in one ``unit_of_work``. The
    service function needs no request context; the caller is ``training.accounts.api_keys.lookup`` of the
    agency's key, as ``require`` does. Only the JSON dump of the answer is left out.
  - ``prestart_read``: the same ``check_hire`` rolled back: no insert, no commit (on SQLite each
    commit is an fsync, the noisiest part on a shared machine).

Rounds are interleaved tightly (each function on one database and at once on the other, the
order alternating). Prints per function the median wall-clock microseconds per call at both
sizes and the ratio large/small (target <= 1.2), and the same by CPU time: this process's plus,
on PostgreSQL, the server processes' of that database (/proc/<pid>/schedstat, when the server
runs on this machine), which waiting for a core held by other work does not inflate.

Last run (docs/benchmarks.md, load average 5-7), ratios large/small: SQLite verify_text 1.00,
evidence_for 0.96, prestart 0.88, prestart_read 1.02; PostgreSQL 0.92, 1.17, 0.98, 1.04. Bulk
loads of the large database ~250 s (SQLite) and ~500 s (PostgreSQL); under 19 minutes in all.
It measures only.

Run: .venv/bin/python bench/scale.py [--db sqlite|postgresql|both] [--certs 1000000
--attendance 5000000] [--no-analyze: leave SQLite without ANALYZE statistics, as the service
runs it; PostgreSQL is always analyzed, as its autovacuum does in production]
"""
from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from datetime import date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests import live_server as live  # noqa: E402  (after the path that finds it)

SMALL_CERTS, SMALL_ATTENDANCE = 10_000, 50_000
CHUNK = 50_000
LEVELS = ("company", "workshop", "team")
FUNCTIONS = ("verify_text", "evidence_for", "prestart", "prestart_read")
BATCH = {"verify_text": 200, "evidence_for": 200, "prestart": 60, "prestart_read": 60}


class Loader:
    """One connection of its own (detached from the pool) that writes rows straight through the
    driver: COPY on PostgreSQL, executemany on SQLite, one transaction per call."""

    def __init__(self):
        from training.db import db
        self.pg = db.engine.dialect.name == "postgresql"
        self.conn = db.engine.raw_connection()
        self.conn.detach()  # its settings below never reach a connection the app measures
        cur = self.conn.cursor()
        # Index inserts land at random: SQLite's default 2 MiB page cache rereads pages all the time.
        cur.execute("SET synchronous_commit = off" if self.pg else "PRAGMA cache_size=-262144")
        self.conn.commit()

    def insert(self, table, columns: tuple[str, ...], rows: list[tuple]) -> None:
        cur = self.conn.cursor()
        if self.pg:
            with cur.copy(f'COPY {table} ({", ".join(columns)}) FROM STDIN') as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            cur.execute("BEGIN")
            cur.executemany(f'INSERT INTO {table} ({", ".join(columns)}) VALUES ({", ".join("?" * len(columns))})',
                            rows)
        self.conn.commit()

    def close(self) -> None:
        self.conn.close()


class Filler:
    """Who's who among the filler: hosts, agencies, their induction sessions, a worker's host."""

    def __init__(self, world: dict, certs: int, now: datetime):
        from training.db import new_id
        self.world, self.now, self.load = world, now, Loader()
        self.hosts = [new_id() for _ in range(max(10, certs // 1000))]
        self.agencies = [new_id() for _ in range(max(2, certs // 10_000))]
        # A host's induction: each level a dozen times (a session's level is its index mod 3).
        self.induction = {h: [new_id() for _ in range(3 * 12)] for h in self.hosts + [world["host_id"]]}

    def organizations(self) -> None:
        now, load = self.now, self.load
        orgs = [(h, "填充建设", "enterprise", f"FH{i:016d}", "410881", "construction", now)
                for i, h in enumerate(self.hosts)]
        orgs += [(a, "填充劳务", "labour_agency", f"FA{i:016d}", "410881", None, now)
                 for i, a in enumerate(self.agencies)]
        load.insert("organizations", ("id", "name", "kind", "credit_code", "region", "industry", "created_at"), orgs)
        self.sessions([(s, h, None, "induction", LEVELS[i % 3])
                       for h, ids in self.induction.items() for i, s in enumerate(ids)])

    def sessions(self, rows: list[tuple]) -> None:
        now = self.now
        self.load.insert("sessions", ("id", "organization_id", "category", "kind", "level", "starts_at", "ends_at",
                                      "location", "capacity", "created_at"),
                         [(*s, now, now + timedelta(hours=8), "filler", 40, now) for s in rows])

    def host_of(self, g: int) -> str:
        """The host of filler worker number g: the real host for one in ten."""
        return self.world["host_id"] if g % 10 == 0 else self.hosts[g % len(self.hosts)]

    def via_of(self, g: int) -> str | None:
        if g % 10 in (0, 1):  # the real agency, half of those with the real host
            return self.world["agency_id"]
        return self.agencies[g % len(self.agencies)] if g % 2 == 0 else None

    def attendance(self, first: int, workers: list[str], n_a: int) -> None:
        """n_a records over these workers (numbered from ``first``): every fifth of a worker's is
        one of its host's induction sessions, the others the days of a training class of 30."""
        from training.db import new_id
        now, n, days = self.now, len(workers), {}
        rows = []
        for i in range(n_a):
            g, day = first + i % n, i // n
            if day % 5 == 4:
                session = self.induction[self.host_of(g)][g % 36]
            else:
                key = (i % n // 30, day)
                session = days.get(key) or days.setdefault(key, new_id())
            rows.append((new_id(), session, workers[i % n], now + timedelta(hours=i % 80000),
                         now + timedelta(hours=i % 80000, minutes=90), 1.5, now))
        self.sessions([(s, self.world["body_id"], "welding", "initial", None) for s in days.values()])
        self.load.insert("attendance", ("id", "session_id", "worker_id", "check_in", "check_out", "hours",
                                        "created_at"), rows)

    def employments(self, first: int, workers: list[str]) -> None:
        """One current placement each, an earlier ended one for one in five, and a recorded
        pre-start check for one in two."""
        from training.db import new_id
        from verify.employment.service import ROLE_CODES
        now, emps, checks = self.now, [], []
        for w, worker in enumerate(workers):
            g = first + w
            host, via, role = self.host_of(g), self.via_of(g), ROLE_CODES[g % len(ROLE_CODES)]
            emps.append((new_id(), worker, host, via, role, date(2025, 3, 1) + timedelta(days=g % 300), None,
                         now, via or host))
            if g % 5 == 0:
                emps.append((new_id(), worker, host, via, ROLE_CODES[(g + 1) % len(ROLE_CODES)], date(2022, 3, 1),
                             date(2023, 6, 30), now, via or host))
            if g % 2 == 0:
                checks.append((new_id(), worker, role, host, via, date(2026, 1, 5), g % 4 != 0, via or host,
                               "filler", now, "{}", "{}", "filler", "filler"))
        self.load.insert("employments", ("id", "worker_id", "employer_id", "via_id", "role", "starts_on", "ends_on",
                                         "created_at", "created_by"), emps)
        self.load.insert("prestart_checks", ("id", "worker_id", "role", "employer_id", "via_id", "starts_on",
                                             "cleared", "organization_id", "key_id", "checked_at", "inputs",
                                             "answer", "kid", "signature"), checks)

    def findings(self, first: int, workers: list[str], serials: list[str]) -> None:
        """A finding per 50 certificates (open, confirmed, dismissed in turn; a worker and an
        employer party), and a case (open, confirmed, dismissed) per ten findings."""
        from training.db import new_id
        now, n = self.now, len(workers)
        findings, parties, cases, case_findings, case_parties = [], [], [], [], []
        for j in range(max(1, len(serials) // 50)):
            i = (j * 37) % len(serials)
            fid, worker = new_id(), workers[i % n]
            findings.append((fid, ("hours_overlap", "exam_too_fast", "clone_scan")[j % 3],
                             ("open", "confirmed", "dismissed")[j % 3], "high", f"filler:{fid}", "{}", "filler",
                             worker, serials[i] if j % 2 == 0 else None, now))
            parties += [(fid, "worker", worker, "填充"), (fid, "employer", self.host_of(first + i % n), "填充")]
            if j % 10 == 0:
                cases.append((new_id(), ("open", "confirmed", "dismissed")[(j // 10) % 3], self.world["reg_id"], now))
                case_parties.append((cases[-1][0], "worker", worker, "填充"))
            case_findings.append((cases[-1][0], fid))
        load = self.load
        load.insert("findings", ("id", "kind", "status", "severity", "rule_key", "evidence", "explanation",
                                 "worker_id", "certificate_serial", "created_at"), findings)
        load.insert("finding_parties", ("finding_id", "role", "party_id", "name"), parties)
        load.insert("cases", ("id", "status", "opened_by", "created_at"), cases)
        load.insert("case_findings", ("case_id", "finding_id"), case_findings)
        load.insert("case_parties", ("case_id", "role", "party_id", "name"), case_parties)


def fill(app, world: dict, certs: int, attendance: int, analyze: bool = True) -> None:
    """Filler rows up to the sizes asked (the real world's rows are already there), then ANALYZE
    (always on PostgreSQL, whose autovacuum analyzes in production; SQLite only when asked, since
    the service never runs it there)."""
    import secrets

    from training.db import db, new_id
    now = datetime(2026, 1, 5, 8)
    with app.app_context():
        fl = Filler(world, certs, now)
        fl.organizations()
        load = fl.load
        made_c = made_a = made_w = 0
        while made_c < certs or made_a < attendance:
            n_c, n_a = min(CHUNK, certs - made_c), min(5 * CHUNK, attendance - made_a)
            workers = [new_id() for _ in range(max(n_c, n_a // 10, 1))]
            load.insert("workers", ("id", "name", "id_hash", "id_cipher", "id_masked", "home_region", "created_at"),
                        [(w, "填充", secrets.token_hex(32), b"x", "410881********0000", "410881", now) for w in workers])
            serials = [f"F{made_c + i:018d}" for i in range(n_c)]
            load.insert("certificates", (
                "serial", "worker_id", "category", "issuer_id", "kid", "issued_at", "valid_until", "review_due",
                "status", "token", "qr_text", "qr_version", "qr_png", "qr_svg", "evidence", "open_findings",
                "confirmed_findings", "created_at"),
                [(s, workers[i % len(workers)], "welding", world["body_id"], world["kid"], now, now.date(), now.date(),
                  "valid", b"t", "", 10, b"", b"", "{}", 0, 0, now) for i, s in enumerate(serials)])
            load.insert("certificate_tokens", ("token_hash", "serial", "signed_at"),
                        [(secrets.token_bytes(32), s, now) for s in serials])
            fl.attendance(made_w, workers, n_a)
            fl.employments(made_w, workers)
            fl.findings(made_w, workers, serials or [None])
            made_c, made_a, made_w = made_c + n_c, made_a + n_a, made_w + len(workers)
        load.close()
        if analyze or db.engine.dialect.name == "postgresql":
            db.session.execute(db.text("ANALYZE"))
            db.session.commit()
        db.session.remove()


def world_with_certificate(kind: str, workdir: Path, name: str):
    """A fresh database with a real world, one issued certificate, and the worker placed through an
    agency with a host that has inducted them: (app, url, world)."""
    from sqlalchemy import select

    from certificates.models import SigningKey
    from tests import factories as f
    from tests.certificates.test_issuance import issue, ready_worker
    from training.db import db
    url = live.database_url(kind, workdir, name)
    app = live.make_app(url, FINDINGS_ISSUANCE_SPIKES="off", FINDINGS_LATE_RECORDS="off")
    with app.app_context():
        w = f.World(app.test_client())
        wk = ready_worker(w)
        cert = issue(w, wk).get_json()
        host = f.org(w.reg, "enterprise", "中建七局第三建设有限公司", industry="construction")
        agency = f.org(w.reg, "labour_agency", "郑州人和劳务派遣有限公司")
        r = agency.post("/api/v1/employments", {"worker_id": wk["id"], "employer_id": host.id, "via_id": agency.id,
                                                "role": "welder", "starts_on": str(f.days_ago(0).date())})
        assert r.status_code == 201, r.get_json()
        f.confirmed(r.get_json())  # an agency's placement counts once the host confirms it
        for i, level in enumerate(LEVELS):
            s = f.session(host, f.days_ago(6 - i), 8, None, kind="induction", level=level)
            f.attend(host, s, wk["id"])
        # Once over HTTP: the answer the benchmark then repeats in process (and the list key made).
        answer = agency.post("/api/v1/prestart-checks", {"worker_id": wk["id"], "role": "welder"}).get_json()
        assert answer["cleared"] and answer["employer_id"] == host.id, answer
        kid = db.session.scalar(select(SigningKey.kid).where(SigningKey.organization_id == w.body.id))
        db.session.remove()
    return app, url, {"body_id": w.body.id, "reg_id": w.reg.id, "kid": kid, "cert": cert, "worker": wk,
                      "host_id": host.id, "agency_id": agency.id, "agency_key": agency.key}


def calls(app, world: dict) -> dict:
    """Each measured function as a no-argument call, inside the app context."""
    from training.accounts.api_keys import lookup
    from training.db import db
    from training.evidence.hours import evidence_for
    from training.web.http import unit_of_work
    from verify.prestart.service import PrestartCheckRequestSchema, check_hire
    from verify.verification.service import verify_text
    table = app.extensions["key_table"]
    caller = lookup(f"Bearer {world['agency_key']}")
    request = {"worker_id": world["worker"]["id"], "role": "welder"}

    def prestart():  # what create_prestart_check does between the auth and the JSON response
        with unit_of_work():
            return check_hire(PrestartCheckRequestSchema().load(request), caller, "zh")[1]

    def prestart_read():
        try:
            return check_hire(PrestartCheckRequestSchema().load(request), caller, "zh")[1]
        finally:
            db.session.rollback()

    assert verify_text(world["cert"]["qr_text"], table, None).result == "valid"
    assert prestart()["cleared"] and prestart_read()["cleared"]
    return {"verify_text": lambda: verify_text(world["cert"]["qr_text"], table, None),
            "evidence_for": lambda: evidence_for(world["worker"]["id"], "welding"),
            "prestart": prestart, "prestart_read": prestart_read}


def _backends(app) -> list[int]:
    """The PostgreSQL server processes serving this app's database (none on SQLite)."""
    from training.db import db
    if db.engine.dialect.name != "postgresql":
        return []
    with db.engine.connect() as conn:
        return list(conn.scalars(db.text("SELECT pid FROM pg_stat_activity WHERE datname = current_database()")))


def _cpu(pids: list[int]) -> dict:
    """CPU nanoseconds so far of this process (key 0) and of those server processes (when the
    server runs on this machine: /proc/<pid>/schedstat)."""
    out = {0: time.process_time_ns()}
    for pid in pids:
        try:
            out[pid] = int(Path(f"/proc/{pid}/schedstat").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            pass
    return out


def measure(apps: dict, rounds: int = 15) -> dict:
    """Median wall and CPU microseconds per call of each function on each database. Rounds are
    interleaved tightly (each function on one database, then at once on the other, the order
    alternating) so that load from other work on a shared machine falls on both sides alike. CPU
    is this process's plus, on PostgreSQL, the server processes' of that database: waiting for a
    core that another engineer's tests hold does not count in it."""
    from training.db import db
    out = {(name, fn, clock): [] for name in apps for fn in FUNCTIONS for clock in ("wall", "cpu")}
    contexts = {name: app.app_context() for name, (app, _) in apps.items()}
    bound = {}
    for name, (app, world) in apps.items():
        with contexts[name]:
            bound[name] = calls(app, world)
    names = list(apps)
    for r in range(rounds):
        for fn in FUNCTIONS:
            for name in names if r % 2 == 0 else names[::-1]:
                call, n = bound[name][fn], BATCH[fn]
                with contexts[name]:
                    for _ in range(n // 10):
                        call()
                    pids = _backends(apps[name][0])
                    c0, t0 = _cpu(pids), time.perf_counter()
                    for _ in range(n):
                        call()
                    t1, c1 = time.perf_counter(), _cpu(pids)
                    out[(name, fn, "wall")].append((t1 - t0) / n * 1e6)
                    out[(name, fn, "cpu")].append(sum(c1[p] - c0[p] for p in c0 if p in c1) / n / 1e3)
                    db.session.remove()
    return {k: statistics.median(v) for k, v in out.items()}


def run(kind: str, certs: int, attendance: int, analyze: bool = True) -> dict:
    workdir = Path(tempfile.mkdtemp(prefix="anzheng-scale-"))
    made, loads, started = {}, {}, time.perf_counter()
    try:
        for name, (n_c, n_a) in (("small", (SMALL_CERTS, SMALL_ATTENDANCE)), ("large", (certs, attendance))):
            app, url, world = world_with_certificate(kind, workdir, f"scale_{name}")
            made[name] = (app, url, world)
            t0 = time.perf_counter()
            fill(app, world, n_c, n_a, analyze)
            loads[name] = time.perf_counter() - t0
        result = measure({name: (app, world) for name, (app, _, world) in made.items()})
    finally:
        for app, url, _ in made.values():
            with app.app_context():
                from training.db import db
                db.engine.dispose()
            live.drop_database(url)
        shutil.rmtree(workdir, ignore_errors=True)
    return {"result": result, "loads": loads, "took": time.perf_counter() - started}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--db", choices=("sqlite", "postgresql", "both"), default="both")
    ap.add_argument("--certs", type=int, default=1_000_000)
    ap.add_argument("--attendance", type=int, default=5_000_000)
    ap.add_argument("--no-analyze", action="store_true",
                    help="leave SQLite without ANALYZE statistics, as the service runs it")
    args = ap.parse_args()
    for kind in ("sqlite", "postgresql") if args.db == "both" else (args.db,):
        r = run(kind, args.certs, args.attendance, analyze=not args.no_analyze)
        print(f"\n== {kind}: two databases, {SMALL_CERTS:,} certificates / {SMALL_ATTENDANCE:,} attendance and "
              f"{args.certs:,} / {args.attendance:,} (bulk loads {r['loads']['small']:.0f} s, "
              f"{r['loads']['large']:.0f} s{', not analyzed' if args.no_analyze and kind == 'sqlite' else ''}; "
              f"{r['took']:.0f} s in all), measured in interleaved rounds", flush=True)
        for fn in FUNCTIONS:
            res = r["result"]
            small, big = res[("small", fn, "wall")], res[("large", fn, "wall")]
            cs, cb = res[("small", fn, "cpu")], res[("large", fn, "cpu")]
            print(f"{fn:<14} small {small:8.0f} us   large {big:8.0f} us   ratio large/small {big / small:.2f}"
                  f"   (target <= 1.2)   by CPU: {cs:8.0f} / {cb:8.0f} us = {cb / cs:.2f}", flush=True)


if __name__ == "__main__":
    main()
