"""Configuration: the one place that reads the environment.

Everything the service needs from its surroundings is read here, once, into a plain dict that
Flask keeps as its config. Nothing else in the project calls ``os.environ``. In production mode
(``ANZHENG_ENV=production``) the service refuses to start without the secrets production needs,
or with weak ones (short, few distinct characters, hex keys of the wrong length, one value used
twice), or with a public URL that is not https (the cookies must be ``Secure``); in development
it generates them once under ``instance/`` (mode 0600) and says so loudly.
"""
from __future__ import annotations

import json
import logging
import os
import secrets
from pathlib import Path

log = logging.getLogger("anzheng.config")

ROOT = Path(__file__).resolve().parent.parent
INSTANCE = ROOT / "instance"

SECRET_NAMES = ("ANZHENG_ID_HASH_KEY", "ANZHENG_ID_ENC_KEY", "ANZHENG_KEY_PASSPHRASE", "SECRET_KEY")
HEX_KEYS = ("ANZHENG_ID_HASH_KEY", "ANZHENG_ID_ENC_KEY")  # 32 random bytes, written as 64 hex digits
MIN_SECRET_LENGTH, MIN_DISTINCT = 32, 10  # `openssl rand -hex 32` has about 16 distinct characters


class ConfigError(RuntimeError):
    """The environment does not hold what this mode of running needs."""


def _flag(value: str | None, default: bool) -> bool:
    if value is None or value == "":
        return default
    return value.strip().lower() not in ("0", "off", "false", "no")


def _hops(value: str | None) -> int:
    try:
        hops = int(value or 0)
    except ValueError:
        hops = -1
    if not 0 <= hops <= 10:
        raise ConfigError(f"TRUSTED_PROXY_HOPS must be a whole number from 0 to 10, not {value!r}")
    return hops


def _dev_secrets() -> dict[str, str]:
    """Secrets for development: made once, kept in instance/, never used in production."""
    INSTANCE.mkdir(mode=0o700, parents=True, exist_ok=True)
    path = INSTANCE / "dev-secrets.json"
    fresh = {name: secrets.token_hex(32) for name in SECRET_NAMES}
    try:
        # O_EXCL: several gunicorn workers starting at once must agree on one set.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            json.dump(fresh, fh)
        log.warning("DEVELOPMENT MODE: generated development secrets in %s; "
                    "set ANZHENG_ENV=production and real secrets before real use", path)
    except FileExistsError:
        pass
    for _ in range(50):
        try:
            stored = json.loads(path.read_text())
            return {**fresh, **stored}
        except ValueError:  # another worker is still writing it
            import time
            time.sleep(0.01)
    raise ConfigError(f"cannot read {path}")


