"""Every portal page renders for every demo customer, on the demo data in every state."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from tickets.demo import seed_demo
from tickets.models import ReassessmentRequest, State

pytestmark = pytest.mark.django_db


def test_every_demo_customer_can_open_every_page_of_their_requests(client, django_capture_on_commit_callbacks) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        seed_demo(write=lambda _line: None)
    users = get_user_model().objects.filter(is_staff=False, is_superuser=False)
    seen_states: set[str] = set()
    for user in users:
        client.force_login(user)
        assert client.get(reverse("portal:home")).status_code == 200
        for req in ReassessmentRequest.objects.for_customer(user):
            response = client.get(reverse("portal:request_detail", args=[req.reference]), follow=True)
            assert response.status_code == 200, req.reference
            page = response.content.decode()
            if req.reason_code:
                assert req.reason_code not in page
            seen_states.add(req.state)
        client.logout()
    assert {State.SUBMITTED, State.REJECTED} <= seen_states
