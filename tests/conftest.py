"""Personas and situations shared by every test.

Personas: `customer` (owns `account`), `teammate` (member of `account`), `outsider` (owns another
account and must see nothing), `agent`, `agent2`, `senior`, `senior2`, `manager`, `compliance`.
Situations: `draft`, `submitted_request`, `request_in_review`, `awaiting_customer_request`,
`rejected_request`, `request_in_reevaluation`, `approved_request`.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
from django.conf import settings
from django.db import connection

from accounts.roles import ACCOUNTS_TEAM, COMPLIANCE, MANAGERS, SENIOR_REVIEWERS
from tests import factories

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """PostgreSQL-only tests (row locks, the delete trigger) run in the PostgreSQL pass; on SQLite
    they are deselected, not skipped, and the run says so."""
    if settings.DATABASES["default"]["ENGINE"].endswith("postgresql"):
        return
    postgres_only = [item for item in items if item.get_closest_marker("postgres")]
    if postgres_only:
        config.hook.pytest_deselected(items=postgres_only)
        items[:] = [item for item in items if not item.get_closest_marker("postgres")]
        config._casemgr_pg_deselected = len(postgres_only)  # type: ignore[attr-defined]


def pytest_report_header(config: pytest.Config) -> list[str]:
    db = settings.DATABASES["default"]
    redis = settings.REDIS_URL or "(none: filesystem broker)"
    return [f"casemgr: database {db['ENGINE'].rsplit('.', 1)[-1]} {db.get('NAME')}, redis {redis}, CI={IN_CI}"]


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:
    count = getattr(config, "_casemgr_pg_deselected", 0)
    if count:
        terminalreporter.write_line(
            f"casemgr: {count} PostgreSQL-only tests deselected on SQLite (set DATABASE_URL=postgres://... to run them)"
        )


def require_service(name: str, available: bool, how: str) -> None:
    """A test that needs a service fails in CI when it is missing, and skips elsewhere."""
    if available:
        return
    message = f"{name} is not available: {how}"
    if IN_CI:
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(autouse=True)
def _test_settings(settings, tmp_path_factory) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.SITE_URL = "http://testserver"
    settings.AXES_ENABLED = False
    # A private in-memory cache per test: throttle counters and the like never leak between tests
    # (with REDIS_URL set, the default cache would otherwise be the shared Redis).
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache",
                                   "LOCATION": f"casemgr-test-{uuid.uuid4().hex}"}}


@pytest.fixture(autouse=True)
def _eager_celery(settings) -> Iterator[None]:
    """Tasks run inline in tests unless a test starts a real worker."""
    from casemgr.celery import app

    previous = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = previous


@pytest.fixture(autouse=True)
def _private_evidence_folder(settings, tmp_path) -> None:
    if settings.STORAGES["evidence"]["BACKEND"].endswith("FileSystemStorage"):
        settings.STORAGES = {
            **settings.STORAGES,
            "evidence": {"BACKEND": "django.core.files.storage.FileSystemStorage",
                         "OPTIONS": {"location": str(tmp_path / "evidence"), "base_url": None}},
        }


def is_postgres() -> bool:
    return connection.vendor == "postgresql"


# --- personas ---------------------------------------------------------------------------------


@pytest.fixture
def customer(db):
    return factories.UserFactory(username="carla", email="carla@acme.example")


@pytest.fixture
def account(customer):
    return factories.AccountFactory(name="Acme Logistics", owner=customer)


@pytest.fixture
def teammate(account):
    user = factories.UserFactory(username="tom", email="tom@acme.example")
    account.members.add(user)
    return user


@pytest.fixture
def outsider(db):
    user = factories.UserFactory(username="oscar", email="oscar@other.example")
    factories.AccountFactory(name="Other Corp", owner=user)
    return user


@pytest.fixture
def agent(db):
    return factories.StaffFactory(username="alice", email="alice@desk.example", groups=[ACCOUNTS_TEAM])


@pytest.fixture
def agent2(db):
    return factories.StaffFactory(username="arthur", email="arthur@desk.example", groups=[ACCOUNTS_TEAM])


@pytest.fixture
def senior(db):
    return factories.StaffFactory(
        username="sam", email="sam@desk.example", groups=[ACCOUNTS_TEAM, SENIOR_REVIEWERS]
    )


@pytest.fixture
def senior2(db):
    return factories.StaffFactory(
        username="sofia", email="sofia@desk.example", groups=[ACCOUNTS_TEAM, SENIOR_REVIEWERS]
    )


@pytest.fixture
def manager(db):
    return factories.StaffFactory(username="maria", email="maria@desk.example", groups=[MANAGERS])


@pytest.fixture
def compliance(db):
    return factories.StaffFactory(username="colin", email="colin@desk.example", groups=[COMPLIANCE])


@pytest.fixture
def restriction(account):
    return factories.RestrictionFactory(account=account, kind="sms_blocked", source="signup_risk")


# --- situations ---------------------------------------------------------------------------------


@pytest.fixture
def draft(account, customer):
    return factories.draft_for(account, customer)


@pytest.fixture
def submitted_request(draft, customer):
    from tickets.services import request_submit

    return request_submit(request_id=draft.pk, actor=customer)


@pytest.fixture
def request_in_review(submitted_request, agent):
    from tickets.services import request_claim

    return request_claim(request_id=submitted_request.pk, actor=agent)


@pytest.fixture
def awaiting_customer_request(request_in_review, agent):
    from tickets.services import request_request_info

    return request_request_info(
        request_id=request_in_review.pk, actor=agent, message="Please send your certificate of incorporation."
    )


@pytest.fixture
def rejected_request(request_in_review, agent):
    from tickets.services import request_reject

    return request_reject(
        request_id=request_in_review.pk, actor=agent, reason_code="unverifiable_business", note="Website is parked."
    )


@pytest.fixture
def reevaluation_requested_request(rejected_request, customer):
    from tickets.services import request_request_reevaluation

    return request_request_reevaluation(
        request_id=rejected_request.pk, actor=customer, details="Our website is live now; see the attached filing."
    )


@pytest.fixture
def request_in_reevaluation(reevaluation_requested_request, senior):
    from tickets.services import request_claim_reevaluation

    return request_claim_reevaluation(request_id=reevaluation_requested_request.pk, actor=senior)


@pytest.fixture
def approved_request(request_in_review, agent, restriction):
    from tickets.services import request_approve

    return request_approve(request_id=request_in_review.pk, actor=agent, lift=[restriction.pk], message="Welcome back.")
