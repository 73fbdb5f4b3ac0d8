"""Fixtures for the operations tests: a broker that is down, and requests with SLA events due."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

import pytest
from django.utils import timezone


class BrokerSwitch:
    """Points Celery at a closed port (nothing listens on 6390) and back."""

    DOWN_URL = "redis://127.0.0.1:6390/0"

    def __init__(self) -> None:
        from casemgr.celery import app

        self.app = app
        self.saved_url = app.conf.broker_url
        self.saved_eager = app.conf.task_always_eager

    def _reset_pools(self) -> None:
        # Celery caches the connection pool and the producer pool built from the old URL.
        self.app._pool = None
        self.app.amqp._producer_pool = None

    def down(self) -> None:
        self.app.conf.task_always_eager = False
        self.app.conf.broker_url = self.DOWN_URL
        self._reset_pools()

    def back(self) -> None:
        self.app.conf.broker_url = self.saved_url
        self.app.conf.task_always_eager = self.saved_eager
        self._reset_pools()


@pytest.fixture
def broker_down() -> Iterator[BrokerSwitch]:
    switch = BrokerSwitch()
    switch.down()
    yield switch
    switch.back()


@pytest.fixture
def due_now() -> datetime:
    return timezone.now()


def make_due_requests(count: int, *, now: datetime) -> list[int]:
    """`count` requests in review, each with its at_risk event due at `now`; returns their ids."""
    from tickets.demo import bulk_due_requests
    from tickets.models import ReassessmentRequest

    before = set(ReassessmentRequest.objects.values_list("pk", flat=True))
    bulk_due_requests(count, now=now)
    return sorted(set(ReassessmentRequest.objects.values_list("pk", flat=True)) - before)
