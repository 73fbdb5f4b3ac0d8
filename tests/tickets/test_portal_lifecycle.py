"""Walk whole lifecycles through the portal and the services, and read everything the customer
can see (every portal page, every email to them): no reason code, internal note, screening flag
or staff username ever appears."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from tests import factories
from tickets import notifications, services
from tickets.models import ReasonCode, ScreeningFlag, State
from tickets.screening import screen_request

from .portal_helpers import form_payload, png_upload

pytestmark = pytest.mark.django_db

NOTE_1 = "INTERNAL-NOTE-website-is-parked-7731"
NOTE_2 = "INTERNAL-NOTE-second-look-still-no-9924"
CHAT_NOTE = "INTERNAL-CHAT-check-with-risk-5510"


class CustomerView:
    """Collects the text of every page and email the customer sees."""

    def __init__(self, client, mailoutbox, customer_emails: set[str]) -> None:
        self.client = client
        self.mailoutbox = mailoutbox
        self.customer_emails = customer_emails
        self.seen: list[tuple[str, str]] = []

    def pages(self, reference: str | None) -> None:
        urls = [reverse("portal:home"), reverse("portal:request_new")]
        if reference:
            urls += [
                reverse("portal:request_detail", args=[reference]) + "?view=1",
                reverse("portal:request_withdraw", args=[reference]),
            ]
        for url in urls:
            response = self.client.get(url, follow=True)
            assert response.status_code == 200, url
            self.seen.append((url, response.content.decode()))

    def emails(self) -> None:
        notifications.deliver_pending()
        for message in self.mailoutbox:
            if set(message.to) & self.customer_emails:
                html = message.alternatives[0][0] if message.alternatives else ""
                self.seen.append((f"email {message.subject}", f"{message.subject}\n{message.body}\n{html}"))

    def assert_never_shows(self, *secrets: str) -> None:
        assert self.seen
        for where, text in self.seen:
            for secret in secrets:
                # Whole words: the username "sam" must not match "sample message" or "Samoa".
                pattern = r"(?<![A-Za-z0-9_])" + re.escape(secret) + r"(?![A-Za-z0-9_])"
                assert not re.search(pattern, text, re.IGNORECASE), f"{secret!r} leaked in {where}"


def internal_words() -> list[str]:
    codes = [code for code in ReasonCode.values if code != "other"]
    labels = [label for value, label in ReasonCode.choices if value != "other"]
    return [*codes, *labels, "reason_code", "zero tolerance", "screening", NOTE_1, NOTE_2, CHAT_NOTE, "alice", "sam"]


def test_reject_then_final_rejection_leaks_nothing(
    client, customer, account, restriction, agent, senior, mailoutbox, django_capture_on_commit_callbacks
) -> None:
    view = CustomerView(client, mailoutbox, {"carla@acme.example"})
    client.force_login(customer)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            reverse("portal:request_new"),
            form_payload(sample_message="Get a fast payday loan now at bit.ly/cash", action="review"),
        )
    from tickets.models import ReassessmentRequest

    req = ReassessmentRequest.objects.get()
    client.post(
        reverse("portal:evidence_add", args=[req.reference]), {"kind": "business_card", "files": [png_upload()]}
    )
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("portal:request_review", args=[req.reference]))
    screen_request(request_id=req.pk)
    flags = list(ScreeningFlag.objects.filter(request=req))
    assert flags, "the sample message should raise a content flag for this test to mean something"
    view.pages(req.reference)

    with django_capture_on_commit_callbacks(execute=True):
        services.request_claim(request_id=req.pk, actor=agent)
        services.message_post(request_id=req.pk, actor=agent, body=CHAT_NOTE, internal=True)
        services.request_request_info(request_id=req.pk, actor=agent, message="Please send your EIN.")
    view.pages(req.reference)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("portal:request_reply", args=[req.reference]), {"message": "EIN is 12-3456789."})
    with django_capture_on_commit_callbacks(execute=True):
        services.request_reject(request_id=req.pk, actor=agent, reason_code="prohibited_content", note=NOTE_1)
    view.pages(req.reference)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("portal:request_reevaluate", args=[req.reference]), {"details": "We removed the link."})
        services.request_claim_reevaluation(request_id=req.pk, actor=senior)
    view.pages(req.reference)
    with django_capture_on_commit_callbacks(execute=True):
        services.request_reject_final(request_id=req.pk, actor=senior, reason_code="high_risk_use_case", note=NOTE_2)
    req.refresh_from_db()
    assert req.state == State.REJECTED_FINAL
    view.pages(req.reference)
    view.emails()

    # The matched text is the customer's own words (they see their sample message); the flag as
    # reviewers see it ("Financial: payday loan") must not appear.
    flag_texts = [str(flag) for flag in flags]
    view.assert_never_shows(*internal_words(), *flag_texts)
    final_page = [text for where, text in view.seen if where.endswith("?view=1")][-1]
    assert "This decision is final" in final_page
    assert "Please send your EIN." in final_page
    assert len([1 for where, _ in view.seen if where.startswith("email")]) >= 5


def test_auto_rejection_and_expired_info_request_leak_nothing(
    client, customer, account, agent, mailoutbox, django_capture_on_commit_callbacks, settings
) -> None:
    from datetime import timedelta

    from tickets.sweep import run_sweep

    view = CustomerView(client, mailoutbox, {"carla@acme.example"})
    client.force_login(customer)
    # An information request that expires: rejected for insufficient details, shown without a reason.
    first = factories.draft_for(account, customer)
    with django_capture_on_commit_callbacks(execute=True):
        services.request_submit(request_id=first.pk, actor=customer)
        services.request_claim(request_id=first.pk, actor=agent)
        first = services.request_request_info(request_id=first.pk, actor=agent, message="Send proof.")
    from tickets import clock

    later = first.info_due_at + timedelta(minutes=1)
    with django_capture_on_commit_callbacks(execute=True), clock.frozen(later):
        run_sweep(now=later)
    first.refresh_from_db()
    assert first.state == State.REJECTED
    view.pages(first.reference)

    # A zero-tolerance risk signal: rejected at once, reading like any final rejection.
    factories.RiskSignalFactory(account=account, kind="number_hoarding", note="RISK-NOTE-4411")
    second = factories.draft_for(account, customer)
    with django_capture_on_commit_callbacks(execute=True):
        services.request_submit(request_id=second.pk, actor=customer)
    screen_request(request_id=second.pk)
    second.refresh_from_db()
    assert second.state == State.REJECTED_FINAL
    view.pages(second.reference)
    view.emails()
    view.assert_never_shows(*internal_words(), "RISK-NOTE-4411", "hoarding", "automatic")
