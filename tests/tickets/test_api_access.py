"""Who may call what: outsiders see nothing, customers are not staff, staff roles are checked,
anonymous callers get a 401 with WWW-Authenticate."""

from __future__ import annotations

import pytest
from django.core.cache import cache

from tickets import evidence as evidence_service
from tickets import services
from tickets.models import ReassessmentRequest, State

from .api_helpers import png_upload, snapshot, token_client, url


@pytest.fixture(autouse=True)
def _fresh_throttles() -> None:
    cache.clear()


def _with_evidence(req: ReassessmentRequest, customer) -> int:
    upload = png_upload("card.png", color=(1, 2, req.pk % 250))
    item = evidence_service.evidence_add_file(request_id=req.pk, actor=customer, kind="business_card", upload=upload)
    return item.pk


def _customer_calls(reference: str, evidence_id: int) -> list[tuple[str, str, dict, str]]:
    """(method, path, body, format) for every customer endpoint on one request."""
    return [
        ("get", url(reference), {}, "json"),
        ("patch", url(reference), {"company_name": "Hijacked"}, "json"),
        ("post", url(reference, "evidence"), {"kind": "other", "url": "https://evil.example/x"}, "json"),
        ("post", url(reference, "evidence"), {"kind": "other", "file": png_upload("x.png", color=(9, 9, 9))},
         "multipart"),
        ("get", url(reference, f"evidence/{evidence_id}/download"), {}, "json"),
        ("post", url(reference, "messages"), {"body": "Let me in"}, "json"),
        ("post", url(reference, "submit"), {}, "json"),
        ("post", url(reference, "provide-info"), {"message": "x"}, "json"),
        ("post", url(reference, "request-reevaluation"), {"details": "x"}, "json"),
        ("post", url(reference, "withdraw"), {}, "json"),
    ]


@pytest.mark.parametrize("situation", ["draft", "submitted_request", "awaiting_customer_request", "rejected_request"])
def test_an_outsider_gets_404_on_every_customer_endpoint_and_nothing_changes(
    request, situation, customer, outsider
) -> None:
    req = request.getfixturevalue(situation)
    evidence_id = _with_evidence(req, customer)
    before = snapshot(req)
    client = token_client(outsider)
    missing = client.get(url("RR-2000-999999")).json()

    for method, path, body, fmt in _customer_calls(req.reference, evidence_id):
        response = getattr(client, method)(path, body, format=fmt)
        assert response.status_code == 404, (method, path, response.status_code, response.content)
        # Exactly what a request that does not exist answers: nothing tells it exists.
        if path.endswith("download/"):
            assert response.json() == {"detail": "No such request."}
        else:
            assert response.json() == missing, path

    assert snapshot(req) == before
    listing = client.get("/api/v1/requests/", {"account": req.account_id}).json()
    assert listing["count"] == 0
    assert req.reference.encode() not in client.get("/api/v1/requests/").content


def test_a_teammate_sees_and_acts_on_the_accounts_requests(awaiting_customer_request, teammate) -> None:
    client = token_client(teammate)
    assert client.get(url(awaiting_customer_request.reference)).status_code == 200
    ref = awaiting_customer_request.reference
    response = client.post(url(ref, "provide-info"), {"message": "Here."}, format="json")
    assert response.status_code == 200 and response.json()["state"] == "in_review"


def test_a_customer_gets_403_on_every_staff_endpoint(submitted_request, customer) -> None:
    client = token_client(customer)
    ref = submitted_request.reference
    assert client.get("/api/v1/staff/requests/").status_code == 403
    assert client.get(url(ref, staff=True)).status_code == 403
    for action in ["claim", "request-info", "approve", "reject", "claim-reevaluation", "reject-final", "messages"]:
        response = client.post(url(ref, action, staff=True), {}, format="json")
        assert response.status_code == 403, action
        assert response.json() == {"detail": "This part of the API is for the accounts team."}
    assert ReassessmentRequest.objects.get(pk=submitted_request.pk).state == State.SUBMITTED


