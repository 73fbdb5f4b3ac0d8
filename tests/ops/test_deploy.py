"""Production configuration: `check --deploy` is clean with DEBUG off, bad settings fail loudly,
logs are JSON, and the process files describe web, worker and beat."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION_ENV = {
    "DEBUG": "False",
    "SECRET_KEY": "k3y-" + "x7Q9pL2vR8sT4wY6zB1nM5cD0fG3hJ" * 2,
    "ALLOWED_HOSTS": "desk.example.com",
}


def _manage(*args: str, env: dict[str, str], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    dropped = {"DEBUG", "SECRET_KEY", "ALLOWED_HOSTS", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    base = {key: value for key, value in os.environ.items() if key not in dropped}
    base["CASEMGR_VAR_DIR"] = str(tmp_path)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.slow
def test_check_deploy_reports_no_issues_with_production_settings(tmp_path: Path) -> None:
    result = _manage("check", "--deploy", "--fail-level", "WARNING", env=PRODUCTION_ENV, tmp_path=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout


@pytest.mark.slow
@pytest.mark.parametrize(
    ("override", "message"),
    [
        ({"SECRET_KEY": ""}, "SECRET_KEY must be set when DEBUG is off."),
        ({"ALLOWED_HOSTS": ""}, "ALLOWED_HOSTS must be set"),
        ({"SECURE_HSTS_SECONDS": "a year"}, "SECURE_HSTS_SECONDS must be an integer"),
        ({"LOG_LEVEL": "LOUD"}, "LOG_LEVEL must be DEBUG, INFO, WARNING, ERROR or CRITICAL"),
        ({"SECURE_SSL_REDIRECT": "maybe"}, "SECURE_SSL_REDIRECT must be a boolean"),
    ],
)
def test_production_settings_refuse_a_bad_value_naming_the_variable(
    tmp_path: Path, override: dict[str, str], message: str
) -> None:
    result = _manage("check", env={**PRODUCTION_ENV, **override}, tmp_path=tmp_path)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert message in result.stderr


@pytest.mark.slow
def test_production_logs_are_one_json_object_per_line(tmp_path: Path) -> None:
    code = (
        "import django, logging; django.setup(); "
        "logging.getLogger('casemgr.request').info('GET / 200', extra={'status': 200, 'request_id': 'abc12345'})"
    )
    base = {key: value for key, value in os.environ.items() if key not in {"DEBUG", "LOG_FORMAT"}}
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**base, **PRODUCTION_ENV, "DJANGO_SETTINGS_MODULE": "casemgr.settings", "CASEMGR_VAR_DIR": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    records = [json.loads(line) for line in result.stderr.splitlines() if line.strip()]
    request_lines = [r for r in records if r["logger"] == "casemgr.request"]
    assert request_lines == [
        {**request_lines[0], "level": "INFO", "message": "GET / 200", "status": 200, "request_id": "abc12345"}
    ]
    assert "time" in request_lines[0]


def test_production_security_settings_follow_debug_off() -> None:
    result = subprocess.run(
        [sys.executable, "-c", "import json; from casemgr import settings as s; print(json.dumps({"
         "'ssl': s.SECURE_SSL_REDIRECT, 'hsts': s.SECURE_HSTS_SECONDS, 'session': s.SESSION_COOKIE_SECURE,"
         "'csrf': s.CSRF_COOKIE_SECURE, 'static': s.STORAGES['staticfiles']['BACKEND'],"
         "'csp': s.CONTENT_SECURITY_POLICY, 'exempt': s.SECURE_REDIRECT_EXEMPT}))"],
        cwd=ROOT,
        env={**os.environ, **PRODUCTION_ENV},
        capture_output=True,
        text=True,
        timeout=60,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    values = json.loads(result.stdout.strip().splitlines()[-1])
    assert values["ssl"] is True
    assert values["hsts"] >= 31_536_000
    assert values["session"] is True and values["csrf"] is True
    assert values["static"] == "whitenoise.storage.CompressedManifestStaticFilesStorage"
    assert "default-src 'self'" in values["csp"] and "frame-ancestors 'none'" in values["csp"]
    assert values["exempt"] == [r"^healthz$"]


def test_every_response_carries_the_security_headers(client, db) -> None:
    response = client.get("/accounts/login/")
    assert response.status_code == 200
    assert "default-src 'self'" in response["Content-Security-Policy"]
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert len(response["X-Request-ID"]) == 32


def test_a_sane_request_id_from_the_proxy_is_kept_and_a_hostile_one_replaced(client, db) -> None:
    assert client.get("/accounts/login/", headers={"X-Request-ID": "lb-1234abcd"})["X-Request-ID"] == "lb-1234abcd"
    hostile = client.get("/accounts/login/", headers={"X-Request-ID": "x\r\nSet-Cookie: a=b"})["X-Request-ID"]
    assert hostile != "x\r\nSet-Cookie: a=b" and len(hostile) == 32


def test_procfile_runs_web_worker_and_beat_with_the_gunicorn_config() -> None:
    processes = dict(line.split(":", 1) for line in (ROOT / "Procfile").read_text().splitlines() if line.strip())
    assert set(processes) == {"release", "web", "worker", "beat"}
    assert "gunicorn -c gunicorn.conf.py" in processes["web"]
    assert "celery -A casemgr worker" in processes["worker"]
    assert "celery -A casemgr beat" in processes["beat"]
    assert "migrate" in processes["release"] and "collectstatic" in processes["release"]


def test_gunicorn_config_reads_its_knobs_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    import runpy

    monkeypatch.setenv("WEB_CONCURRENCY", "3")
    monkeypatch.setenv("PORT", "9001")
    config = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    assert config["workers"] == 3
    assert config["bind"].endswith(":9001")
    assert config["wsgi_app"] == "casemgr.wsgi:application"
    monkeypatch.setenv("WEB_CONCURRENCY", "many")
    with pytest.raises(SystemExit, match="WEB_CONCURRENCY must be an integer"):
        runpy.run_path(str(ROOT / "gunicorn.conf.py"))
