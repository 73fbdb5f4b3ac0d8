from __future__ import annotations

from tickets.models import State


def test_a_complete_draft_can_be_submitted_and_claimed(request_in_review, agent) -> None:
    request_in_review.refresh_from_db()
    assert request_in_review.state == State.IN_REVIEW
    assert request_in_review.assignee == agent
    assert request_in_review.reference.startswith("RR-")
