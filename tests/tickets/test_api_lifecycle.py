"""The whole workflow through the API only, and what the customer sees of it."""

from __future__ import annotations

import pytest
from django.core.cache import cache

from tickets.models import ReassessmentRequest, RequestTransition, State

from .api_helpers import COMPLETE_BODY, png_upload, session_client, token_client, url

REASON = "unverifiable_business"
NOTE_1 = "Website parked at a domain registrar; internal note 7f3a."
NOTE_2 = "Still cannot verify the incorporation; internal note 9c1e."
FINAL_REASON = "high_risk_use_case"

CUSTOMER_TRANSITIONS = ["submit", "provide-info", "request-reevaluation", "withdraw"]
STAFF_TRANSITIONS = ["claim", "request-info", "approve", "reject", "claim-reevaluation", "reject-final"]
BODIES = {
    "provide-info": {"message": "More"},
    "request-reevaluation": {"details": "More"},
    "request-info": {"message": "More?"},
    "approve": {"lift": [], "message": "ok"},
    "reject": {"reason_code": "other", "note": "x"},
    "reject-final": {"reason_code": "other", "note": "x"},
}


@pytest.fixture(autouse=True)
def _fresh_throttles() -> None:
    cache.clear()


def walk_lifecycle(customer, agent, senior) -> tuple[str, list[bytes]]:
    """Runs the lifecycle; returns the reference and every response body the customer received."""
    me, alice, sam = token_client(customer), token_client(agent, keyword="Bearer"), session_client(senior)
    seen: list[bytes] = []

    def as_customer(response):
        seen.append(response.content)
        return response

    created = as_customer(me.post("/api/v1/requests/", COMPLETE_BODY, format="json"))
    assert created.status_code == 201, created.content
    reference = created.json()["reference"]
    assert created["Location"] == url(reference)
    assert created.json()["state"] == "draft"
    assert [a["transition"] for a in created.json()["available_actions"]] == ["submit", "withdraw"]

    evidence = as_customer(
        me.post(url(reference, "evidence"), {"kind": "certificate_of_incorporation", "file": png_upload()},
                format="multipart")
    )
    assert evidence.status_code == 201, evidence.content
    assert evidence.json()["content_type"] == "image/png"
    assert evidence.json()["original_name"] == "certificate.png"

    submitted = as_customer(me.post(url(reference, "submit"), {}, format="json"))
    assert submitted.status_code == 200, submitted.content
    assert submitted.json()["state"] == "submitted"
    assert submitted.json()["sla_status"] == "running"
    assert submitted.json()["sla_target_at"] and submitted.json()["sla_breach_at"]

    claimed = alice.post(url(reference, "claim", staff=True), {}, format="json")
    assert claimed.status_code == 200, claimed.content
    assert claimed.json()["assignee"]["username"] == agent.username

    asked = alice.post(url(reference, "request-info", staff=True),
                       {"message": "Please send your certificate of incorporation."}, format="json")
    assert asked.status_code == 200 and asked.json()["state"] == "awaiting_customer"
    waiting = as_customer(me.get(url(reference)))
    assert waiting.json()["sla_status"] == "paused"
    assert waiting.json()["info_due_at"]
    assert waiting.json()["messages"][-1]["author_name"] == "Accounts team"

    answered = as_customer(me.post(url(reference, "provide-info"), {"message": "Attached it above."}, format="json"))
    assert answered.status_code == 200 and answered.json()["state"] == "in_review"

    rejected = alice.post(url(reference, "reject", staff=True), {"reason_code": REASON, "note": NOTE_1}, format="json")
    assert rejected.status_code == 200 and rejected.json()["state"] == "rejected"
    assert rejected.json()["reason_code"] == REASON

    after_reject = as_customer(me.get(url(reference)))
    assert after_reject.json()["state"] == "rejected"
    assert [a["transition"] for a in after_reject.json()["available_actions"]] == ["request_reevaluation"]

    again = as_customer(me.post(url(reference, "request-reevaluation"),
                                {"details": "Our website is live now; see the filing."}, format="json"))
    assert again.status_code == 200 and again.json()["state"] == "reevaluation_requested"

    reclaimed = sam.post(url(reference, "claim-reevaluation", staff=True), {}, format="json")
    assert reclaimed.status_code == 200 and reclaimed.json()["state"] == "in_reevaluation"

    final = sam.post(url(reference, "reject-final", staff=True),
                     {"reason_code": FINAL_REASON, "note": NOTE_2}, format="json")
    assert final.status_code == 200, final.content
    assert final.json()["state"] == "rejected_final"

    closed = as_customer(me.get(url(reference)))
    assert closed.json()["available_actions"] == []
    as_customer(me.get("/api/v1/requests/"))
    as_customer(me.get("/api/v1/me/"))
    return reference, seen


