from __future__ import annotations

from tickets import services
from tickets.models import State


def test_a_complete_draft_can_be_submitted_and_claimed(request_in_review, agent) -> None:
    request_in_review.refresh_from_db()
    assert request_in_review.state == State.IN_REVIEW
    assert request_in_review.assignee == agent
    assert request_in_review.reference.startswith("RR-")


def test_the_whole_lifecycle_runs_through_services(
    awaiting_customer_request, customer, agent, senior, django_capture_on_commit_callbacks
) -> None:
    req = services.request_provide_info(request_id=awaiting_customer_request.pk, actor=customer, message="Here it is.")
    req = services.request_reject(request_id=req.pk, actor=agent, reason_code="other", note="internal")
    assert req.state == State.REJECTED
    req = services.request_request_reevaluation(request_id=req.pk, actor=customer, details="More")
    req = services.request_claim_reevaluation(request_id=req.pk, actor=senior)
    with django_capture_on_commit_callbacks(execute=True):
        req = services.request_reject_final(request_id=req.pk, actor=senior, reason_code="other")
    assert req.state == State.REJECTED_FINAL
    assert req.sla_cycle == 2
    from tickets.sweep import run_sweep
    run_sweep()
