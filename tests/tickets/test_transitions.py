"""Every (state, transition, actor) combination: the allowed ones land with an audit row, every
other one is refused with a clear error and changes nothing."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.forms.models import model_to_dict
from django.utils import timezone

from tickets import clock, services
from tickets.errors import ActorNotAllowed, RequestNotFound, StateConflict, TransitionRefused
from tickets.models import TRANSITIONS, ReassessmentRequest, RequestTransition, State

from .lifecycle import build

CUSTOMERS = {"customer", "teammate"}
AGENTS = {"agent", "agent2", "senior", "senior2"}
ACTORS = ["customer", "teammate", "outsider", "agent", "agent2", "senior", "senior2", "manager", "compliance", "system"]

# Written from DESIGN §4, independently of the implementation's tables.
ALLOWED: dict[tuple[str, str], set[str]] = {
    (State.DRAFT, "submit"): CUSTOMERS,
    (State.DRAFT, "withdraw"): CUSTOMERS,
    (State.SUBMITTED, "auto_reject"): {"system"},
    (State.SUBMITTED, "claim"): AGENTS,
    (State.SUBMITTED, "withdraw"): CUSTOMERS,
    (State.IN_REVIEW, "request_info"): {"agent"},  # the assignee only
    (State.IN_REVIEW, "approve"): {"agent"},
    (State.IN_REVIEW, "reject"): {"agent"},
    (State.IN_REVIEW, "withdraw"): CUSTOMERS,
    (State.AWAITING_CUSTOMER, "provide_info"): CUSTOMERS,
    (State.AWAITING_CUSTOMER, "expire_info_request"): {"system"},
    (State.AWAITING_CUSTOMER, "withdraw"): CUSTOMERS,
    (State.REJECTED, "request_reevaluation"): CUSTOMERS,
    (State.REJECTED, "close_reevaluation_window"): {"system"},
    (State.REEVALUATION_REQUESTED, "claim_reevaluation"): {"senior", "senior2"},
    (State.REEVALUATION_REQUESTED, "withdraw"): CUSTOMERS,
    (State.IN_REEVALUATION, "approve"): {"senior"},  # the assigned senior only
    (State.IN_REEVALUATION, "reject_final"): {"senior"},
}

TARGET = {
    "submit": State.SUBMITTED,
    "auto_reject": State.REJECTED_FINAL,
    "claim": State.IN_REVIEW,
    "request_info": State.AWAITING_CUSTOMER,
    "provide_info": State.IN_REVIEW,
    "expire_info_request": State.REJECTED,
    "approve": State.APPROVED,
    "reject": State.REJECTED,
    "request_reevaluation": State.REEVALUATION_REQUESTED,
    "close_reevaluation_window": State.REJECTED_FINAL,
    "claim_reevaluation": State.IN_REEVALUATION,
    "reject_final": State.REJECTED_FINAL,
    "withdraw": State.WITHDRAWN,
}

ARGS: dict[str, dict[str, Any]] = {
    "auto_reject": {"reason_code": "zt_payment_flagged"},
    "request_info": {"message": "Which countries exactly?"},
    "provide_info": {"message": "Only the US and Canada."},
    "approve": {"lift": []},
    "reject": {"reason_code": "unverifiable_business", "note": "no registry entry"},
    "request_reevaluation": {"details": "We are registered now."},
    "reject_final": {"reason_code": "unverifiable_business", "note": "still nothing"},
}
CUSTOMER_TRANSITIONS = {"submit", "provide_info", "request_reevaluation", "withdraw"}
SYSTEM_TRANSITIONS = {"auto_reject", "expire_info_request", "close_reevaluation_window"}
# System transitions with a timer are tried once their timer has run out.
TIME_SHIFT = {"expire_info_request": timedelta(days=15), "close_reevaluation_window": timedelta(days=31)}


def call(name: str, req: ReassessmentRequest, actor: Any) -> ReassessmentRequest:
    service = getattr(services, f"request_{name}")
    kwargs = dict(ARGS.get(name, {}))
    if name in SYSTEM_TRANSITIONS:
        if actor is not None:
            # A person trying a system transition: go through the same check the service uses.
            services.ensure_allowed(ReassessmentRequest.objects.get(pk=req.pk), name, actor)
            raise AssertionError("ensure_allowed let a person take a system transition")
        return service(request_id=req.pk, **kwargs)
    return service(request_id=req.pk, actor=actor, **kwargs)


def snapshot(req: ReassessmentRequest) -> tuple[dict[str, Any], int]:
    fresh = ReassessmentRequest.objects.get(pk=req.pk)
    data = model_to_dict(fresh)
    data["state"] = fresh.state
    data["updated_at"] = fresh.updated_at
    return data, RequestTransition.objects.filter(request=req).count()


@pytest.mark.parametrize("transition", TRANSITIONS)
@pytest.mark.parametrize("state", [s.value for s in State])
def test_every_state_transition_and_actor(
    state, transition, customer, teammate, outsider, agent, agent2, senior, senior2, manager, compliance, account
) -> None:
    people = {
        "customer": customer, "teammate": teammate, "outsider": outsider, "agent": agent, "agent2": agent2,
        "senior": senior, "senior2": senior2, "manager": manager, "compliance": compliance, "system": None,
    }
    req = build(state, people, account)
    allowed = ALLOWED.get((state, transition), set())
    at = timezone.now() + TIME_SHIFT.get(transition, timedelta(0))

    # Every refused actor first: each gets a clear error and nothing changes.
    for actor_name in [a for a in ACTORS if a not in allowed]:
        before = snapshot(req)
        with clock.frozen(at), pytest.raises(TransitionRefused) as refused:
            call(transition, req, people[actor_name])
        assert refused.value.message, "a refusal explains itself"
        assert snapshot(req) == before, f"{actor_name} changed the request while refused"
        assert isinstance(refused.value, (StateConflict, ActorNotAllowed, RequestNotFound))
        if actor_name == "outsider" and transition in CUSTOMER_TRANSITIONS:
            assert isinstance(refused.value, RequestNotFound), "outsiders never learn the request exists"
        if actor_name in CUSTOMERS and transition in CUSTOMER_TRANSITIONS:
            assert isinstance(refused.value, StateConflict), "the right person at the wrong time: 409"

    # Every allowed actor passes the permission check (used for buttons and links)...
    fresh = ReassessmentRequest.objects.get(pk=req.pk)
    with clock.frozen(at):  # timers are conditions of the transitions: ask at the same instant
        for actor_name in allowed:
            assert services.actor_may(fresh, transition, people[actor_name]), f"{actor_name} should be allowed"

    # ...and one of them takes it: the transition lands with its audit row.
    if allowed:
        actor_name = sorted(allowed)[0]
        with clock.frozen(at):
            result = call(transition, req, people[actor_name])
        result.refresh_from_db()
        expected = TARGET[transition]
        if transition == "reject" and ARGS["reject"]["reason_code"].startswith("zt_"):
            expected = State.REJECTED_FINAL
        assert result.state == expected
        row = RequestTransition.objects.filter(request=req).latest("pk")
        assert (row.transition, row.from_state, row.to_state) == (transition, state, expected)
        assert row.actor == people[actor_name]


def test_the_table_covers_every_transition_of_the_design() -> None:
    assert {name for (_, name) in ALLOWED} == set(TRANSITIONS)


def test_listing_what_a_customer_may_do_asks_the_membership_once(
    submitted_request, teammate, django_assert_num_queries
) -> None:
    req = ReassessmentRequest.objects.select_related("account").get(pk=submitted_request.pk)
    with django_assert_num_queries(1):
        assert services.available_transitions(req, teammate) == ["withdraw"]
