"""Every email the desk sends: subject, recipients, key content, HTML and text parts, sent once.

Emails go through the outbox: the service writes a row, delivery runs after commit. Each test runs
the service inside `django_capture_on_commit_callbacks(execute=True)` and then runs the delivery
sweep again, to show a second pass never sends the same email twice.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from accounts.roles import MANAGERS
from accounts.services import restriction_apply
from tests import factories
from tickets import clock, notifications, services
from tickets.models import Notification
from tickets.sweep import run_sweep
from tickets.templatetags.customer_dates import customer_date

pytestmark = pytest.mark.django_db

CUSTOMER = ["carla@acme.example"]


def only(mailoutbox, kind_subject_start: str):
    """The one email whose subject starts with this text, after a second delivery pass."""
    notifications.deliver_pending()
    found = [m for m in mailoutbox if m.subject.startswith(kind_subject_start)]
    assert len(found) == 1, [m.subject for m in mailoutbox]
    return found[0]


def html_of(message) -> str:
    (html, mimetype), *_ = message.alternatives
    assert mimetype == "text/html"
    return html


def assert_no_internal_data(message, *secrets: str) -> None:
    for part in (message.subject, message.body, html_of(message)):
        for secret in secrets:
            assert secret not in part


def test_restriction_applied_tells_the_owner_what_and_how_to_ask(
    account, mailoutbox, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        restriction_apply(account=account, kind="geo_blocked", source="anomaly_review", detail="NG, GH")
    email = only(mailoutbox, "Restrictions were applied")
    assert email.subject == "Restrictions were applied to your account Acme Logistics"
    assert email.to == CUSTOMER
    assert "Destinations blocked (NG, GH)" in email.body
    assert f"/requests/new/?account={account.pk}" in email.body
    assert "certificate of incorporation" in email.body
    assert "Destinations blocked (NG, GH)" in html_of(email)


def test_request_received_gives_the_reference_and_expected_date(
    draft, customer, mailoutbox, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        req = services.request_submit(request_id=draft.pk, actor=customer)
    email = only(mailoutbox, "We received your reassessment request")
    assert email.subject == f"We received your reassessment request {req.reference}"
    assert email.to == CUSTOMER
    assert customer_date(req.sla_target_at) in email.body
    assert f"http://testserver/requests/{req.reference}/" in email.body
    assert f"http://testserver/requests/{req.reference}/" in html_of(email)


def test_request_received_reaches_the_teammate_who_filed_it_and_the_owner(
    account, teammate, mailoutbox, django_capture_on_commit_callbacks
) -> None:
    req = factories.draft_for(account, teammate)
    with django_capture_on_commit_callbacks(execute=True):
        services.request_submit(request_id=req.pk, actor=teammate)
    email = only(mailoutbox, "We received")
    assert email.to == ["tom@acme.example", "carla@acme.example"]


def test_info_requested_quotes_the_question_and_the_deadline(
    request_in_review, agent, mailoutbox, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        req = services.request_request_info(
            request_id=request_in_review.pk, actor=agent, message="Please send your EIN & a business card."
        )
    email = only(mailoutbox, "We need more information")
    assert email.to == CUSTOMER
    assert "Please send your EIN & a business card." in email.body  # plain text is not HTML-escaped
    assert "Please send your EIN &amp; a business card." in html_of(email)
    assert customer_date(req.info_due_at) in email.body
    assert "alice" not in email.body


def test_info_reminder_is_sent_once_before_the_request_expires(
    awaiting_customer_request, mailoutbox, django_capture_on_commit_callbacks, settings
) -> None:
    due = awaiting_customer_request.info_due_at
    at = due - timedelta(days=settings.INFO_REQUEST_REMINDER_DAYS - 1)
    with django_capture_on_commit_callbacks(execute=True):
        run_sweep(now=at)
        run_sweep(now=at + timedelta(hours=1))
    Notification.objects.update(created_at=at - timedelta(minutes=5))
    email = only(mailoutbox, "Reminder: we are waiting for your answer")
    assert email.to == CUSTOMER
    assert customer_date(due) in email.body
    assert awaiting_customer_request.reference in html_of(email)


def test_staff_message_reaches_the_customer_without_the_staff_name(
    request_in_review, agent, mailoutbox, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        services.message_post(request_id=request_in_review.pk, actor=agent, body="We are looking at it now.")
        services.message_post(request_id=request_in_review.pk, actor=agent, body="secret note", internal=True)
    email = only(mailoutbox, "New message on your request")
    assert email.to == CUSTOMER
    assert "We are looking at it now." in email.body
    assert_no_internal_data(email, "alice", "secret note")
    assert len(mailoutbox) == 1


def test_customer_reply_notifies_the_assignee(
    awaiting_customer_request, customer, mailoutbox, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        services.request_provide_info(request_id=awaiting_customer_request.pk, actor=customer, message="Here it is.")
    email = only(mailoutbox, f"[{awaiting_customer_request.reference}] The customer replied")
    assert email.to == ["alice@desk.example"]
    assert "Here it is." in email.body
    assert "/admin/tickets/reassessmentrequest/" in email.body


def test_approval_lists_the_lifted_restrictions(
    request_in_review, agent, restriction, mailoutbox, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        services.request_approve(
            request_id=request_in_review.pk, actor=agent, lift=[restriction.pk], message="Welcome."
        )
    email = only(mailoutbox, "Your reassessment request")
    assert email.subject == f"Your reassessment request {request_in_review.reference} was approved"
    assert email.to == CUSTOMER
    assert "- SMS blocked" in email.body
    assert "<li>SMS blocked</li>" in html_of(email)
    assert "Some restrictions remain" not in email.body


def test_limited_approval_says_some_restrictions_remain(
    request_in_review, agent, restriction, account, mailoutbox, django_capture_on_commit_callbacks
) -> None:
    factories.RestrictionFactory(account=account, kind="voice_blocked")
    with django_capture_on_commit_callbacks(execute=True):
        services.request_approve(request_id=request_in_review.pk, actor=agent, lift=[restriction.pk])
    email = only(mailoutbox, "Your reassessment request")
    assert "Some restrictions remain" in email.body


def test_rejection_gives_no_reason_and_offers_one_reevaluation(
    request_in_review, agent, mailoutbox, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        req = services.request_reject(
            request_id=request_in_review.pk, actor=agent, reason_code="high_risk_use_case", note="Smells like lead gen"
        )
    email = only(mailoutbox, "Decision on your reassessment request")
    assert email.to == CUSTOMER
    assert "unable to change the restrictions" in email.body
    assert "once for a re-evaluation" in email.body
    assert customer_date(req.reevaluation_due_at) in email.body
    assert_no_internal_data(email, "high_risk_use_case", "High-risk", "Smells like lead gen", "alice")


@pytest.mark.parametrize("how", ["reject_final", "auto_reject", "zero_tolerance_reject"])
def test_final_rejection_says_final_the_same_way_however_it_happened(
    how, account, customer, agent, senior, mailoutbox, django_capture_on_commit_callbacks
) -> None:
    req = factories.draft_for(account, customer)
    services.request_submit(request_id=req.pk, actor=customer)
    if how == "auto_reject":
        with django_capture_on_commit_callbacks(execute=True):
            services.request_auto_reject(request_id=req.pk, reason_code="zt_phishing_or_spam", note="spam seen")
    else:
        services.request_claim(request_id=req.pk, actor=agent)
        if how == "zero_tolerance_reject":
            with django_capture_on_commit_callbacks(execute=True):
                services.request_reject(request_id=req.pk, actor=agent, reason_code="zt_phishing_or_spam", note="spam")
        else:
            services.request_reject(request_id=req.pk, actor=agent, reason_code="other", note="n1")
            services.request_request_reevaluation(request_id=req.pk, actor=customer, details="More")
            services.request_claim_reevaluation(request_id=req.pk, actor=senior)
            with django_capture_on_commit_callbacks(execute=True):
                services.request_reject_final(request_id=req.pk, actor=senior, reason_code="zt_phishing_or_spam")
    email = only(mailoutbox, "Final decision on your reassessment request")
    assert email.subject == f"Final decision on your reassessment request {req.reference}"
    assert email.to == CUSTOMER
    assert "This decision is final." in email.body
    assert_no_internal_data(email, "zt_", "phishing", "spam", "automatic", "sam", "alice")


def test_reevaluation_received_promises_a_different_reviewer_and_a_final_decision(
    rejected_request, customer, mailoutbox, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        req = services.request_request_reevaluation(request_id=rejected_request.pk, actor=customer, details="More")
    email = only(mailoutbox, "We received your re-evaluation request")
    assert email.to == CUSTOMER
    assert "not involved in the first decision" in email.body
    assert "will be final" in email.body
    assert customer_date(req.sla_target_at) in email.body
    assert_no_internal_data(email, "unverifiable", "Website is parked.")


def test_withdrawal_is_confirmed_but_a_withdrawn_draft_sends_nothing(
    submitted_request, customer, account, mailoutbox, django_capture_on_commit_callbacks
) -> None:
    draft = factories.draft_for(account, customer)
    with django_capture_on_commit_callbacks(execute=True):
        services.request_withdraw(request_id=submitted_request.pk, actor=customer)
        services.request_withdraw(request_id=draft.pk, actor=customer)
    email = only(mailoutbox, "You withdrew reassessment request")
    assert email.subject == f"You withdrew reassessment request {submitted_request.reference}"
    assert email.to == CUSTOMER


def test_sla_events_email_staff_and_apologise_to_the_customer_once(
    request_in_review, manager, mailoutbox, django_capture_on_commit_callbacks
) -> None:
    req = request_in_review
    req.refresh_from_db()
    after_breach = req.sla_breach_at + timedelta(minutes=1)
    with django_capture_on_commit_callbacks(execute=True):
        run_sweep(now=after_breach)
        run_sweep(now=after_breach + timedelta(hours=2))
    Notification.objects.update(created_at=after_breach - timedelta(hours=1))
    notifications.deliver_pending()
    at_risk = only(mailoutbox, f"[{req.reference}] SLA at risk")
    assert at_risk.to == ["alice@desk.example"]
    overdue = only(mailoutbox, f"[{req.reference}] SLA overdue")
    breached = only(mailoutbox, f"[{req.reference}] SLA breached")
    assert overdue.to == breached.to == ["maria@desk.example"]
    assert manager.groups.filter(name=MANAGERS).exists()
    apology = only(mailoutbox, f"Your request {req.reference} is taking longer than usual")
    assert apology.to == CUSTOMER
    assert "We are sorry" in apology.body
    assert_no_internal_data(apology, "alice", "SLA", "breach")


def test_every_customer_email_has_a_text_and_an_html_part(
    awaiting_customer_request, customer, agent, mailoutbox, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        services.request_provide_info(request_id=awaiting_customer_request.pk, actor=customer, message="ok")
        services.request_reject(request_id=awaiting_customer_request.pk, actor=agent, reason_code="other")
    with clock.frozen(clock.now()):
        notifications.deliver_pending()
    assert mailoutbox
    for message in mailoutbox:
        assert message.body.strip()
        assert "<html" in html_of(message)
        assert "&#x27;" not in message.body and "&amp;" not in message.body
