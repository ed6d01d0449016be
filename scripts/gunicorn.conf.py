"""Production-style gunicorn settings (documented in docs/deployment.md)."""
import multiprocessing
import os

bind = os.environ.get("BIND", "127.0.0.1:5000")
# Sync workers: verification is CPU-bound (a signature check) and short; one per core.
# Measured (bench/http_verify.py, PostgreSQL): 4 workers on 2 cores verified 0.64x what 2 did,
# and gthread workers with keep-alive can pile every connection onto one worker.
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count()))
worker_class = "sync"
timeout = 30
keepalive = 2
# A worker is replaced after this many requests, a guard against slow leaks. Each replacement
# imports the application again (about a second of CPU) and stalls requests meanwhile: at 20,000
# it happened every ~10 s under full load and put ~1 s into the p99 of /healthz and
# verification alike (bench/http_verify.py; none with replacement off). At a million it happens
# every few minutes at full load; worker memory stays flat under load (~140-150 MiB).
max_requests = 1_000_000
max_requests_jitter = 100_000
accesslog = os.environ.get("ACCESS_LOG")  # off by default: URLs carry tokens, not personal data
