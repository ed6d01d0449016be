"""A real server for tests and benchmarks that need one: a prepared database (SQLite file or a
fresh PostgreSQL database) and gunicorn started with the production settings
(scripts/gunicorn.conf.py) on a loopback port, in its own process group so a test can SIGKILL
all of it at once.

Not a test module: tests/test_hardening_*.py and bench/*.py import it.
"""
from __future__ import annotations

import hashlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# Live servers run in production mode, which refuses weak secrets: fixed, but each as varied as a
# generated one would be.
SECRETS = {"ANZHENG_ID_HASH_KEY": hashlib.sha256(b"live id hash key").hexdigest(),
           "ANZHENG_ID_ENC_KEY": hashlib.sha256(b"live id encryption key").hexdigest(),
           "ANZHENG_KEY_PASSPHRASE": "live passphrase: " + hashlib.sha256(b"passphrase").hexdigest()[:32],
           "SECRET_KEY": "live session secret: " + hashlib.sha256(b"session").hexdigest()[:32]}
BASE_URL = "https://verify.example.test"
PG_ADMIN = os.environ.get("LIVE_PG_ADMIN") or os.environ.get("BENCH_PG_ADMIN", "postgresql://postgres@127.0.0.1:5432/postgres")


def postgres_available() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 5432), timeout=0.5):
            return True
    except OSError:
        return False


def database_url(kind: str, workdir: Path, name: str = "live") -> str:
    """A fresh, empty database of this kind."""
    if kind == "sqlite":
        return f"sqlite:///{workdir / (name + '.db')}"
    import psycopg
    db = f"anzheng_{name}_{os.getpid()}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{db}"')
    return PG_ADMIN.rsplit("/", 1)[0] + "/" + db


def drop_database(url: str) -> None:
    if url.startswith("postgresql"):
        import psycopg
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)')


def make_app(url: str, **extra):
    """An app on this database with the schema made from the models (as tests/conftest.py)."""
    from flask_migrate import stamp

    from training.db import db
    from wsgi import create_app
    app = create_app({**SECRETS, "DATABASE_URL": url, "PUBLIC_BASE_URL": BASE_URL,
                      "RATE_LIMIT_VERIFY": "off", "AUDIT_CHECKPOINT_FILE": os.devnull, **extra})
    with app.app_context():
        db.create_all()
        stamp()
    return app


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """gunicorn serving wsgi:app on this database; start(), stop(), kill() (SIGKILL, all of it)."""

    def __init__(self, url: str, *args: str, env: dict | None = None, log: Path | None = None):
        self.url, self.args, self.extra_env, self.log = url, args, env or {}, log
        self.port = free_port()
        self.proc: subprocess.Popen | None = None

    def start(self) -> Server:
        env = {**os.environ, **SECRETS, "DATABASE_URL": self.url, "PUBLIC_BASE_URL": BASE_URL,
               "RATE_LIMIT_VERIFY": "off", "BIND": f"127.0.0.1:{self.port}", "ANZHENG_ENV": "production",
               # A throwaway database's audit checkpoints must not land in the developer's instance/.
               "AUDIT_CHECKPOINT_FILE": os.devnull, **self.extra_env}
        out = open(self.log, "ab") if self.log else subprocess.DEVNULL
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", str(ROOT / "scripts/gunicorn.conf.py"), *self.args, "wsgi:app"],
            cwd=ROOT, env=env, stdout=out, stderr=out, start_new_session=True)
        deadline = time.time() + 60
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {self.proc.returncode}")
            try:
                if self.request("GET", "/healthz")[0] == 200:
                    return self
            except OSError:
                time.sleep(0.1)
        self.kill()
        raise RuntimeError("gunicorn did not come up in 60 s")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.kill()

    def kill(self) -> None:
        """SIGKILL the master and every worker at once, as a power cut would."""
        if self.proc is not None and self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.proc.wait()

    def worker_pids(self) -> list[int]:
        out = []
        for status in Path("/proc").glob("[0-9]*/status"):
            try:
                if f"\nPPid:\t{self.proc.pid}\n" in status.read_text():
                    out.append(int(status.parent.name))
            except OSError:
                continue
        return sorted(out)

    def request(self, method: str, path: str, body=None, key: str | None = None,
                headers: dict | None = None, timeout: float = 30) -> tuple[int, dict, bytes]:
        """(status, headers, body bytes); HTTP errors are answers, not exceptions."""
        data = json.dumps(body).encode() if body is not None else None
        h = {"Content-Type": "application/json"} if data is not None else {}
        if key:
            h["Authorization"] = f"Bearer {key}"
        h.update(headers or {})
        req = urllib.request.Request(f"http://127.0.0.1:{self.port}{path}", data, h, method=method)
        try:
            with urllib.request.urlopen(req, timeout=timeout) as r:
                return r.status, dict(r.headers), r.read()
        except urllib.error.HTTPError as err:
            return err.code, dict(err.headers), err.read()


def ready_world(app, n_workers: int, category: str = "welding", numbers: list[str] | None = None):
    """A regulator, an accredited body and exam centre (tests.factories.World) and ``n_workers``
    workers with the training and a passed exam for ``category``, recorded in batches;
    ``numbers``: their identity numbers (made up otherwise)."""
    from tests import factories as f
    numbers = numbers or [f.id_number() for _ in range(n_workers)]
    with app.app_context():
        client = app.test_client()
        w = f.World(client)
        r = w.body.post("/api/v1/workers/batch", {"items": [
            {"name": next(f._names), "id_number": n} for n in numbers[:n_workers]]})
        ids = [item["id"] for item in r.get_json()["items"]]
        from training.catalogue import load_catalogue
        left, day = load_catalogue().category(category).initial_hours, 0
        while left > 0:
            s = f.session(w.body, f.days_ago(40 - day), min(8, left), category, trainer_id=w.trainer["id"],
                          capacity=max(40, n_workers))
            r = w.body.post(f"/api/v1/sessions/{s['id']}/attendance/batch", {"items": [
                {"worker_id": i, "check_in": s["starts_at"], "check_out": s["ends_at"]} for i in ids]})
            assert all(item["status"] == 201 for item in r.get_json()["items"]), r.get_json()
            left, day = left - 8, day + 1
        r = w.centre.post("/api/v1/exams/batch", {"items": [
            {"worker_id": i, "category": category, "taken_at": f.ts(f.days_ago(5)), "duration_minutes": 90,
             "theory_score": 90, "practical_score": 88, "examiner": "考评员甲"} for i in ids]})
        assert all(item["status"] == 201 for item in r.get_json()["items"]), r.get_json()
        from training.db import db
        db.session.remove()
    return w, ids
