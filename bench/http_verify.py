"""Benchmark: online verification over HTTP against the same server's health route.

Prepares a database (SQLite file or a fresh PostgreSQL database) with a regulator, an
accredited training body, an exam centre, an inspectorate whose key names an officer, and one
issued certificate; starts gunicorn with the documented production settings
(scripts/gunicorn.conf.py; the public limit counts every verification as in production, set so
high that nothing is refused) on a loopback port; and loads it with wrk
from the same machine at 16 connections, interleaving rounds of

  - GET /healthz (the server's own ceiling: no database work),
  - POST /api/v1/verify, public (full checks: signature, registry, status, accreditation, findings),
  - POST /api/v1/verify with an inspector's key (the same checks, plus a scan row written).

Prints req/s, p99 latency, the ratio verify/health measured in the same run (target >= 0.6,
p99 < 15 ms) and the peak resident memory (VmHWM) of each gunicorn worker under the load.
It measures only; the service never imports it.

Some virtual machines stop a virtual CPU now and then for tens of milliseconds (seen here: a
pause of about 100 ms every few seconds whenever the cores are busy, with a program spinning on
each core as much as under this load; none in 20 s with the cores idle). A pause
lands on every request in flight at the time, so it shows in the p99 of /healthz as much as in
verification's. While the rounds run, a tiny real-time process per core (``PauseMeter``: it
wakes every 2 ms, at a priority the load cannot delay, so a late wake-up means the CPU itself
was stopped) records such pauses; each round's p99 is marked when one fell in it, and the p99
of the rounds without one is printed as well. Real-time priority needs root; without it, or
with --no-pause-meter, nothing is marked.

Run: .venv/bin/python bench/http_verify.py [--db sqlite|postgresql] [--seconds 8] [--rounds 3]
wrk comes from Debian's package (installed with apt-get when missing and running as root).
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

# One way to make and drop a throwaway database, shared with the live-server tests.
from tests.live_server import (  # noqa: E402  (after the path that finds it)
    BASE_URL,
    SECRETS,
    database_url as _database_url,  # noqa: E402  (after the path that finds it)
    drop_database,
)

# One client (wrk) makes every request: the production limiter still counts each one (in batches,
# verify/web/ratelimit.py), but with a limit no load here reaches.
VERIFY_LIMIT = "1000000000/minute"


def database_url(kind: str, workdir: Path) -> str:
    return _database_url(kind, workdir, "bench")


def bench_app(url: str, **extra):
    from wsgi import create_app
    # Checkpoints of the audit trail go nowhere: a benchmark's trail is thrown away with it.
    return create_app({**SECRETS, "DATABASE_URL": url, "PUBLIC_BASE_URL": BASE_URL,
                       "RATE_LIMIT_VERIFY": VERIFY_LIMIT, "AUDIT_CHECKPOINT_FILE": os.devnull, **extra})


def prepare(url: str) -> dict:
    """Schema from the models, and a small world with one issued certificate; returns what the
    load needs: the certificate's qr_text and an inspector's key."""
    from flask_migrate import stamp

    from tests import factories as f
    from tests.certificates.test_issuance import issue, ready_worker
    from training.db import db
    app = bench_app(url)
    with app.app_context():
        db.create_all()  # the models make the schema, as in tests/conftest.py
        stamp()  # so the bootstrap's upgrade finds nothing to do
        client = app.test_client()
        world = f.World(client)
        cert = issue(world, ready_worker(world)).get_json()
        insp = f.org(world.reg, "inspectorate")
        key = world.reg.post(f"/api/v1/organizations/{insp.id}/api-keys",
                             {"holder": {"name": "李明", "badge": "豫A1024"}}).get_json()["api_key"]
        db.session.remove()
        db.engine.dispose()
    return {"qr_text": cert["qr_text"], "inspector_key": key, "world": world, "app": app}


# --- the server -----------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_gunicorn(url: str, port: int, extra_env: dict | None = None) -> subprocess.Popen:
    env = {**os.environ, **SECRETS, "DATABASE_URL": url, "PUBLIC_BASE_URL": BASE_URL,
           "RATE_LIMIT_VERIFY": VERIFY_LIMIT, "BIND": f"127.0.0.1:{port}", "ANZHENG_ENV": "production",
           "AUDIT_CHECKPOINT_FILE": os.devnull, **(extra_env or {})}
    proc = subprocess.Popen([sys.executable, "-m", "gunicorn", "-c", str(ROOT / "scripts/gunicorn.conf.py"),
                             "wsgi:app"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, start_new_session=True)
    deadline = time.time() + 30
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as r:
                if r.status == 200:
                    return proc
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError("gunicorn did not come up: " + proc.stderr.read().decode()[-2000:])


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def worker_pids(master: int) -> list[int]:
    out = []
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            text = status.read_text()
        except OSError:
            continue
        if re.search(rf"^PPid:\s+{master}$", text, re.M):
            out.append(int(status.parent.name))
    return sorted(out)


def workers_cpu_seconds(master: int) -> float:
    """CPU time (user + system) of every worker so far: the live ones' own plus what the master
    has reaped from recycled ones (max_requests)."""
    def fields(pid):
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = sum(int(x) for x in fields(master)[13:15])  # cutime, cstime
    for pid in worker_pids(master):
        try:
            ticks += sum(int(x) for x in fields(pid)[11:13])  # utime, stime
        except OSError:
            pass
    return ticks / os.sysconf("SC_CLK_TCK")


def peak_rss_kib(pid: int) -> int:
    text = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(r"^VmHWM:\s+(\d+) kB", text, re.M).group(1))


def post(port: int, body: dict, key: str | None = None) -> dict:
    req = urllib.request.Request(f"http://127.0.0.1:{port}/api/v1/verify", json.dumps(body).encode(),
                                 {"Content-Type": "application/json",
                                  **({"Authorization": f"Bearer {key}"} if key else {})})
    with urllib.request.urlopen(req, timeout=5) as r:
        return json.loads(r.read())


# --- the machine's own pauses -----------------------------------------------------------------

PAUSE_MS = 10.0  # a wake-up this late (the meter sleeps 2 ms) means the CPU itself was stopped

_METER = f"""
import os, sys, time
os.sched_setaffinity(0, {{int(sys.argv[1])}})
try:
    os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(1))
