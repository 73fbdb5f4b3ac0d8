"""Exactly-once under faults, with a real Celery worker on Redis and PostgreSQL (issue 3).

Each scenario makes SLA events come due, breaks something (two sweeps at once, a crash mid-batch,
a flushed broker, a worker killed while sending) and then checks that every SlaEvent row exists
once and every outbox row was emailed exactly once (one email per Message-ID), none lost.

The worker runs in a thread (`celery.contrib.testing.worker.start_worker`, solo pool) and
consumes a queue whose name is unique to this test run, so no other worker takes its tasks.
The last tests here need no worker: they check that no task is ever scheduled far ahead.
"""

from __future__ import annotations

import os
import re
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from celery.contrib.testing.worker import start_worker
from django.conf import settings
from django.db import connection
from django.db.models import F
from django.utils import timezone
from kombu import pools as kombu_pools

from tests.conftest import require_service
from tickets import notifications, tasks
from tickets.models import Notification, ReassessmentRequest, SlaEvent
from tickets.sweep import run_sweep

from .sla_helpers import submit_at

REPO = Path(__file__).resolve().parents[2]
WAIT_SECONDS = 60

WORKER_MARKS = (
    pytest.mark.postgres,
    pytest.mark.redis,
    pytest.mark.celery_worker,
    pytest.mark.slow,
    # Committed transactions (the worker has its own connection); the role groups and screening
    # rules created by migrations are restored for each test.
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("agent", "manager"),  # someone to alert: the team and the managers
)


def worker_test(func: Callable[..., None]) -> Callable[..., None]:
    for mark in WORKER_MARKS:
        func = mark(func)
    return func


class WorkerKilled(BaseException):
    """Stands for a process dying: not an Exception, so nothing in the code catches it."""


# --- fixtures ------------------------------------------------------------------------------------------


def _redis_available(url: str) -> bool:
    import redis

    try:
        return bool(url) and redis.Redis.from_url(url, socket_connect_timeout=2).ping()
    except redis.RedisError:
        return False


@pytest.fixture
def redis_client() -> Any:
    import redis

    require_service("Redis", _redis_available(settings.REDIS_URL), "set REDIS_URL=redis://127.0.0.1:6379/<db>")
    client = redis.Redis.from_url(settings.REDIS_URL)
    yield client
    client.close()


def _fresh_broker_connections(app: Any) -> None:
    """Drop pooled broker connections, as a restarted process would have none. kombu remembers
    which queues a connection declared; after a FLUSHDB those declarations are gone."""
    if app._pool is not None:
        app._pool.force_close_all()
        app._pool = None
    amqp = app.__dict__.get("amqp")
    if amqp is not None:
        amqp._producer_pool = None
    # kombu keeps producer pools per broker URL; a stopped test worker closes them.
    kombu_pools.reset()


@pytest.fixture
def worker_app(redis_client: Any) -> Iterator[tuple[Any, str]]:
    """The project's Celery app pointed at REDIS_URL, its tasks routed to a queue of our own."""
    from casemgr.celery import app

    queue = f"casemgr-sla-test-{os.getpid()}-{uuid.uuid4().hex[:10]}"
    saved = {key: app.conf[key] for key in ("broker_url", "task_routes", "task_always_eager")}
    _configure(app, task_always_eager=False, broker_url=settings.REDIS_URL, task_routes={"tickets.*": {"queue": queue}})
    yield app, queue
    _configure(app, **saved)
    redis_client.delete(queue, f"_kombu.binding.{queue}", f"_kombu.binding_permanent.{queue}")


def _configure(app: Any, **conf: Any) -> None:
    app.conf.update(**conf)
    # The router is built once and cached: rebuild it so tasks go to this test's queue.
    app.amqp.flush_routes()
    app.amqp.router = app.amqp.Router()
    _fresh_broker_connections(app)


@contextmanager
def running_worker(app: Any, queue: str) -> Iterator[Any]:
    with start_worker(
        app, pool="solo", perform_ping_check=False, queues=[queue], loglevel="WARNING", shutdown_timeout=60
    ) as worker:
        yield worker


def wait_until(predicate: Callable[[], bool], what: str, timeout: float = WAIT_SECONDS) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def all_sent() -> bool:
    return not Notification.objects.filter(sent_at__isnull=True).exists()


def queue_empty(redis_client: Any, queue: str) -> Callable[[], bool]:
    return lambda: redis_client.llen(queue) == 0


def screened_and_drained(redis_client: Any, queue: str) -> None:
    """Wait until the worker took every queued task and screened every request: a row locked by
    a screening task would be skipped (SKIP LOCKED) by a sweep and left to the next one."""
    wait_until(queue_empty(redis_client, queue), "the worker to take every queued task")
    wait_until(lambda: not ReassessmentRequest.objects.filter(screened_at__isnull=True).exists(), "every screening")


