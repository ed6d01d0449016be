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
max_requests = 20000
max_requests_jitter = 2000
accesslog = os.environ.get("ACCESS_LOG")  # off by default: URLs carry tokens, not personal data