except (AttributeError, OSError):
    print("normal", flush=True)
    sys.exit()
print("realtime", flush=True)
last = time.monotonic()
while True:
    time.sleep(0.002)
    now = time.monotonic()
    if now - last > {PAUSE_MS / 1000 + 0.002}:
        print(f"{{now:.6f}} {{(now - last - 0.002) * 1000:.1f}}", flush=True)
    last = now
"""


class PauseMeter:
    """One real-time process per core recording when its CPU was stopped (see the docstring);
    ``pauses(start, end)`` lists the pauses (ms) that overlap that stretch of time.monotonic()."""

    def __init__(self):
        self.procs = [subprocess.Popen([sys.executable, "-c", _METER, str(cpu)], stdout=subprocess.PIPE,
                                       text=True) for cpu in sorted(os.sched_getaffinity(0))]
        self.active = all(p.stdout.readline().strip() == "realtime" for p in self.procs)
        self.events: list[tuple[float, float]] = []  # (end, milliseconds)

    def stop(self) -> None:
        for p in self.procs:
            if p.poll() is None:
                p.kill()
            out, _ = p.communicate()
            for line in out.splitlines():
                end, ms = line.split()
                self.events.append((float(end), float(ms)))

    def pauses(self, start: float, end: float) -> list[float]:
        return [ms for t, ms in self.events if t - ms / 1000 < end and t > start]


# --- the load -------------------------------------------------------------------------------

def ensure_wrk() -> str:
    found = shutil.which("wrk")
    if found:
        return found
    if os.geteuid() == 0 and shutil.which("apt-get"):
        subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=True, stdout=subprocess.DEVNULL)
        return shutil.which("wrk")
    sys.exit("wrk is missing: install Debian's package (sudo apt-get install wrk) and run again")


def wrk(port: int, path: str, seconds: float, connections: int, script: str, env: dict | None = None) -> dict:
    cmd = [ensure_wrk(), "-t2", f"-c{connections}", f"-d{int(seconds)}s", "--latency", "-s",
           str(Path(__file__).with_name(script)), f"http://127.0.0.1:{port}{path}"]
    out = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, **(env or {})}, check=True).stdout
    fields = dict(kv.split("=") for kv in re.search(r"WRKSUMMARY (.*)", out).group(1).split())
    n, us = int(fields["requests"]), int(fields["duration_us"])
    return {"rps": n / (us / 1e6), "p99_ms": int(fields["p99_us"]) / 1000, "p50_ms": int(fields["p50_us"]) / 1000,
            "errors": int(fields["errors"]), "requests": n}


def run(kind: str, seconds: float, rounds: int, connections: int, meter: bool = True) -> dict:
    workdir = Path(tempfile.mkdtemp(prefix="anzheng-bench-"))
    url = database_url(kind, workdir)
    proc = pauses = None
    try:
        made = prepare(url)
        port = free_port()
        proc = start_gunicorn(url, port)
        public = post(port, {"qr_text": made["qr_text"]})
        keyed = post(port, {"qr_text": made["qr_text"]}, made["inspector_key"])
        assert public["result"] == "valid" and keyed["result"] == "valid" and keyed.get("scan_id"), (public, keyed)
        body = json.dumps({"qr_text": made["qr_text"]})
        loads = {
            "health": ("/healthz", "get.lua", {}),
            "verify_public": ("/api/v1/verify", "verify_post.lua", {"WRK_BODY": body}),
            "verify_inspector": ("/api/v1/verify", "verify_post.lua",
                                 {"WRK_BODY": body, "WRK_AUTH": made["inspector_key"]}),
        }
        for path, script, env in loads.values():  # warm-up: imports, caches, key table
            wrk(port, path, 1, connections, script, env)
        results = {name: [] for name in loads}
        pauses = PauseMeter() if meter else None
        for _ in range(rounds):
            for name, (path, script, env) in loads.items():
                cpu = workers_cpu_seconds(proc.pid)
                started = time.monotonic()
                out = wrk(port, path, seconds, connections, script, env)
                out["span"] = (started, time.monotonic())
                out["cpu_ms"] = (workers_cpu_seconds(proc.pid) - cpu) * 1000 / max(out["requests"], 1)
                results[name].append(out)
        pids = worker_pids(proc.pid)
        rss = {pid: peak_rss_kib(pid) for pid in pids}
    finally:
        if pauses is not None:
            pauses.stop()
        if proc is not None:
            stop(proc)
        drop_database(url)
        shutil.rmtree(workdir, ignore_errors=True)
    if pauses is not None and pauses.active:
        for runs in results.values():
            for r in runs:
                r["pauses"] = pauses.pauses(*r["span"])
    return {"results": results, "rss_kib": rss, "pause_meter": pauses is not None and pauses.active}


def report(kind: str, out: dict) -> None:
    res = out["results"]
    print(f"\n== {kind}: gunicorn (scripts/gunicorn.conf.py), wrk -t2 -c16, {len(res['health'])} interleaved rounds")
    print(f"{'route':<18} {'req/s (median)':>15} {'p50 ms':>8} {'p99 ms':>8} {'worker CPU ms/req':>18} "
          f"{'errors':>7}   rounds req/s; rounds p99 ms")
    med, cpu = {}, {}
    for name, runs in res.items():
        med[name] = statistics.median(r["rps"] for r in runs)
        cpu[name] = statistics.median(r["cpu_ms"] for r in runs)
        p99 = statistics.median(r["p99_ms"] for r in runs)
        p50 = statistics.median(r["p50_ms"] for r in runs)
        print(f"{name:<18} {med[name]:>15.0f} {p50:>8.2f} {p99:>8.2f} {cpu[name]:>18.3f} "
              f"{sum(r['errors'] for r in runs):>7}   " + " ".join(f"{r['rps']:.0f}" for r in runs)
              + "; " + " ".join(f"{r['p99_ms']:.1f}" + ("*" if r.get("pauses") else "") for r in runs))
    for name in ("verify_public", "verify_inspector"):
        per_round = [v["rps"] / h["rps"] for v, h in zip(res[name], res["health"])]
        print(f"ratio {name}/health: {statistics.median(per_round):.2f} (per round: "
              + ", ".join(f"{x:.2f}" for x in per_round) + ")" + ("   target >= 0.6" if name == "verify_public" else "")
              + f"; by worker CPU per request (health/verify, robust to a shared machine): "
              f"{cpu['health'] / cpu[name]:.2f}")
    if out.get("pause_meter"):
        every = [ms for runs in res.values() for r in runs for ms in r["pauses"]]
        print(f"host pauses (a CPU stopped >= {PAUSE_MS:.0f} ms, seen by a real-time meter per core): {len(every)}"
              + (f", longest {max(every):.0f} ms; rounds with one are marked *" if every else ""))
        for name, runs in res.items():
            calm = [r["p99_ms"] for r in runs if not r["pauses"]]
            print(f"  {name}: p99 in the {len(calm)} of {len(runs)} rounds without a pause: "
                  + (f"median {statistics.median(calm):.1f} ms" if calm else "none"))
    else:
        print("host pauses: not measured (the meter needs real-time priority: run as root)")
    print("peak RSS per worker (VmHWM): " + ", ".join(f"{kib / 1024:.1f} MiB" for kib in out["rss_kib"].values()))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--db", choices=("sqlite", "postgresql", "both"), default="both")
    ap.add_argument("--seconds", type=int, default=8)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--connections", type=int, default=16)
    ap.add_argument("--no-pause-meter", action="store_true",
                    help="do not watch for the machine's own pauses (see the module's docstring)")
    args = ap.parse_args()
    kinds = ("sqlite", "postgresql") if args.db == "both" else (args.db,)
    for kind in kinds:
        report(kind, run(kind, args.seconds, args.rounds, args.connections, not args.no_pause_meter))


if __name__ == "__main__":
    main()
