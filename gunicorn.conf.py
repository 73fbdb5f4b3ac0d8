"""gunicorn settings for the web processes: `gunicorn -c gunicorn.conf.py casemgr.wsgi`.

Every knob is an environment variable. Workers are threaded (gthread): requests mostly wait on
PostgreSQL, S3 and Redis, so a few threads per process use a core well without the memory of more
processes. Django writes the access log (casemgr.middleware.RequestLogMiddleware, JSON in
production), so gunicorn's own access log is off and its error log goes to stderr.
"""

from __future__ import annotations

import multiprocessing
import os


def _int(name: str, default: int, minimum: int = 0) -> int:
    raw = os.environ.get(name, "")
    if raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SystemExit(f"{name} must be an integer, got {raw!r}.") from None
    if value < minimum:
        raise SystemExit(f"{name} must be at least {minimum}, got {value}.")
    return value


wsgi_app = "casemgr.wsgi:application"
bind = os.environ.get("GUNICORN_BIND") or f"{os.environ.get('HOST', '0.0.0.0')}:{_int('PORT', 8000, 1)}"  # noqa: S104
workers = _int("WEB_CONCURRENCY", multiprocessing.cpu_count() * 2 + 1, 1)
worker_class = os.environ.get("GUNICORN_WORKER_CLASS", "gthread")
threads = _int("GUNICORN_THREADS", 4, 1)
# Evidence uploads are up to 10 MB: give slow clients time, but not forever.
timeout = _int("GUNICORN_TIMEOUT", 60, 1)
graceful_timeout = _int("GUNICORN_GRACEFUL_TIMEOUT", 30, 1)
keepalive = _int("GUNICORN_KEEPALIVE", 5, 0)
# Recycle workers now and then so a slow leak never takes a machine down; jitter spreads restarts.
max_requests = _int("GUNICORN_MAX_REQUESTS", 2000, 0)
max_requests_jitter = _int("GUNICORN_MAX_REQUESTS_JITTER", 200, 0)
# The TLS-terminating proxy's address(es), whose X-Forwarded-* headers are trusted.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
accesslog = None
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
# Each worker opens its own database connections after the fork.
preload_app = False
# Request line and header limits stay at gunicorn's safe defaults.