def due_requests(account: Any, customer: Any, count: int) -> list[ReassessmentRequest]:
    """Requests submitted a month ago: their at_risk, overdue and breached events are all due."""
    start = timezone.now() - timedelta(days=30)
    return [submit_at(start + timedelta(minutes=n), account, customer) for n in range(count)]


def assert_exactly_once(mailoutbox: list, requests: list[ReassessmentRequest]) -> None:
    """Every event of every request recorded once; every outbox row emailed exactly once."""
    events = Counter(SlaEvent.objects.values_list("request_id", "cycle", "kind"))
    assert set(events) == {(req.pk, 1, kind) for req in requests for kind in ("at_risk", "overdue", "breached")}
    assert set(events.values()) == {1}
    rows = list(Notification.objects.all())
    assert rows and all(row.sent_at is not None for row in rows)
    sent = Counter(message.extra_headers["Message-ID"] for message in mailoutbox)
    assert sent == Counter({row.message_id: 1 for row in rows}), "an email was lost or sent twice"
    sla_rows = Counter(row.dedupe_key.rsplit(":", 2)[-2] for row in rows if (row.dedupe_key or "").startswith("sla:"))
    # at_risk to the team, overdue to the managers, breached to the managers and the customer.
    assert sla_rows == {"at_risk": len(requests), "overdue": len(requests), "breached": 2 * len(requests)}


# --- the four faults -----------------------------------------------------------------------------------


