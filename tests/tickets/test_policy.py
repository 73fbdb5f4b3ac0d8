"""The decision policy of DESIGN §6: zero tolerance, one re-evaluation within the window, a
different senior for the re-evaluation, restrictions lifted with the decision."""

from __future__ import annotations

from datetime import timedelta

import pytest

from accounts.models import Restriction
from tests import factories
from tickets import clock, services
from tickets.errors import ActorNotAllowed, InvalidInput, StateConflict
from tickets.models import Message, ReassessmentRequest, RequestTransition, State
from tickets.screening import screen_request


def test_submit_with_a_zero_tolerance_signal_is_rejected_finally(
    account, customer, django_capture_on_commit_callbacks, mailoutbox
) -> None:
    factories.RiskSignalFactory(account=account, kind="number_hoarding")
    draft = factories.draft_for(account, customer)
    with django_capture_on_commit_callbacks(execute=True):
        services.request_submit(request_id=draft.pk, actor=customer)
    req = ReassessmentRequest.objects.get(pk=draft.pk)
    assert req.state == State.REJECTED_FINAL
    assert req.reason_code == "zt_number_hoarding"
    assert req.auto_rejected is True
    assert req.reevaluation_due_at is None
    audit = list(req.transitions.values_list("transition", "actor"))
    assert audit[-2:] == [("submit", customer.pk), ("auto_reject", None)]
    # The customer hears of a final decision, with no reason and nothing saying it was automatic.
    final = [m for m in mailoutbox if "Final decision" in m.subject]
    assert len(final) == 1
    body = final[0].body.lower()
    assert "final" in body and "number" not in body and "automatic" not in body and "zt_" not in body


def test_screening_twice_does_nothing_the_second_time(account, customer) -> None:
    factories.RiskSignalFactory(account=account, kind="payment_flagged")
    draft = factories.draft_for(account, customer)
    services.request_submit(request_id=draft.pk, actor=customer)
    screen_request(request_id=draft.pk)
    screen_request(request_id=draft.pk)
    assert RequestTransition.objects.filter(request=draft, transition="auto_reject").count() == 1


def test_submit_without_signals_stays_submitted(draft, customer, django_capture_on_commit_callbacks) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        services.request_submit(request_id=draft.pk, actor=customer)
    draft.refresh_from_db()
    assert draft.state == State.SUBMITTED
    assert draft.screened_at is not None


def test_reject_with_zero_tolerance_reason_is_final(request_in_review, agent, customer) -> None:
    req = services.request_reject(request_id=request_in_review.pk, actor=agent, reason_code="zt_carrier_complaint")
    assert req.state == State.REJECTED_FINAL
    with pytest.raises(StateConflict):
        services.request_request_reevaluation(request_id=req.pk, actor=customer, details="please")


def test_reject_needs_a_known_reason_code(request_in_review, agent) -> None:
    for bad in ("", None, "because"):
        with pytest.raises(InvalidInput) as refused:
            services.request_reject(request_id=request_in_review.pk, actor=agent, reason_code=bad)
        assert "reason_code" in refused.value.errors
    request_in_review.refresh_from_db()
    assert request_in_review.state == State.IN_REVIEW


def test_the_internal_note_of_a_rejection_is_internal(rejected_request) -> None:
    note = Message.objects.get(request=rejected_request)
    assert note.internal is True and note.body == "Website is parked."


def test_reevaluation_can_be_requested_only_once(request_in_reevaluation, senior, customer) -> None:
    req = services.request_approve(request_id=request_in_reevaluation.pk, actor=senior, lift=[])
    assert req.state == State.APPROVED
    # A second re-evaluation has no state to start from: the first one ended in a final state.
    with pytest.raises(StateConflict):
        services.request_request_reevaluation(request_id=req.pk, actor=customer, details="again")


def test_reevaluation_details_are_required(rejected_request, customer) -> None:
    with pytest.raises(InvalidInput) as refused:
        services.request_request_reevaluation(request_id=rejected_request.pk, actor=customer, details="   ")
    assert "details" in refused.value.errors


