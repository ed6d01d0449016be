"""Per-client limits behind a real reverse proxy (Debian's nginx) in front of gunicorn, on loopback.

With ``TRUSTED_PROXY_HOPS=1`` the client is the address nginx saw, taken from the X-Forwarded-For
it appends: two clients (127.0.0.1 and 127.0.0.2) get separate limits, and a client that sends
its own X-Forwarded-For does not escape its limit. With the default 0, gunicorn serving clients
directly ignores the header altogether. Both the verification fast path (keyless POST, answered
in front of Flask) and the /V/ page (Flask) count under the same address.

SQLite only: the address is taken before any database work; the shared counters themselves are
tested on both backends (tests/test_hardening_server.py, tests/verify/test_ratelimit.py).
"""
from __future__ import annotations

import http.client
import json
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from tests import live_server as live

NGINX = shutil.which("nginx") or next((p for p in ("/usr/sbin/nginx",) if Path(p).exists()), None)
LIMIT = 4  # an hour's window: a test never straddles two
PAGE = "/V/" + "1" * 120  # a verification page (Flask), any token: it is counted first


def _nginx(tmp: Path, upstream: int) -> tuple[subprocess.Popen, int]:
    port = live.free_port()
    conf = tmp / "nginx.conf"
    conf.write_text(f"""
worker_processes 1;
pid {tmp}/nginx.pid;
error_log {tmp}/nginx-error.log;
events {{ worker_connections 64; }}
http {{
  access_log off;
  client_body_temp_path {tmp}/body; proxy_temp_path {tmp}/proxy;
  fastcgi_temp_path {tmp}/fcgi; uwsgi_temp_path {tmp}/uwsgi; scgi_temp_path {tmp}/scgi;
  server {{
    listen 127.0.0.1:{port};
    location / {{
      proxy_pass http://127.0.0.1:{upstream};
      proxy_set_header Host $host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
    }}
  }}
}}
""")
    proc = subprocess.Popen([NGINX, "-p", str(tmp), "-c", str(conf), "-g", "daemon off;"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 15
    while time.time() < deadline:
        try:
            if _send(port, "127.0.0.1", "GET", "/healthz")[0] == 200:
                return proc, port
        except OSError:
            time.sleep(0.05)
    proc.kill()
    pytest.fail("nginx did not answer: " + (tmp / "nginx-error.log").read_text()[-500:])


def _send(port: int, source: str, method: str, path: str, forwarded: str | None = None) -> tuple[int, bytes]:
    """One request from the loopback address ``source``; (status, body)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30, source_address=(source, 0))
    headers = {"X-Forwarded-For": forwarded} if forwarded else {}
    body = None
    if method == "POST":
        body, headers["Content-Type"] = json.dumps({"qr_text": "plain words"}), "application/json"
    try:
        conn.request(method, path, body, headers)
        r = conn.getresponse()
        return r.status, r.read()
    finally:
        conn.close()


@pytest.fixture(scope="module")
def servers(tmp_path_factory):
    """gunicorn (one sync worker: its count is exact) trusting one proxy hop, nginx in front of
    it, and a second gunicorn with the default of none, served to clients directly."""
    if NGINX is None:
        pytest.skip("nginx is not installed (scripts/test installs Debian's nginx-light when run as root)")
    tmp = tmp_path_factory.mktemp("proxy")
    url = live.database_url("sqlite", tmp, "proxy")
    app = live.make_app(url)
    env = {"RATE_LIMIT_VERIFY": f"{LIMIT}/hour", "WEB_CONCURRENCY": "1"}
    behind = live.Server(url, env={**env, "TRUSTED_PROXY_HOPS": "1"}).start()
    direct = live.Server(url, env=env).start()
    proxy, port = _nginx(tmp, behind.port)
    yield {"proxy": port, "direct": direct.port}
    proxy.terminate()
    proxy.wait(10)
    behind.stop()
    direct.stop()
    with app.app_context():
        from training.db import db
        db.engine.dispose()


def _use_up(port: int, source: str, forwarded=lambda i: None) -> list[int]:
    """The limit's worth of requests, alternately the fast path's and the page's."""
    return [_send(port, source, "POST" if i % 2 == 0 else "GET", "/api/v1/verify" if i % 2 == 0 else PAGE,
                  forwarded(i))[0] for i in range(LIMIT)]


def test_behind_proxy_two_clients_have_separate_limits_and_spoofing_does_not_escape(servers):
    port = servers["proxy"]
    assert _use_up(port, "127.0.0.1") == [200] * LIMIT
    # Over its limit, on both paths, whatever it claims to be forwarded for.
    for forwarded in (None, "203.0.113.7", "127.0.0.2", "10.0.0.1, 198.51.100.4"):
        assert _send(port, "127.0.0.1", "POST", "/api/v1/verify", forwarded)[0] == 429, forwarded
        assert _send(port, "127.0.0.1", "GET", PAGE, forwarded)[0] == 429, forwarded
    # Another client behind the same proxy still has its own limit, even sending A's address.
    assert _use_up(port, "127.0.0.2", lambda i: "127.0.0.1" if i % 2 else None) == [200] * LIMIT
    assert _send(port, "127.0.0.2", "POST", "/api/v1/verify")[0] == 429


def test_direct_clients_forwarded_header_ignored_by_default(servers):
    port = servers["direct"]
    # Every request claims a new forwarded address: all are counted as the one real client.
    statuses = _use_up(port, "127.0.0.3", lambda i: f"198.51.100.{i + 1}")
    assert statuses == [200] * LIMIT
    assert _send(port, "127.0.0.3", "POST", "/api/v1/verify", "198.51.100.99")[0] == 429
    assert _send(port, "127.0.0.3", "GET", PAGE, "198.51.100.98")[0] == 429


@pytest.mark.parametrize("value", ["-1", "one", "11", "1.5"])
def test_trusted_proxy_hops_nonsense_refused_at_start(value):
    from training.config import ConfigError, load
    with pytest.raises(ConfigError, match="TRUSTED_PROXY_HOPS"):
        load({"TRUSTED_PROXY_HOPS": value})