def test_the_whole_lifecycle_runs_through_the_api_and_a_final_request_refuses_everything(
    customer, account, agent, senior
) -> None:
    reference, _ = walk_lifecycle(customer, agent, senior)
    req = ReassessmentRequest.objects.get(reference=reference)
    assert req.state == State.REJECTED_FINAL
    assert list(req.transitions.exclude(transition="add_evidence").values_list("transition", flat=True)) == [
        "create", "submit", "claim", "request_info", "provide_info", "reject",
        "request_reevaluation", "claim_reevaluation", "reject_final",
    ]
    audit_rows = RequestTransition.objects.filter(request=req).count()

    me, sam = token_client(customer), token_client(senior)
    for action in CUSTOMER_TRANSITIONS:
        response = me.post(url(reference, action), BODIES.get(action, {}), format="json")
        assert response.status_code == 409, (action, response.content)
        assert response.json()["detail"]
    # The senior is on the accounts team and the assignee: only the state can refuse them.
    for action in STAFF_TRANSITIONS:
        response = sam.post(url(reference, action, staff=True), BODIES.get(action, {}), format="json")
        assert response.status_code == 409, (action, response.content)
    assert me.post(url(reference, "messages"), {"body": "Hello?"}, format="json").status_code == 409
    assert me.post(url(reference, "evidence"), {"kind": "other", "url": "https://example.com/x"},
                   format="json").status_code == 409
    assert me.patch(url(reference), {"company_name": "New"}, format="json").status_code == 409

    req.refresh_from_db()
    assert req.state == State.REJECTED_FINAL
    assert RequestTransition.objects.filter(request=req).count() == audit_rows


def test_no_customer_response_in_the_lifecycle_reveals_reasons_notes_or_staff(customer, account, agent, senior) -> None:
    _, seen = walk_lifecycle(customer, agent, senior)
    raw = b"\n".join(seen)
    for secret in (REASON, FINAL_REASON, NOTE_1, NOTE_2, "reason_code", "unverifiable", "internal",
                   agent.email, senior.email, agent.get_full_name(), senior.get_full_name(),
                   f'"{agent.username}"', f'"{senior.username}"', "screening", "assignee"):
        assert secret.encode() not in raw, secret


def test_staff_see_the_reason_the_notes_and_the_actors(customer, account, agent, senior) -> None:
    reference, _ = walk_lifecycle(customer, agent, senior)
    body = token_client(agent).get(url(reference, staff=True)).json()
    assert body["reason_code"] == FINAL_REASON
    assert {m["body"] for m in body["messages"] if m["internal"]} == {NOTE_1, NOTE_2}
    reject = next(row for row in body["timeline"] if row["transition"] == "reject")
    assert reject["note"] == NOTE_1 and reject["reason_code"] == REASON
    assert reject["actor"]["username"] == agent.username
    assert body["cycle1_decided_by"]["username"] == agent.username
    assert body["account"]["owner"]["username"] == customer.username