def test_reevaluation_within_the_30_day_window(rejected_request, customer) -> None:
    rejected_at = rejected_request.rejected_at
    with clock.frozen(rejected_at + timedelta(days=30) - timedelta(seconds=1)):
        req = services.request_request_reevaluation(request_id=rejected_request.pk, actor=customer, details="More.")
    assert req.state == State.REEVALUATION_REQUESTED
    assert req.sla_cycle == 2


def test_reevaluation_after_the_window_is_refused(rejected_request, customer) -> None:
    with clock.frozen(rejected_request.rejected_at + timedelta(days=30, seconds=1)):
        with pytest.raises(StateConflict) as refused:
            services.request_request_reevaluation(request_id=rejected_request.pk, actor=customer, details="More.")
    assert "window" in refused.value.message
    rejected_request.refresh_from_db()
    assert rejected_request.state == State.REJECTED


def test_the_window_closes_by_itself(rejected_request) -> None:
    from tickets.sweep import run_sweep

    with clock.frozen(rejected_request.rejected_at + timedelta(days=29)):
        run_sweep()
    rejected_request.refresh_from_db()
    assert rejected_request.state == State.REJECTED
    with clock.frozen(rejected_request.rejected_at + timedelta(days=30, minutes=1)):
        run_sweep()
    rejected_request.refresh_from_db()
    assert rejected_request.state == State.REJECTED_FINAL
    assert rejected_request.transitions.latest("pk").transition == "close_reevaluation_window"


def test_the_senior_who_decided_cycle_one_cannot_take_the_reevaluation(
    request_in_review, senior, senior2, customer, agent
) -> None:
    # The senior claims it in cycle 1 (seniors are agents too) and rejects it.
    draft = factories.draft_for(request_in_review.account, customer)
    services.request_submit(request_id=draft.pk, actor=customer)
    services.request_claim(request_id=draft.pk, actor=senior)
    services.request_reject(request_id=draft.pk, actor=senior, reason_code="other")
    services.request_request_reevaluation(request_id=draft.pk, actor=customer, details="More.")
    with pytest.raises(ActorNotAllowed) as refused:
        services.request_claim_reevaluation(request_id=draft.pk, actor=senior)
    assert "another senior reviewer" in refused.value.message
    req = services.request_claim_reevaluation(request_id=draft.pk, actor=senior2)
    assert req.assignee == senior2 and req.state == State.IN_REEVALUATION


def test_an_agent_cannot_take_a_reevaluation(reevaluation_requested_request, agent2) -> None:
    with pytest.raises(ActorNotAllowed):
        services.request_claim_reevaluation(request_id=reevaluation_requested_request.pk, actor=agent2)


def test_only_the_assigned_senior_decides_cycle_two(request_in_reevaluation, senior2, agent) -> None:
    for other in (senior2, agent):
        with pytest.raises(ActorNotAllowed):
            services.request_reject_final(request_id=request_in_reevaluation.pk, actor=other, reason_code="other")
        with pytest.raises(ActorNotAllowed):
            services.request_approve(request_id=request_in_reevaluation.pk, actor=other, lift=[])


def test_approval_lifting_every_active_restriction_is_lifted(request_in_review, agent, account) -> None:
    sms = factories.RestrictionFactory(account=account, kind="sms_blocked")
    geo = factories.RestrictionFactory(account=account, kind="geo_blocked", detail="CA")
    req = services.request_approve(request_id=request_in_review.pk, actor=agent, lift=[sms.pk, geo.pk])
    assert req.decision_outcome == "lifted"
    assert set(Restriction.objects.values_list("status", flat=True)) == {"lifted"}
    sms.refresh_from_db()
    assert sms.lifted_at == req.decided_at and sms.lifted_by == agent
    assert set(req.lifted_restrictions.all()) == {sms, geo}