def load(overrides: dict | None = None) -> dict:
    env = dict(os.environ)
    if overrides:
        env.update({k: v for k, v in overrides.items() if isinstance(v, str)})
    production = env.get("ANZHENG_ENV", "development").lower() == "production"
    cfg: dict = {
        "ANZHENG_ENV": "production" if production else "development",
        "SQLALCHEMY_DATABASE_URI": env.get("DATABASE_URL") or f"sqlite:///{INSTANCE / 'anzheng.db'}",
        "DATABASE_REPLICA_URL": env.get("DATABASE_REPLICA_URL") or None,
        "PUBLIC_BASE_URL": (env.get("PUBLIC_BASE_URL") or "http://127.0.0.1:5000").rstrip("/"),
        "RATE_LIMIT_VERIFY": env.get("RATE_LIMIT_VERIFY", "60/minute"),
        "RATE_LIMIT_AUTH_FAILURES": env.get("RATE_LIMIT_AUTH_FAILURES", "20/minute"),
        # Lookups by identity number (training/people/lookups.py): per organisation (inspectorates and
        # regulators check the people in front of them, so more), and per masked form.
        "RATE_LIMIT_ID_LOOKUP_ORG": env.get("RATE_LIMIT_ID_LOOKUP_ORG", "1000/hour"),
        "RATE_LIMIT_ID_LOOKUP_INSPECTORATE": env.get("RATE_LIMIT_ID_LOOKUP_INSPECTORATE", "10000/hour"),
        "RATE_LIMIT_ID_LOOKUP_PERSON": env.get("RATE_LIMIT_ID_LOOKUP_PERSON", "20/day"),
        # The worker's page and worker appeals: per client address, and per certificate across addresses.
        "RATE_LIMIT_WORKER": env.get("RATE_LIMIT_WORKER", "10/minute"),
        "RATE_LIMIT_WORKER_SERIAL": env.get("RATE_LIMIT_WORKER_SERIAL", "10/hour"),
        # Keyless verification answered in front of Flask (verify/verification/fastpath.py); off: by the view.
        "VERIFY_FAST_PATH": _flag(env.get("VERIFY_FAST_PATH"), True),
        # Reverse proxies in front whose X-Forwarded-For is trusted (wsgi.py); 0: the header is ignored.
        "TRUSTED_PROXY_HOPS": _hops(env.get("TRUSTED_PROXY_HOPS")),
        "FINDINGS_LATE_RECORDS": _flag(env.get("FINDINGS_LATE_RECORDS"), True),
        "FINDINGS_ISSUANCE_SPIKES": _flag(env.get("FINDINGS_ISSUANCE_SPIKES"), True),
        # Offline scanner: list age (hours) past which verdicts are marked out of date, per site risk class.
        "INSPECT_MAX_AGE_HOURS": {"normal": float(env.get("INSPECT_MAX_AGE_HOURS_NORMAL", "24")),
                                  "high": float(env.get("INSPECT_MAX_AGE_HOURS_HIGH", "8"))},
        "FINDINGS_RULES_FILE": env.get("FINDINGS_RULES_FILE") or None,
        "SCAN_RETENTION_DAYS": int(env.get("SCAN_RETENTION_DAYS", str(3 * 365))),
        # Idempotency records replay for this long, then go (pruned about every Nth new record and by `flask prune`).
        "IDEMPOTENCY_TTL_HOURS": float(env.get("IDEMPOTENCY_TTL_HOURS", "24")),
        "IDEMPOTENCY_PRUNE_EVERY": int(env.get("IDEMPOTENCY_PRUNE_EVERY", "100")),
        # Signed checkpoints of the audit chain's head: made on an append when the newest is older
        # than the minutes or this many entries behind (0 turns that trigger off), kept in the file too.
        "AUDIT_CHECKPOINT_MINUTES": float(env.get("AUDIT_CHECKPOINT_MINUTES", "10")),
        "AUDIT_CHECKPOINT_ENTRIES": int(env.get("AUDIT_CHECKPOINT_ENTRIES", "10000")),
        "AUDIT_CHECKPOINT_FILE": env.get("AUDIT_CHECKPOINT_FILE") or str(INSTANCE / "audit-checkpoints.jsonl"),
        # Console passwords: argon2id's cost (RFC 9106's second recommendation by default: 64 MiB,
        # 3 passes, 4 lanes). Production refuses less than OWASP's floor (19 MiB, 2 passes); a
        # stored hash made with other figures is re-made with these at the next sign-in.
        "PASSWORD_HASH": {"memory_kib": int(env.get("PASSWORD_HASH_MEMORY_KIB", "65536")),
                          "time_cost": int(env.get("PASSWORD_HASH_TIME_COST", "3")),
                          "parallelism": int(env.get("PASSWORD_HASH_PARALLELISM", "4"))},
        # Documented body cap (API.md: at most 1 MiB). Batches of 1,000 items fit under it.
        "MAX_CONTENT_LENGTH": 1024 * 1024,
        "SQLALCHEMY_TRACK_MODIFICATIONS": False,
        "JSON_AS_ASCII": False,
    }
    if cfg["SQLALCHEMY_DATABASE_URI"].startswith("postgresql://"):
        cfg["SQLALCHEMY_DATABASE_URI"] = "postgresql+psycopg://" + cfg["SQLALCHEMY_DATABASE_URI"][13:]
    missing = [n for n in SECRET_NAMES if not env.get(n)]
    if missing and production:
        raise ConfigError("production mode needs these secrets in the environment: " + ", ".join(missing))
    stored = _dev_secrets() if missing else {}
    for name in SECRET_NAMES:
        cfg[name] = env.get(name) or stored[name]
    if production:
        problems = production_problems(cfg)
        if problems:
            raise ConfigError("production mode refuses to start: " + "; ".join(problems))
        cfg["SESSION_COOKIE_SECURE"] = True
    if overrides:
        cfg.update({k: v for k, v in overrides.items() if not isinstance(v, str) or k not in env})
    return cfg


def production_problems(cfg: dict) -> list[str]:
    """What is too weak for production in these settings (names only: never a secret's value)."""
    problems = []
    for name in SECRET_NAMES:
        value = cfg[name]
        if name in HEX_KEYS:
            try:
                raw = bytes.fromhex(value)
            except ValueError:
                raw = b""
            if len(raw) != 32:
                problems.append(f"{name} must be 64 hex digits (32 random bytes: openssl rand -hex 32)")
            elif len(set(raw)) < 16:
                problems.append(f"{name} is not random enough")
        elif len(value) < MIN_SECRET_LENGTH:
            problems.append(f"{name} must be at least {MIN_SECRET_LENGTH} characters")
        elif len(set(value)) < MIN_DISTINCT:
            problems.append(f"{name} has too few distinct characters (at least {MIN_DISTINCT})")
    if len({cfg[n] for n in SECRET_NAMES}) < len(SECRET_NAMES):
        problems.append("each of " + ", ".join(SECRET_NAMES) + " must be a different secret")
    if not cfg["PUBLIC_BASE_URL"].startswith("https://"):
        problems.append("PUBLIC_BASE_URL must be an https:// address (session cookies are Secure)")
    cost = cfg["PASSWORD_HASH"]
    if cost["memory_kib"] < 19 * 1024 or cost["time_cost"] < 2 or cost["parallelism"] < 1:
        problems.append("PASSWORD_HASH_MEMORY_KIB must be at least 19456 and PASSWORD_HASH_TIME_COST at least 2 "
                        "(argon2id, OWASP's floor)")
    return problems


def secret_bytes(cfg: dict, name: str) -> bytes:
    """A 32-byte key from its hex (or any-text) form in the config."""
    raw = cfg[name]
    try:
        key = bytes.fromhex(raw)
    except ValueError:
        key = b""
    if len(key) != 32:
        import hashlib
        key = hashlib.sha256(raw.encode()).digest()
    return key