@worker_test
def test_two_sweeps_at_once_fire_and_send_each_event_once(
    worker_app, redis_client, account, customer, mailoutbox, monkeypatch
) -> None:
    app, queue = worker_app
    # Let the sweeps' own re-delivery race the worker for the same rows too.
    monkeypatch.setattr(notifications, "SWEEP_GRACE", timedelta(0))
    requests = due_requests(account, customer, 12)
    now = timezone.now()
    barrier = threading.Barrier(2)
    results: list[Any] = []
    errors: list[BaseException] = []

    def sweep() -> None:
        try:
            barrier.wait()
            results.append(run_sweep(now=now, batch_size=2))
        except BaseException as exc:  # noqa: BLE001 - reported by the main thread
            errors.append(exc)
        finally:
            connection.close()  # each thread had its own database connection

    with running_worker(app, queue):
        screened_and_drained(redis_client, queue)
        threads = [threading.Thread(target=sweep) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(WAIT_SECONDS)
        assert errors == []
        wait_until(all_sent, "every notification to be sent")
        time.sleep(1)  # room for a duplicate delivery to show up
    fired = [item for result in results for item in result.fired]
    print(f"\nsweep A fired {len(results[0].fired)}, sweep B fired {len(results[1].fired)} events")
    assert len(fired) == len(set(fired)) == 36
    assert_exactly_once(mailoutbox, requests)


@worker_test
def test_a_sweep_repeated_after_a_crash_mid_batch_fires_and_sends_each_event_once(
    worker_app, redis_client, account, customer, mailoutbox, monkeypatch
) -> None:
    app, queue = worker_app
    requests = due_requests(account, customer, 6)
    real_save = notifications.save_and_queue
    batches = {"n": 0}

    def dies_in_batch_2(rows: list[Notification]) -> list[int]:
        batches["n"] += 1
        if batches["n"] == 2:
            raise WorkerKilled  # the batch's SlaEvent rows are written, its emails not yet
        return real_save(rows)

    with running_worker(app, queue):
        screened_and_drained(redis_client, queue)
        monkeypatch.setattr(notifications, "save_and_queue", dies_in_batch_2)
        with pytest.raises(WorkerKilled):
            run_sweep(batch_size=2)
        monkeypatch.setattr(notifications, "save_and_queue", real_save)
        assert SlaEvent.objects.count() == 2 * 3  # only the first batch committed
        result = run_sweep(batch_size=2)
        assert result.events == 4 * 3
        wait_until(all_sent, "every notification to be sent")
        time.sleep(1)
    assert_exactly_once(mailoutbox, requests)


@worker_test
def test_a_broker_flushed_between_enqueue_and_delivery_loses_no_email(
    worker_app, redis_client, account, customer, mailoutbox
) -> None:
    app, queue = worker_app
    requests = due_requests(account, customer, 4)  # receipts and screenings queued, no worker yet
    run_sweep(deliver=False)  # events fired, their deliveries queued
    assert redis_client.llen(queue) > 0
    redis_client.flushdb()  # the broker restarts empty: every queued task is gone
    _fresh_broker_connections(app)
    assert not Notification.objects.filter(sent_at__isnull=False).exists()
    with running_worker(app, queue):
        time.sleep(1)
        assert mailoutbox == []  # nothing left in the broker to deliver them
        # A minute later (past the sweep's grace for fresh rows), beat's next sweep runs.
        Notification.objects.update(created_at=F("created_at") - timedelta(minutes=1))
        tasks.sla_sweep.delay()
        wait_until(all_sent, "the sweep to re-deliver every notification")
        time.sleep(1)
    assert_exactly_once(mailoutbox, requests)
    # The lost screening tasks were recovered by the same sweep.
    assert not ReassessmentRequest.objects.filter(screened_at__isnull=True).exists()


@worker_test
def test_a_worker_killed_while_sending_is_replaced_once_its_lease_expires(
    worker_app, redis_client, account, customer, mailoutbox, monkeypatch
) -> None:
    app, queue = worker_app
    monkeypatch.setattr(notifications, "DELIVERY_LEASE", timedelta(seconds=5))
    requests = due_requests(account, customer, 2)
    run_sweep(deliver=False)  # the deliveries wait in the broker: no worker yet
    victim = Notification.objects.get(dedupe_key=f"sla:{requests[0].pk}:1:breached:customer")

    # A worker claims the customer's "taking longer" email and dies in the SMTP hand-off.
    from django.core.mail import EmailMultiAlternatives

    real_send = EmailMultiAlternatives.send

    def dies(self: EmailMultiAlternatives, fail_silently: bool = False) -> int:
        raise WorkerKilled

    monkeypatch.setattr(EmailMultiAlternatives, "send", dies)
    with pytest.raises(WorkerKilled):
        notifications.deliver(victim.pk)
    monkeypatch.setattr(EmailMultiAlternatives, "send", real_send)
    claimed_at = time.monotonic()

    with running_worker(app, queue):
        # The queued delivery task finds the row leased by the dead worker and leaves it.
        wait_until(queue_empty(redis_client, queue), "the worker to take every queued task")
        wait_until(lambda: Notification.objects.filter(sent_at__isnull=True).count() == 1, "the other emails")
        assert victim.message_id not in {m.extra_headers["Message-ID"] for m in mailoutbox}
        time.sleep(max(0.0, 5.2 - (time.monotonic() - claimed_at)))  # the lease expires
        Notification.objects.update(created_at=F("created_at") - timedelta(minutes=1))
        tasks.sla_sweep.delay()
        wait_until(all_sent, "the sweep to re-deliver the abandoned email")
        time.sleep(1)
    assert_exactly_once(mailoutbox, requests)
    victim.refresh_from_db()
    assert victim.attempts == 2  # the dead worker's attempt and the one that sent it
    [copy] = [m for m in mailoutbox if m.extra_headers["Message-ID"] == victim.message_id]
    assert copy.to == ["carla@acme.example"]


# --- no timers in the broker ---------------------------------------------------------------------------


def test_a_task_scheduled_more_than_a_few_minutes_ahead_is_refused() -> None:
    from casemgr.celery import TaskDelayTooLong, app

    with pytest.raises(TaskDelayTooLong, match="countdown"):
        tasks.sla_sweep.apply_async(countdown=3600)
    with pytest.raises(TaskDelayTooLong, match="ETA"):
        tasks.deliver_notification.apply_async((1,), eta=timezone.now() + timedelta(hours=1))
    with pytest.raises(TaskDelayTooLong):
        app.send_task("tickets.tasks.sla_sweep", countdown=24 * 3600)
    with pytest.raises(TaskDelayTooLong):
        tasks.sla_sweep.signature(countdown=3600).apply_async()


def test_a_short_delay_is_still_allowed() -> None:
    from casemgr.celery import check_task_delay

    check_task_delay("x", countdown=60)
    check_task_delay("x", eta=timezone.now() + timedelta(minutes=4))
    check_task_delay("x", eta=(timezone.now() + timedelta(minutes=1)).isoformat())


def test_the_beat_schedule_is_static_and_holds_only_the_sweep() -> None:
    from casemgr.celery import app

    assert settings.CELERY_BEAT_SCHEDULE == {
        "sla-sweep": {
            "task": "tickets.tasks.sla_sweep",
            "schedule": float(settings.SLA_SWEEP_SECONDS),
            "options": {"expires": float(settings.SLA_SWEEP_SECONDS)},
        }
    }
    assert app.conf.beat_schedule == settings.CELERY_BEAT_SCHEDULE
    # The file-based default scheduler, not a database one that could grow per-request timers.
    assert app.conf.beat_scheduler == "celery.beat:PersistentScheduler"
    assert "tickets.tasks.sla_sweep" in app.tasks


def test_no_code_schedules_a_task_with_an_eta_or_a_countdown() -> None:
    pattern = re.compile(r"\b(countdown|eta)\s*=|\.apply_async\([^)]*\b(countdown|eta)\b")
    offenders = []
    # The project's own packages (a top-level folder with an __init__.py), not a virtualenv.
    packages = [p for p in REPO.iterdir() if (p / "__init__.py").exists() and p.name != "tests"]
    for path in sorted(path for package in packages for path in package.rglob("*.py")):
        relative = path.relative_to(REPO)
        if relative == Path("casemgr/celery.py"):
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if pattern.search(line) and not line.lstrip().startswith("#"):
                offenders.append(f"{relative}:{number}: {line.strip()}")
    assert offenders == []
