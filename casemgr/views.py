"""`/healthz`: the load balancer's readiness probe.

It checks what a request needs to succeed: the database answers, Redis answers (when REDIS_URL is
set: the broker and the cache), and evidence storage accepts a write and a delete. Any failure
answers 503 with the name of the failed check, so an operator sees at once which dependency is
down. Exception texts stay in the log (they can name hosts); the response carries only the
exception's class.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

logger = logging.getLogger(__name__)

PROBE_PREFIX = "healthz"
REDIS_TIMEOUT_SECONDS = 1.0


def check_database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        if cursor.fetchone() != (1,):
            raise RuntimeError("the database answered SELECT 1 with something else")


def check_redis() -> None:
    import redis

    client = redis.Redis.from_url(
        settings.REDIS_URL, socket_connect_timeout=REDIS_TIMEOUT_SECONDS, socket_timeout=REDIS_TIMEOUT_SECONDS
    )
    try:
        if not client.ping():
            raise RuntimeError("Redis did not answer PING")
    finally:
        client.close()


def check_evidence_storage() -> None:
    """Write a tiny probe object and delete it: read-only or full storage fails here, not on a
    customer's upload."""
    from django.core.files.storage import storages

    storage = storages["evidence"]
    name = storage.save(f"{PROBE_PREFIX}/probe-{uuid.uuid4().hex}.txt", ContentFile(b"ok"))
    try:
        if not storage.exists(name):
            raise RuntimeError("the probe object vanished after it was written")
    finally:
        storage.delete(name)


def health_checks() -> dict[str, Callable[[], None]]:
    checks: dict[str, Callable[[], None]] = {"database": check_database}
    if settings.REDIS_URL:
        checks["redis"] = check_redis
    checks["evidence_storage"] = check_evidence_storage
    return checks


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """200 {"status": "ok", "checks": {...}} or 503 with "failed": [names of the failed checks]."""
    results: dict[str, str] = {}
    for name, check in health_checks().items():
        try:
            check()
            results[name] = "ok"
        except Exception as exc:  # noqa: BLE001 - any failure is a failed check, reported by name
            logger.error("health check %s failed: %s: %s", name, exc.__class__.__name__, exc)
            results[name] = f"error: {exc.__class__.__name__}"
    failed = [name for name, value in results.items() if value != "ok"]
    body: dict[str, object] = {"status": "error" if failed else "ok", "checks": results}
    if failed:
        body["failed"] = failed
    return JsonResponse(body, status=503 if failed else 200)