def test_approval_leaving_a_restriction_active_is_limited(request_in_review, agent, account) -> None:
    sms = factories.RestrictionFactory(account=account, kind="sms_blocked")
    geo = factories.RestrictionFactory(account=account, kind="geo_blocked", detail="CA")
    req = services.request_approve(request_id=request_in_review.pk, actor=agent, lift=[sms.pk])
    assert req.decision_outcome == "limited"
    geo.refresh_from_db()
    assert geo.status == "active"


def test_approval_refuses_a_restriction_of_another_account(request_in_review, agent, outsider) -> None:
    foreign = factories.RestrictionFactory(account=outsider.owned_accounts.get())
    with pytest.raises(InvalidInput) as refused:
        services.request_approve(request_id=request_in_review.pk, actor=agent, lift=[foreign.pk])
    assert "not an active restriction of this account" in refused.value.errors["lift"][0]
    foreign.refresh_from_db()
    request_in_review.refresh_from_db()
    assert foreign.status == "active" and request_in_review.state == State.IN_REVIEW


def test_a_failed_approval_lifts_nothing(request_in_review, agent, account, monkeypatch) -> None:
    """Lifting and the state change are one transaction: an error after the lift undoes it."""
    sms = factories.RestrictionFactory(account=account, kind="sms_blocked")

    def boom(*args, **kwargs):
        raise RuntimeError("audit store down")

    monkeypatch.setattr(services, "_audit", boom)
    with pytest.raises(RuntimeError):
        services.request_approve(request_id=request_in_review.pk, actor=agent, lift=[sms.pk])
    sms.refresh_from_db()
    request_in_review.refresh_from_db()
    assert sms.status == "active" and request_in_review.state == State.IN_REVIEW


def test_approval_refuses_malformed_lift_lists(request_in_review, agent) -> None:
    for bad in ("1,2", [True], [{"id": 1}], ["x"]):
        with pytest.raises(InvalidInput):
            services.request_approve(request_id=request_in_review.pk, actor=agent, lift=bad)


def test_information_requests_expire_after_14_days(awaiting_customer_request) -> None:
    from tickets.sweep import run_sweep

    requested_at = awaiting_customer_request.info_requested_at
    with clock.frozen(requested_at + timedelta(days=14) - timedelta(minutes=1)):
        run_sweep()
    awaiting_customer_request.refresh_from_db()
    assert awaiting_customer_request.state == State.AWAITING_CUSTOMER
    with clock.frozen(requested_at + timedelta(days=14, minutes=1)):
        run_sweep()
    awaiting_customer_request.refresh_from_db()
    assert awaiting_customer_request.state == State.REJECTED
    assert awaiting_customer_request.reason_code == "insufficient_details"


def test_the_system_cannot_expire_an_information_request_early(awaiting_customer_request) -> None:
    with pytest.raises(StateConflict):
        services.request_expire_info_request(request_id=awaiting_customer_request.pk)


def test_references_are_unique_readable_and_yearly(account, customer) -> None:
    from datetime import UTC, datetime

    # 03:00 UTC on 1 January 2027 is still 31 December 2026 in America/Chicago.
    with clock.frozen(datetime(2027, 1, 1, 3, 0, tzinfo=UTC)):
        last = services.request_create_draft(actor=customer, account=account, details={})
    with clock.frozen(datetime(2027, 1, 1, 6, 30, tzinfo=UTC)):
        first = services.request_create_draft(actor=customer, account=account, details={})
        second = services.request_create_draft(actor=customer, account=account, details={})
    assert last.reference.startswith("RR-2026-")
    assert (first.reference, second.reference) == ("RR-2027-000001", "RR-2027-000002")


def test_approval_refuses_ids_no_restriction_can_have(request_in_review, agent) -> None:
    for bad in ([0], [-3], [2**70]):
        with pytest.raises(InvalidInput) as refused:
            services.request_approve(request_id=request_in_review.pk, actor=agent, lift=bad)
        assert "does not exist" in refused.value.errors["lift"][0]
    request_in_review.refresh_from_db()
    assert request_in_review.state == State.IN_REVIEW
