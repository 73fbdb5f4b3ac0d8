"""Build a request in any state through the services, as the real actors would."""

from __future__ import annotations

from typing import Any

from tests import factories
from tickets import services
from tickets.models import ReassessmentRequest, State

# The path of service calls that leads to each state (actor names refer to the personas).
PATHS: dict[str, list[tuple[str, str, dict[str, Any]]]] = {
    State.DRAFT: [],
    State.SUBMITTED: [("request_submit", "customer", {})],
    State.IN_REVIEW: [("request_submit", "customer", {}), ("request_claim", "agent", {})],
    State.AWAITING_CUSTOMER: [
        ("request_submit", "customer", {}),
        ("request_claim", "agent", {}),
        ("request_request_info", "agent", {"message": "Please send your EIN."}),
    ],
    State.APPROVED: [
        ("request_submit", "customer", {}),
        ("request_claim", "agent", {}),
        ("request_approve", "agent", {"lift": []}),
    ],
    State.REJECTED: [
        ("request_submit", "customer", {}),
        ("request_claim", "agent", {}),
        ("request_reject", "agent", {"reason_code": "insufficient_details", "note": "thin"}),
    ],
    State.REEVALUATION_REQUESTED: [
        ("request_submit", "customer", {}),
        ("request_claim", "agent", {}),
        ("request_reject", "agent", {"reason_code": "insufficient_details", "note": "thin"}),
        ("request_request_reevaluation", "customer", {"details": "Here is more."}),
    ],
    State.IN_REEVALUATION: [
        ("request_submit", "customer", {}),
        ("request_claim", "agent", {}),
        ("request_reject", "agent", {"reason_code": "insufficient_details", "note": "thin"}),
        ("request_request_reevaluation", "customer", {"details": "Here is more."}),
        ("request_claim_reevaluation", "senior", {}),
    ],
    State.REJECTED_FINAL: [
        ("request_submit", "customer", {}),
        ("request_claim", "agent", {}),
        ("request_reject", "agent", {"reason_code": "zt_phishing_or_spam", "note": "phishing"}),
    ],
    State.WITHDRAWN: [("request_submit", "customer", {}), ("request_withdraw", "customer", {})],
}


def build(state: str, people: dict[str, Any], account: Any) -> ReassessmentRequest:
    req = factories.draft_for(account, people["customer"])
    for service_name, actor_name, kwargs in PATHS[state]:
        req = getattr(services, service_name)(request_id=req.pk, actor=people[actor_name], **kwargs)
    req.refresh_from_db()
    assert req.state == state, (req.state, state)
    return req
