"""Two actors deciding the same request at once: exactly one decision and one clear conflict.
Row locks (select_for_update) do nothing on SQLite, so these run on PostgreSQL."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection, connections

from tests import factories
from tickets import services
from tickets.errors import StateConflict
from tickets.models import ReassessmentRequest, RequestTransition, State

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def race(*calls: Callable[[], Any]) -> list[Any]:
    """Start the calls together in threads; return each one's result or exception."""
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)

    def run(index: int, fn: Callable[[], Any]) -> None:
        try:
            barrier.wait()
            results[index] = fn()
        except Exception as exc:  # noqa: BLE001 - the outcome is the result
            results[index] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i, fn)) for i, fn in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return results


@pytest.fixture
def slow_audit(monkeypatch):
    """Hold the row lock a little longer so the two transactions overlap for sure."""
    original = services._audit

    def slow(*args: Any, **kwargs: Any) -> Any:
        time.sleep(0.3)
        return original(*args, **kwargs)

    monkeypatch.setattr(services, "_audit", slow)


def test_two_agents_claiming_at_once_yield_one_assignee(submitted_request, agent, agent2, slow_audit) -> None:
    assert connection.vendor == "postgresql"
    results = race(
        lambda: services.request_claim(request_id=submitted_request.pk, actor=agent),
        lambda: services.request_claim(request_id=submitted_request.pk, actor=agent2),
    )
    winners = [r for r in results if isinstance(r, ReassessmentRequest)]
    conflicts = [r for r in results if isinstance(r, StateConflict)]
    assert len(winners) == 1 and len(conflicts) == 1, results
    assert "in review" in conflicts[0].message
    fresh = ReassessmentRequest.objects.get(pk=submitted_request.pk)
    assert fresh.assignee == winners[0].assignee
    assert RequestTransition.objects.filter(request=fresh, transition="claim").count() == 1


def test_approve_and_reject_at_once_yield_exactly_one_decision(request_in_review, agent, account, slow_audit) -> None:
    restriction = factories.RestrictionFactory(account=account)
    results = race(
        lambda: services.request_approve(request_id=request_in_review.pk, actor=agent, lift=[restriction.pk]),
        lambda: services.request_reject(request_id=request_in_review.pk, actor=agent, reason_code="other"),
    )
    decided = [r for r in results if isinstance(r, ReassessmentRequest)]
    conflicts = [r for r in results if isinstance(r, StateConflict)]
    assert len(decided) == 1 and len(conflicts) == 1, results
    fresh = ReassessmentRequest.objects.get(pk=request_in_review.pk)
    assert fresh.state == decided[0].state
    decisions = RequestTransition.objects.filter(request=fresh, transition__in=["approve", "reject"])
    assert decisions.count() == 1
    restriction.refresh_from_db()
    # The restriction is lifted if and only if the approval won.
    assert (restriction.status == "lifted") == (fresh.state == State.APPROVED)


def test_withdraw_racing_a_claim_always_ends_withdrawn(submitted_request, customer, agent, slow_audit) -> None:
    withdraw, claim = race(
        lambda: services.request_withdraw(request_id=submitted_request.pk, actor=customer),
        lambda: services.request_claim(request_id=submitted_request.pk, actor=agent),
    )
    fresh = ReassessmentRequest.objects.get(pk=submitted_request.pk)
    transitions = list(RequestTransition.objects.filter(request=fresh).values_list("transition", flat=True))
    assert isinstance(withdraw, ReassessmentRequest), withdraw
    assert fresh.state == State.WITHDRAWN
    if isinstance(claim, StateConflict):
        assert transitions[-2:] == ["submit", "withdraw"]  # withdrawn first: the claim lost
    else:
        assert isinstance(claim, ReassessmentRequest), claim
        assert transitions[-2:] == ["claim", "withdraw"]  # claimed first, then withdrawn