ALL_PATHS = [
    ("get", "/api/v1/me/"),
    ("get", "/api/v1/tokens/"),
    ("post", "/api/v1/tokens/"),
    ("delete", "/api/v1/tokens/1/"),
    ("get", "/api/v1/requests/"),
    ("post", "/api/v1/requests/"),
    ("get", "/api/v1/requests/RR-2026-000001/"),
    ("patch", "/api/v1/requests/RR-2026-000001/"),
    ("post", "/api/v1/requests/RR-2026-000001/evidence/"),
    ("get", "/api/v1/requests/RR-2026-000001/evidence/1/download/"),
    ("post", "/api/v1/requests/RR-2026-000001/messages/"),
    ("post", "/api/v1/requests/RR-2026-000001/submit/"),
    ("post", "/api/v1/requests/RR-2026-000001/withdraw/"),
    ("get", "/api/v1/staff/requests/"),
    ("get", "/api/v1/staff/requests/RR-2026-000001/"),
    ("post", "/api/v1/staff/requests/RR-2026-000001/claim/"),
    ("post", "/api/v1/staff/requests/RR-2026-000001/reject-final/"),
]


@pytest.mark.parametrize(("method", "path"), ALL_PATHS)
def test_anonymous_callers_get_401_with_www_authenticate(client, db, method, path) -> None:
    response = getattr(client, method)(path, content_type="application/json")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Token realm="api"'
    assert response.json() == {"detail": "Authentication credentials were not provided."}


def test_a_bad_token_is_a_401_not_an_anonymous_read(db) -> None:
    from rest_framework.test import APIClient

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token cmk_not-a-real-key")
    response = client.get("/api/v1/me/")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Token realm="api"'
    assert response.json() == {"detail": "This API token is not valid."}


def test_an_agent_cannot_reject_final(request_in_reevaluation, agent) -> None:
    response = token_client(agent).post(
        url(request_in_reevaluation.reference, "reject-final", staff=True), {"reason_code": "other"}, format="json"
    )
    assert response.status_code == 403
    assert ReassessmentRequest.objects.get(pk=request_in_reevaluation.pk).state == State.IN_REEVALUATION


def test_a_senior_cannot_claim_the_reevaluation_of_their_own_decision(submitted_request, customer, senior, senior2):
    services.request_claim(request_id=submitted_request.pk, actor=senior)
    services.request_reject(request_id=submitted_request.pk, actor=senior, reason_code="other", note="n")
    services.request_request_reevaluation(request_id=submitted_request.pk, actor=customer, details="d")
    ref = submitted_request.reference

    mine = token_client(senior).post(url(ref, "claim-reevaluation", staff=True), {}, format="json")
    assert mine.status_code == 403
    assert "another senior reviewer" in mine.json()["detail"]
    listed = token_client(senior).get(url(ref, staff=True)).json()
    assert listed["available_actions"] == []

    theirs = token_client(senior2).post(url(ref, "claim-reevaluation", staff=True), {}, format="json")
    assert theirs.status_code == 200 and theirs.json()["state"] == "in_reevaluation"


def test_an_agent_who_is_not_senior_cannot_claim_a_reevaluation(reevaluation_requested_request, agent2) -> None:
    client = token_client(agent2)
    response = client.post(url(reevaluation_requested_request.reference, "claim-reevaluation", staff=True), {},
                           format="json")
    assert response.status_code == 403


def test_a_manager_reads_the_queue_but_cannot_decide(request_in_review, manager) -> None:
    client = token_client(manager)
    assert client.get("/api/v1/staff/requests/").status_code == 200
    detail = client.get(url(request_in_review.reference, staff=True))
    assert detail.status_code == 200 and detail.json()["available_actions"] == []
    response = client.post(url(request_in_review.reference, "reject", staff=True), {"reason_code": "other"},
                           format="json")
    assert response.status_code == 403
    assert ReassessmentRequest.objects.get(pk=request_in_review.pk).state == State.IN_REVIEW


def test_another_agent_is_not_the_assignee(request_in_review, agent2) -> None:
    response = token_client(agent2).post(
        url(request_in_review.reference, "request-info", staff=True), {"message": "?"}, format="json"
    )
    assert response.status_code == 403
    assert "Only the assignee" in response.json()["detail"]


def test_staff_get_404_for_a_reference_that_does_not_exist(agent, db) -> None:
    response = token_client(agent).post(url("RR-2000-000000", "claim", staff=True), {}, format="json")
    assert response.status_code == 404
