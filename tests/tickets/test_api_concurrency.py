"""Two people acting on one request at the same moment: one wins, the other gets a 409."""

from __future__ import annotations

import threading

import pytest
from django.core.cache import cache
from django.db import connection

from tests import factories
from tickets import services
from tickets.models import RequestTransition, State

from .api_helpers import token_client, url


@pytest.mark.postgres
def test_two_agents_claiming_at_once_get_one_200_and_one_409(transactional_db, account, customer, agent, agent2):
    cache.clear()
    req = services.request_submit(request_id=factories.draft_for(account, customer).pk, actor=customer)
    clients = [token_client(agent), token_client(agent2)]
    barrier = threading.Barrier(len(clients))
    statuses: list[int] = []

    def claim(client) -> None:
        try:
            barrier.wait(timeout=10)
            statuses.append(client.post(url(req.reference, "claim", staff=True), {}, format="json").status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=claim, args=(client,)) for client in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert sorted(statuses) == [200, 409]
    req.refresh_from_db()
    assert req.state == State.IN_REVIEW
    assert RequestTransition.objects.filter(request=req, transition="claim").count() == 1


def test_the_finality_trigger_refusal_reaches_the_client_as_409(db, rejected_request, customer, monkeypatch):
    """Even if a service let a write through on a final request, the database refuses it and the
    client sees a 409, not a 500."""
    services.request_request_reevaluation(request_id=rejected_request.pk, actor=customer, details="d")
    withdrawn = services.request_withdraw(request_id=rejected_request.pk, actor=customer)
    assert withdrawn.state == State.WITHDRAWN

    def sloppy_update(*, request_id, actor, details):
        from tickets.models import ReassessmentRequest

        ReassessmentRequest.objects.filter(pk=request_id).update(company_name="changed")

    monkeypatch.setattr(services, "request_update_draft", sloppy_update)
    response = token_client(customer).patch(url(rejected_request.reference), {"company_name": "x"}, format="json")
    assert response.status_code == 409
