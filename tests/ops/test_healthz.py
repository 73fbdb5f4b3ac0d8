"""`/healthz`: 200 when the database, Redis (if configured) and evidence storage work; 503 naming
the failed check otherwise, without leaking the error text."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.files.storage import storages

from casemgr import views


def _evidence_files() -> list[Path]:
    root = Path(storages["evidence"].location)
    return [path for path in root.rglob("*") if path.is_file()] if root.exists() else []


def test_healthz_answers_ok_and_leaves_no_probe_behind(client, db, settings) -> None:
    settings.REDIS_URL = ""
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": {"database": "ok", "evidence_storage": "ok"}}
    assert response["Cache-Control"].startswith("max-age=0")
    assert _evidence_files() == []


def test_healthz_names_the_database_when_it_fails(client, db, monkeypatch) -> None:
    def broken() -> None:
        raise ConnectionError("could not connect to server at 10.0.0.5")

    monkeypatch.setattr(views, "check_database", broken)
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "error"
    assert body["failed"] == ["database"]
    assert body["checks"]["database"] == "error: ConnectionError"
    assert "10.0.0.5" not in response.content.decode()  # hosts stay in the log


def test_healthz_names_evidence_storage_when_it_refuses_writes(client, db, monkeypatch) -> None:
    storage = storages["evidence"]

    def full_disk(name, content, max_length=None):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(storage, "save", full_disk)
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["failed"] == ["evidence_storage"]
    assert response.json()["checks"]["database"] == "ok"


def test_healthz_names_redis_when_the_configured_redis_is_down(client, db, settings) -> None:
    settings.REDIS_URL = "redis://127.0.0.1:6390/0"  # nothing listens there
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["failed"] == ["redis"]
    assert response.json()["checks"]["redis"].startswith("error: ")


@pytest.mark.redis
def test_healthz_checks_the_real_redis_when_configured(client, db, settings) -> None:
    import redis

    from tests.conftest import require_service

    # The embedded-defaults pass has no REDIS_URL; point it at the machine's Redis for this test.
    settings.REDIS_URL = django_settings.REDIS_URL or "redis://127.0.0.1:6379/15"
    try:
        reachable = bool(redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=2).ping())
    except redis.RedisError:
        reachable = False
    require_service("Redis", reachable, f"start redis-server on {settings.REDIS_URL}")
    response = client.get("/healthz")
    assert response.status_code == 200, response.json()
    assert response.json()["checks"]["redis"] == "ok"


def test_healthz_refuses_writes(client, db) -> None:
    assert client.post("/healthz").status_code in {403, 405}  # CSRF or method: never a side effect
