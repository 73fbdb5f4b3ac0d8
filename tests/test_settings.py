"""Settings come from the environment; a bad value stops start-up naming the variable."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from django.conf import settings


def load_settings(**env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("SLA_", "DEBUG", "DATABASE_URL", "REDIS_URL"))}
    return subprocess.run(
        [sys.executable, "-c", "import casemgr.settings as s; print(s.SLA_TIMEZONE, s.DEBUG)"],
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=60,
        cwd=settings.BASE_DIR,
    )


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("DEBUG", "maybe"),
        ("SLA_TIMEZONE", "Mars/Olympus_Mons"),
        ("SLA_HOLIDAYS_COUNTRY", "XX"),
        ("SLA_TARGET_BUSINESS_DAYS", "five"),
        ("SLA_SWEEP_SECONDS", "0"),
        ("REDIS_URL", "http://127.0.0.1:6379"),
        ("EMAIL_URL", "pigeon://coop"),
        ("DATABASE_URL", "nonsense://"),
        ("LOG_FORMAT", "xml"),
    ],
)
def test_a_bad_value_names_the_variable(name, value) -> None:
    result = load_settings(**{name: value})
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert name in result.stderr.splitlines()[-1]


def test_production_needs_a_secret_key() -> None:
    result = load_settings(DEBUG="false", SECRET_KEY="")
    assert result.returncode != 0 and "SECRET_KEY" in result.stderr


def test_breach_may_not_come_before_target() -> None:
    result = load_settings(SLA_TARGET_BUSINESS_DAYS="7", SLA_BREACH_BUSINESS_DAYS="5")
    assert result.returncode != 0 and "SLA_BREACH_BUSINESS_DAYS" in result.stderr


def test_defaults_work_without_any_environment() -> None:
    result = load_settings()
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["America/Chicago", "True"]


def test_email_url_forms() -> None:
    from casemgr.settings import env_email

    os.environ["CASEMGR_TEST_EMAIL"] = "smtp+tls://user%40x:p%3Ass@mail.example:2525"
    try:
        config = env_email("CASEMGR_TEST_EMAIL", "console://")
    finally:
        del os.environ["CASEMGR_TEST_EMAIL"]
    assert config["EMAIL_HOST"] == "mail.example" and config["EMAIL_PORT"] == 2525
    assert config["EMAIL_HOST_USER"] == "user@x" and config["EMAIL_HOST_PASSWORD"] == "p:ss"
    assert config["EMAIL_USE_TLS"] is True
