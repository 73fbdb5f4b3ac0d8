"""Portal views: every page, every form's errors, and what a customer may (not) see."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.urls import reverse

from accounts.models import Restriction
from tests import factories
from tickets import services
from tickets.models import Evidence, ReassessmentRequest, State

from .portal_helpers import form_payload, pdf_upload, png_upload

pytestmark = pytest.mark.django_db


def detail_url(req: ReassessmentRequest) -> str:
    return reverse("portal:request_detail", args=[req.reference])


def text_of(response) -> str:
    return response.content.decode()


# --- sign-in, sign-out, password reset ---------------------------------------------------------


def test_anonymous_visitor_is_sent_to_the_styled_sign_in_page(client) -> None:
    response = client.get(reverse("portal:home"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
    page = client.get(response["Location"])
    assert page.status_code == 200
    assert 'autocomplete="current-password"' in text_of(page)
    assert reverse("password_reset") in text_of(page)


def test_customer_signs_in_and_lands_on_their_requests(client, customer) -> None:
    response = client.post(
        reverse("login"), {"username": "carla", "password": "correct horse battery staple"}, follow=True
    )
    assert response.status_code == 200
    assert "Your reassessment requests" in text_of(response)


def test_wrong_password_shows_an_error_on_the_sign_in_page(client, customer) -> None:
    response = client.post(reverse("login"), {"username": "carla", "password": "nope"})
    assert response.status_code == 200
    assert 'role="alert"' in text_of(response)
    assert "correct username and password" in text_of(response)


def test_sign_out_is_a_post_and_ends_the_session(client, customer) -> None:
    client.force_login(customer)
    assert 'action="/accounts/logout/"' in text_of(client.get(reverse("portal:home")))
    response = client.post(reverse("logout"))
    assert response.status_code == 302
    assert client.get(reverse("portal:home")).status_code == 302


def test_password_reset_by_email_lets_the_customer_choose_a_new_password(client, customer) -> None:
    response = client.post(reverse("password_reset"), {"email": "carla@acme.example"}, follow=True)
    assert "Check your email" in text_of(response)
    assert len(mail.outbox) == 1
    email = mail.outbox[0]
    assert email.to == ["carla@acme.example"]
    assert email.subject == "Reset your password for the reassessment desk"
    link = re.search(r"http://testserver(/accounts/reset/\S+)", email.body).group(1)
    form_page = client.get(link, follow=True)
    assert "Choose a new password" in text_of(form_page)
    done = client.post(
        form_page.redirect_chain[-1][0],
        {"new_password1": "a brand new passphrase 42", "new_password2": "a brand new passphrase 42"},
        follow=True,
    )
    assert "Your password was changed" in text_of(done)
    customer.refresh_from_db()
    assert customer.check_password("a brand new passphrase 42")


def test_password_reset_form_shows_an_error_for_a_malformed_address(client) -> None:
    response = client.post(reverse("password_reset"), {"email": "not-an-address"})
    assert response.status_code == 200
    assert "Enter a valid email address" in text_of(response)
    assert mail.outbox == []


def test_an_expired_reset_link_says_so(client, customer) -> None:
    response = client.get("/accounts/reset/MQ/bad-token/", follow=True)
    assert "This link no longer works" in text_of(response)


def test_lockout_page_explains_the_pause(client, customer, settings) -> None:
    settings.AXES_ENABLED = True
    settings.AXES_FAILURE_LIMIT = 1
    client.post(reverse("login"), {"username": "carla", "password": "wrong"}, REMOTE_ADDR="10.0.0.9")
    response = client.post(reverse("login"), {"username": "carla", "password": "wrong"}, REMOTE_ADDR="10.0.0.9")
    assert response.status_code == 429
    assert "Too many failed sign-ins" in text_of(response)


# --- the restriction alert and the account switcher --------------------------------------------


@pytest.mark.parametrize("url_name", ["portal:home", "portal:request_new"])
def test_every_page_shows_the_active_restrictions_with_a_reassessment_link(client, customer, account, url_name) -> None:
    factories.RestrictionFactory(account=account, kind="sms_blocked", detail="")
    factories.RestrictionFactory(account=account, kind="geo_blocked", detail="NG, GH")
    client.force_login(customer)
    page = text_of(client.get(reverse(url_name)))
    assert "Your account has restrictions" in page
    assert "SMS blocked" in page
    assert "Destinations blocked: NG, GH" in page
    assert f"{reverse('portal:request_new')}?account={account.pk}" in page


def test_request_page_shows_the_alert_too(client, customer, restriction, submitted_request) -> None:
    client.force_login(customer)
    assert "Your account has restrictions" in text_of(client.get(detail_url(submitted_request)))


def test_no_alert_once_restrictions_are_lifted(client, customer, restriction) -> None:
    restriction.status = Restriction.Status.LIFTED
    restriction.save()
    client.force_login(customer)
    assert "Your account has restrictions" not in text_of(client.get(reverse("portal:home")))


def test_alert_never_shows_another_accounts_restrictions(client, customer, account, outsider) -> None:
    other = outsider.owned_accounts.get()
    factories.RestrictionFactory(account=other, kind="voice_blocked")
    client.force_login(customer)
    assert "Voice calls blocked" not in text_of(client.get(reverse("portal:home")))


@pytest.fixture
def isv_user(db):
    user = factories.UserFactory(username="isaac", email="isaac@isv.example")
    main = factories.AccountFactory(name="Isaac ISV", owner=user, is_isv=True)
    brand = factories.AccountFactory(name="Brand B", owner=user, parent=main)
    return user, main, brand


def test_user_in_several_accounts_switches_between_their_own_accounts(client, isv_user) -> None:
    user, main, brand = isv_user
    services.request_create_draft(actor=user, account=brand, details={"company_name": "Brand B Inc"})
    client.force_login(user)
    page = text_of(client.get(reverse("portal:home")))
    assert 'id="account-switch"' in page
    assert "Brand B Inc" in page  # the first account by name is the default
    response = client.post(reverse("portal:switch_account"), {"account": main.pk}, follow=True)
    assert "You are now working on Isaac ISV" in text_of(response)
    assert "Brand B Inc" not in text_of(response)
    assert client.session["portal_account_id"] == main.pk


def test_switcher_refuses_an_account_the_user_does_not_belong_to(client, isv_user, outsider) -> None:
    user, _main, _brand = isv_user
    foreign = outsider.owned_accounts.get()
    client.force_login(user)
    response = client.post(reverse("portal:switch_account"), {"account": foreign.pk}, follow=True)
    assert "Choose one of your own accounts" in text_of(response)
    assert client.session.get("portal_account_id") != foreign.pk


def test_requests_are_filed_for_the_current_account(client, isv_user) -> None:
    user, main, _brand = isv_user
    client.force_login(user)
    client.post(reverse("portal:switch_account"), {"account": main.pk})
    client.post(reverse("portal:request_new"), form_payload())
    assert ReassessmentRequest.objects.get().account == main


# --- the request list -------------------------------------------------------------------------------


def test_list_shows_the_current_accounts_requests_in_plain_words(
    client, customer, awaiting_customer_request, outsider
) -> None:
    other = factories.draft_for(outsider.owned_accounts.get(), outsider)
    client.force_login(customer)
    page = text_of(client.get(reverse("portal:home")))
    assert awaiting_customer_request.reference in page
    assert "Information requested from you" in page
    assert other.reference not in page


def test_list_query_count_does_not_grow_with_requests(
    client, customer, account, restriction, django_assert_max_num_queries
) -> None:
    for _ in range(12):
        req = factories.draft_for(account, customer)
        services.request_submit(request_id=req.pk, actor=customer)
    client.force_login(customer)
    client.get(reverse("portal:home"))  # warm the session
    # session + user + accounts + requests + restrictions (alert), whatever the number of requests.
    with django_assert_max_num_queries(6):
        response = client.get(reverse("portal:home"))
    assert text_of(response).count("request-card-head") == 12


def test_staff_user_without_an_account_sees_an_explanation(client, agent) -> None:
    client.force_login(agent)
    assert "not linked to a customer account" in text_of(client.get(reverse("portal:home")))
    assert client.get(reverse("portal:request_new")).status_code == 403


# --- the request form ----------------------------------------------------------------------------


def test_form_shows_every_detail_with_help_from_the_policy(client, customer, account) -> None:
    client.force_login(customer)
    page = text_of(client.get(reverse("portal:request_new")))
    for label in [
        "Company name",
        "Company website",
        "What will you use our services for?",
        "Services you want to use",
        "Sample message",
        "Countries you will send traffic to",
        "Estimated units per month",
        "Estimated spend per month",
    ]:
        assert label in page
    assert "certificate of incorporation" in page
    assert "Fiverr, Upwork or LinkedIn" in page
    assert "exactly as your customers will receive it" in page
    assert 'type="checkbox" name="services" value="sms"' in page
    assert '<select name="destination_countries"' in page and "multiple" in page
    assert 'aria-live="assertive"' in page


def test_save_as_draft_creates_a_draft_and_keeps_the_details(client, customer, account) -> None:
    client.force_login(customer)
    response = client.post(reverse("portal:request_new"), form_payload(company_website="", action="save"))
    req = ReassessmentRequest.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("portal:request_edit", args=[req.reference])
    assert req.state == State.DRAFT
    assert req.company_name == "Acme Logistics LLC"
    assert req.destination_countries == ["US", "CA"]
    page = text_of(client.get(response["Location"]))
    assert "Your draft is saved" in page
    assert 'value="Acme Logistics LLC"' in page


def test_a_wrong_field_is_marked_inline_and_the_other_fields_are_saved(client, customer, account) -> None:
    client.force_login(customer)
    response = client.post(
        reverse("portal:request_new"),
        form_payload(estimated_monthly_spend="lots", company_website="ftp://acme.example"),
    )
    assert response.status_code == 400
    page = text_of(response)
    assert "Estimated spend per month must be an amount in US dollars" in page
    assert "must be an http:// or https:// address" in page
    assert 'id="id_estimated_monthly_spend_error"' in page
    # Screen readers hear the message with the field: the input points at its help and its error.
    assert (
        'aria-invalid="true" aria-describedby="id_estimated_monthly_spend_helptext id_estimated_monthly_spend_error"'
        in page
    )
    req = ReassessmentRequest.objects.get()
    assert req.company_name == "Acme Logistics LLC"
    assert req.estimated_monthly_spend is None
    assert "We saved your draft, but some details need correcting" in page


def test_continue_to_review_with_missing_details_shows_them_next_to_the_fields(client, customer, draft) -> None:
    client.force_login(customer)
    response = client.post(
        reverse("portal:request_edit", args=[draft.reference]),
        form_payload(sample_message="", destination_countries=[], action="review"),
    )
    assert response.status_code == 400
    page = text_of(response)
    assert "A sample message is required when SMS is among the services." in page
    assert "Choose at least one country you will send traffic to." in page
    assert 'id="id_sample_message_error"' in page


def test_use_case_other_needs_details(client, customer, draft) -> None:
    client.force_login(customer)
    response = client.post(
        reverse("portal:request_edit", args=[draft.reference]),
        form_payload(use_case="other", use_case_details="", action="review"),
    )
    assert response.status_code == 400
    assert "Describe your use case when you choose" in text_of(response)


def test_a_tampered_choice_is_refused_with_a_message(client, customer, draft) -> None:
    client.force_login(customer)
    response = client.post(
        reverse("portal:request_edit", args=[draft.reference]), form_payload(destination_countries=["XX"])
    )
    assert response.status_code == 400
    assert "Select a valid choice" in text_of(response)


def test_review_step_shows_the_details_and_submit_sends_the_request(
    client, customer, draft, mailoutbox, django_capture_on_commit_callbacks
) -> None:
    client.force_login(customer)
    response = client.post(reverse("portal:request_edit", args=[draft.reference]), form_payload(action="review"))
    assert response["Location"] == reverse("portal:request_review", args=[draft.reference])
    review = text_of(client.get(response["Location"]))
    assert "Review your request" in review
    assert "Canada" in review and "United States" in review
    assert "SMS API" in review
    with django_capture_on_commit_callbacks(execute=True):
        done = client.post(reverse("portal:request_review", args=[draft.reference]), follow=True)
    draft.refresh_from_db()
    assert draft.state == State.SUBMITTED
    assert "We received your request" in text_of(done)
    assert [m.subject for m in mailoutbox] == [f"We received your reassessment request {draft.reference}"]


def test_submitting_an_incomplete_draft_shows_the_services_errors_inline(client, customer, account) -> None:
    req = services.request_create_draft(actor=customer, account=account, details={"company_name": "Acme"})
    client.force_login(customer)
    review = text_of(client.get(reverse("portal:request_review", args=[req.reference])))
    assert "Some required details are missing" in review
    response = client.post(reverse("portal:request_review", args=[req.reference]))
    assert response.status_code == 400
    page = text_of(response)
    assert "Enter your company website" in page
    assert 'id="id_company_website_error"' in page
    req.refresh_from_db()
    assert req.state == State.DRAFT


def test_a_submitted_request_can_no_longer_be_edited(client, customer, submitted_request) -> None:
    client.force_login(customer)
    response = client.post(
        reverse("portal:request_edit", args=[submitted_request.reference]), form_payload(company_name="Changed")
    )
    assert response.status_code == 302
    submitted_request.refresh_from_db()
    assert submitted_request.company_name != "Changed"


# --- evidence ----------------------------------------------------------------------------------


def test_several_files_upload_in_one_plain_multipart_post(client, customer, draft) -> None:
    client.force_login(customer)
    response = client.post(
        reverse("portal:evidence_add", args=[draft.reference]),
        {
            "kind": "certificate_of_incorporation",
            "files": [pdf_upload(), png_upload()],
            "next": reverse("portal:request_edit", args=[draft.reference]),
        },
    )
    assert response.status_code == 302
    assert sorted(draft.evidence.values_list("original_name", flat=True)) == ["card.png", "certificate.pdf"]
    page = text_of(client.get(response["Location"]))
    assert "Added: certificate.pdf, card.png." in page


def test_xhr_upload_answers_json(client, customer, draft) -> None:
    client.force_login(customer)
    response = client.post(
        reverse("portal:evidence_add", args=[draft.reference]),
        {"kind": "business_card", "files": [png_upload()]},
        HTTP_X_REQUESTED_WITH="XMLHttpRequest",
    )
    assert response.status_code == 200
    assert response.json() == {"added": ["card.png"], "errors": []}


def test_a_bad_file_is_refused_with_its_name_and_the_reason(client, customer, draft) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    client.force_login(customer)
    fake = SimpleUploadedFile("invoice.pdf", b"MZ this is not a pdf", content_type="application/pdf")
    response = client.post(
        reverse("portal:evidence_add", args=[draft.reference]),
        {"kind": "other", "files": [fake]},
        HTTP_X_REQUESTED_WITH="XMLHttpRequest",
    )
    assert response.status_code == 400
    assert "invoice.pdf" in response.json()["errors"][0]
    assert not draft.evidence.exists()


def test_evidence_needs_a_kind_and_something_to_add(client, customer, draft) -> None:
    client.force_login(customer)
    url = reverse("portal:evidence_add", args=[draft.reference])
    nothing = client.post(url, {"kind": "other"}, HTTP_X_REQUESTED_WITH="XMLHttpRequest")
    assert nothing.json()["errors"] == ["Choose one or more files, or enter a link."]
    no_kind = client.post(url, {"files": [png_upload()]}, HTTP_X_REQUESTED_WITH="XMLHttpRequest")
    assert "Choose what the evidence is" in no_kind.json()["errors"][0]


def test_links_are_added_and_http_links_refused(client, customer, submitted_request) -> None:
    client.force_login(customer)
    url = reverse("portal:evidence_add", args=[submitted_request.reference])
    ok = client.post(url, {"kind": "marketplace_profile", "url": "https://www.linkedin.com/in/carla"}, follow=True)
    assert "Added: https://www.linkedin.com/in/carla." in text_of(ok)
    bad = client.post(url, {"kind": "press_mention", "url": "http://news.example/acme"}, follow=True)
    assert "only https:// links are." in text_of(bad)
    assert submitted_request.evidence.count() == 1


def test_draft_evidence_can_be_removed_but_not_after_submit(client, customer, draft) -> None:
    client.force_login(customer)
    client.post(reverse("portal:evidence_add", args=[draft.reference]), {"kind": "other", "files": [png_upload()]})
    item = draft.evidence.get()
    client.post(reverse("portal:evidence_delete", args=[draft.reference, item.pk]))
    assert not draft.evidence.exists()
    client.post(reverse("portal:evidence_add", args=[draft.reference]), {"kind": "other", "files": [png_upload()]})
    item = draft.evidence.get()
    services.request_submit(request_id=draft.pk, actor=customer)
    response = client.post(reverse("portal:evidence_delete", args=[draft.reference, item.pk]), follow=True)
    assert "cannot be removed once the request is submitted" in text_of(response)
    assert Evidence.objects.filter(pk=item.pk).exists()


# --- the request page ---------------------------------------------------------------------------


def test_request_page_shows_plain_timeline_and_expected_date(client, customer, request_in_review) -> None:
    from tickets.templatetags.customer_dates import customer_date

    client.force_login(customer)
    page = text_of(client.get(detail_url(request_in_review)))
    assert "A member of our accounts team is reviewing your request." in page
    assert f"Expect an update by <strong>{customer_date(request_in_review.sla_target_at)}</strong>" in page
    assert re.search(r"Submitted</span>.*In review</span>", page, re.S)
    assert "alice" not in page  # the assignee's username


def test_information_request_shows_the_question_and_the_reply_form(client, customer, awaiting_customer_request) -> None:
    client.force_login(customer)
    page = text_of(client.get(detail_url(awaiting_customer_request)))
    assert "Please send your certificate of incorporation." in page
    assert "Accounts team" in page
    assert "Answer the accounts team" in page
    assert "We need more information from you" in page


def test_an_empty_reply_is_refused_inline(client, customer, awaiting_customer_request) -> None:
    client.force_login(customer)
    response = client.post(
        reverse("portal:request_reply", args=[awaiting_customer_request.reference]), {"message": " "}
    )
    assert response.status_code == 400
    assert "Write your answer to the accounts team." in text_of(response)
    awaiting_customer_request.refresh_from_db()
    assert awaiting_customer_request.state == State.AWAITING_CUSTOMER


def test_a_reply_resumes_the_review(client, customer, awaiting_customer_request) -> None:
    client.force_login(customer)
    response = client.post(
        reverse("portal:request_reply", args=[awaiting_customer_request.reference]),
        {"message": "Attached the certificate."},
        follow=True,
    )
    awaiting_customer_request.refresh_from_db()
    assert awaiting_customer_request.state == State.IN_REVIEW
    page = text_of(response)
    assert "Your answer was sent" in page
    assert "Attached the certificate." in page
    assert "Answer the accounts team" not in page


def test_customer_message_while_in_review(client, customer, request_in_review) -> None:
    client.force_login(customer)
    url = reverse("portal:request_message", args=[request_in_review.reference])
    assert client.post(url, {"msg-message": ""}).status_code == 400
    response = client.post(url, {"msg-message": "Any news?"}, follow=True)
    assert "Your message was sent" in text_of(response)
    assert request_in_review.messages.filter(body="Any news?", internal=False).exists()


def test_internal_notes_never_show(client, customer, request_in_review, agent) -> None:
    services.message_post(
        request_id=request_in_review.pk, actor=agent, body="Looks like a shell company", internal=True
    )
    services.message_post(request_id=request_in_review.pk, actor=agent, body="Thanks, we are on it.")
    client.force_login(customer)
    page = text_of(client.get(detail_url(request_in_review)))
    assert "Looks like a shell company" not in page
    assert "Thanks, we are on it." in page


def test_rejection_says_rejected_without_a_reason_and_offers_reevaluation(client, customer, rejected_request) -> None:
    client.force_login(customer)
    page = text_of(client.get(detail_url(rejected_request)))
    assert "Your request was rejected." in page
    assert "unverifiable" not in page.lower()
    assert "Website is parked." not in page
    assert "Ask for a re-evaluation" in page
    assert "only once" in page or "<strong>once</strong>" in page


def test_reevaluation_form_errors_and_success(client, customer, rejected_request) -> None:
    client.force_login(customer)
    url = reverse("portal:request_reevaluate", args=[rejected_request.reference])
    empty = client.post(url, {"details": ""})
    assert empty.status_code == 400
    assert "Tell us what we should know for the re-evaluation." in text_of(empty)
    ok = client.post(url, {"details": "Our site is live now."}, follow=True)
    rejected_request.refresh_from_db()
    assert rejected_request.state == State.REEVALUATION_REQUESTED
    page = text_of(ok)
    assert "The decision after this re-evaluation will be final." in page
    assert 'action="' + url not in page  # offered once only


def test_reevaluation_is_not_offered_after_the_window(client, customer, rejected_request) -> None:
    from datetime import timedelta

    from tickets import clock

    client.force_login(customer)
    with clock.frozen(rejected_request.reevaluation_due_at + timedelta(minutes=1)):
        page = text_of(client.get(detail_url(rejected_request)))
        response = client.post(
            reverse("portal:request_reevaluate", args=[rejected_request.reference]), {"details": "late"}, follow=True
        )
    assert "Ask for a re-evaluation</button>" not in page
    assert "The window to ask for a re-evaluation has closed." in text_of(response)


def test_final_rejection_says_the_decision_is_final(client, customer, request_in_reevaluation, senior) -> None:
    services.request_reject_final(request_id=request_in_reevaluation.pk, actor=senior, reason_code="other", note="x")
    client.force_login(customer)
    page = text_of(client.get(detail_url(request_in_reevaluation)))
    assert "This decision is final" in page
    assert "Rejected, final decision" in page
    assert "Withdraw this request" not in page


def test_automatic_rejection_reads_like_any_final_rejection(client, customer, account) -> None:
    factories.RiskSignalFactory(account=account, kind="payment_flagged")
    req = factories.draft_for(account, customer)
    services.request_submit(request_id=req.pk, actor=customer)
    services.request_auto_reject(request_id=req.pk, reason_code="zt_payment_flagged")
    client.force_login(customer)
    page = text_of(client.get(detail_url(req)))
    assert "This decision is final" in page
    assert "Final decision: rejected" in page
    for word in ("automatic", "Automatic", "system", "zero", "payment", "zt_"):
        assert word not in page.split('<main id="main"')[1], word


def test_approval_lists_what_was_lifted(client, customer, approved_request) -> None:
    client.force_login(customer)
    page = text_of(client.get(detail_url(approved_request)))
    assert "Your request was approved." in page
    assert "We lifted these restrictions" in page
    assert "SMS blocked" in page


def test_withdraw_asks_for_confirmation_then_withdraws(client, customer, submitted_request) -> None:
    client.force_login(customer)
    url = reverse("portal:request_withdraw", args=[submitted_request.reference])
    confirm = client.get(url)
    assert "you cannot reopen it" in text_of(confirm)
    submitted_request.refresh_from_db()
    assert submitted_request.state == State.SUBMITTED
    response = client.post(url, follow=True)
    submitted_request.refresh_from_db()
    assert submitted_request.state == State.WITHDRAWN
    assert "was withdrawn" in text_of(response)
    again = client.get(url, follow=True)
    assert "can no longer be withdrawn" in text_of(again)


def test_a_draft_opens_in_the_form(client, customer, draft) -> None:
    client.force_login(customer)
    response = client.get(detail_url(draft))
    assert response["Location"] == reverse("portal:request_edit", args=[draft.reference])


# --- other accounts: 404 everywhere ------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "name", "data"),
    [
        ("get", "portal:request_detail", None),
        ("get", "portal:request_edit", None),
        ("get", "portal:request_review", None),
        ("post", "portal:request_review", {}),
        ("post", "portal:request_reply", {"message": "hi"}),
        ("post", "portal:request_message", {"msg-message": "hi"}),
        ("post", "portal:request_reevaluate", {"details": "hi"}),
        ("get", "portal:request_withdraw", None),
        ("post", "portal:request_withdraw", {}),
        ("post", "portal:evidence_add", {"kind": "other", "url": "https://x.example"}),
    ],
)
def test_another_accounts_request_is_not_found(client, outsider, awaiting_customer_request, method, name, data) -> None:
    client.force_login(outsider)
    url = reverse(name, args=[awaiting_customer_request.reference])
    response = getattr(client, method)(url, data) if data is not None else getattr(client, method)(url)
    assert response.status_code == 404
    awaiting_customer_request.refresh_from_db()
    assert awaiting_customer_request.state == State.AWAITING_CUSTOMER
    assert not awaiting_customer_request.evidence.exists()


def test_teammate_sees_the_accounts_request(client, teammate, submitted_request) -> None:
    client.force_login(teammate)
    assert client.get(detail_url(submitted_request)).status_code == 200


def test_signed_in_customer_changes_their_password(client, customer) -> None:
    client.force_login(customer)
    bad = client.post(reverse("password_change"), {"old_password": "wrong", "new_password1": "x", "new_password2": "y"})
    assert bad.status_code == 200
    assert "Please correct the fields marked below." in text_of(bad)
    done = client.post(
        reverse("password_change"),
        {
            "old_password": "correct horse battery staple",
            "new_password1": "another long passphrase 77",
            "new_password2": "another long passphrase 77",
        },
        follow=True,
    )
    assert "Your password was changed" in text_of(done)


def test_xhr_upload_success_leaves_a_note_for_the_reloaded_page(client, customer, draft) -> None:
    client.force_login(customer)
    client.post(
        reverse("portal:evidence_add", args=[draft.reference]),
        {"kind": "business_card", "files": [png_upload()]},
        HTTP_X_REQUESTED_WITH="XMLHttpRequest",
    )
    page = text_of(client.get(reverse("portal:request_edit", args=[draft.reference])))
    assert "Added: card.png." in page


def test_request_page_query_count_does_not_grow_with_messages_and_evidence(
    client, customer, request_in_review, agent
) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.force_login(customer)
    url = detail_url(request_in_review)
    client.get(url)
    with CaptureQueriesContext(connection) as few:
        client.get(url)
    for number in range(6):
        services.message_post(request_id=request_in_review.pk, actor=agent, body=f"Update {number}")
        services.message_post(request_id=request_in_review.pk, actor=customer, body=f"Reply {number}")
    client.post(
        reverse("portal:evidence_add", args=[request_in_review.reference]),
        {"kind": "other", "files": [png_upload("a.png", (1, 2, 3)), png_upload("b.png", (4, 5, 6))]},
    )
    with CaptureQueriesContext(connection) as many:
        response = client.get(url)
    assert "Update 5" in text_of(response)
    assert len(many.captured_queries) <= len(few.captured_queries) + 1  # the flash message's session write
