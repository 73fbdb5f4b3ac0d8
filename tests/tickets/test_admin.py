"""The triage desk through the admin's HTTP views: the queue, the request page, every transition
form (success and refusal), the bulk claim, notes, roles and read-only final requests."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.contrib import admin
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from accounts.models import Restriction
from tests import factories
from tickets import clock, services
from tickets.evidence import evidence_add_file, evidence_add_link
from tickets.models import Message, Notification, ReassessmentRequest, State
from tickets.screening import screen_request

CHANGELIST = "admin:tickets_reassessmentrequest_changelist"


def change_url(req: ReassessmentRequest) -> str:
    return reverse("admin:tickets_reassessmentrequest_change", args=[req.pk])


def transition_url(req: ReassessmentRequest, name: str) -> str:
    return reverse("admin:tickets_reassessmentrequest_transition", args=[req.pk, name])


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def login(client, user):
    client.force_login(user)
    return client


def submitted(account, *, days_ago: float = 0, **details) -> ReassessmentRequest:
    """A submitted request, submitted `days_ago` days ago (the clock travels)."""
    draft = factories.draft_for(account, account.owner, **details)
    with clock.frozen(timezone.now() - timedelta(days=days_ago)):
        return services.request_submit(request_id=draft.pk, actor=account.owner)


@pytest.fixture
def screening_rules(db: None) -> list:
    """The rules these tests rely on. Migration 0003 installs them, but a transactional test
    (the browser test) flushes migration data from a reused test database."""
    from tickets.models import ScreeningRule

    rules = [("financial", "keyword", "payday loan"), ("gambling", "keyword", "jackpot"),
             ("public_shortener", "domain", "bit.ly")]
    return [ScreeningRule.objects.get_or_create(category=c, match_type=m, pattern=p)[0] for c, m, p in rules]


def results(response) -> list[str]:
    return [r.reference for r in response.context["cl"].result_list]


def png_bytes(size: tuple[int, int] = (4, 4)) -> bytes:
    buffer = io.BytesIO()
    image = Image.new("RGB", size, (245, 245, 240))
    if size[0] > 20:
        from PIL import ImageDraw

        draw = ImageDraw.Draw(image)
        draw.rectangle([10, 10, size[0] - 10, size[1] - 10], outline=(30, 60, 120), width=4)
        draw.text((24, 24), "Acme Parcel Co\nCarla Customer\nCEO", fill=(30, 60, 120))
    image.save(buffer, format="PNG")
    return buffer.getvalue()


PDF_BYTES = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
    b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 3 3]>>endobj\n"
    b"xref\n0 4\n0000000000 65535 f \n0000000009 00000 n \n0000000052 00000 n \n0000000101 00000 n \n"
    b"trailer<</Size 4/Root 1 0 R>>\nstartxref\n150\n%%EOF\n"
)


# --- who gets in -----------------------------------------------------------------------------------


def test_customers_never_get_into_the_admin(client, customer, submitted_request) -> None:
    login(client, customer)
    response = client.get(reverse(CHANGELIST))
    assert response.status_code == 302
    assert reverse("admin:login") in response["Location"]
    assert client.get(change_url(submitted_request)).status_code == 302


def test_nobody_adds_or_deletes_requests_in_admin(client, agent, settings) -> None:
    superuser = factories.StaffFactory(username="root", is_superuser=True)
    for user in (agent, superuser):
        login(client, user)
        assert client.get(reverse("admin:tickets_reassessmentrequest_add")).status_code == 403
        response = client.get(reverse(CHANGELIST))
        assert "delete_selected" not in response.context["cl"].model_admin.get_actions(response.wsgi_request)


# --- the queue -------------------------------------------------------------------------------------


def test_queue_opens_on_open_requests_most_urgent_first(client, agent, account, agent2) -> None:
    newest = submitted(account, days_ago=0)
    oldest = submitted(account, days_ago=20)
    middle = submitted(account, days_ago=2)
    paused = submitted(account, days_ago=8)
    services.request_claim(request_id=paused.pk, actor=agent2)
    services.request_request_info(request_id=paused.pk, actor=agent2, message="Send your EIN.")
    decided = submitted(account, days_ago=9)
    services.request_claim(request_id=decided.pk, actor=agent2)
    services.request_reject(request_id=decided.pk, actor=agent2, reason_code="other")

    response = login(client, agent).get(reverse(CHANGELIST))

    assert response.status_code == 200
    assert results(response) == [oldest.reference, middle.reference, newest.reference, paused.reference]
    page = response.content.decode()
    assert "desk-sla--breached" in page  # 20 calendar days ago is past the breach deadline
    assert "desk-sla--paused" in page
    assert "left" in page  # remaining business time of the running ones

    everything = client.get(reverse(CHANGELIST), {"queue": "all"})
    assert decided.reference in results(everything)


def test_queue_filters_by_state_sla_assignee_service_country_isv_and_flags(
    client, agent, agent2, account, screening_rules
) -> None:
    isv = factories.AccountFactory(name="Brandly ISV", is_isv=True)
    sub = factories.AccountFactory(name="Brand One", parent=isv, owner=isv.owner)
    plain = submitted(account)
    voice_only = submitted(account, services=["voice"], sample_message="", destination_countries=["GB"])
    isv_request = submitted(sub)
    mine = submitted(account, days_ago=1)
    services.request_claim(request_id=mine.pk, actor=agent)
    flagged = submitted(account, sample_message="Win the jackpot at bit.ly/x")
    screen_request(request_id=flagged.pk)
    login(client, agent)

    def filtered(**params: str) -> set[str]:
        return set(results(client.get(reverse(CHANGELIST), params)))

    assert filtered(queue="in_review") == {mine.reference}
    assert filtered(assignee="mine") == {mine.reference}
    assert mine.reference not in filtered(assignee="unassigned")
    assert filtered(service="zentrunk") == set()
    assert plain.reference not in filtered(service="voice") - {plain.reference}  # sms+voice counts as voice
    assert voice_only.reference not in filtered(service="sms")
    assert voice_only.reference in filtered(service="voice")
    assert filtered(country="gb") == {voice_only.reference}
    assert filtered(country="ZZ") == set()
    assert filtered(isv="yes") == {isv_request.reference}
    assert isv_request.reference not in filtered(isv="no")
    assert filtered(flagged="yes") == {flagged.reference}
    assert filtered(sla="running") >= {plain.reference, voice_only.reference}
    assert filtered(sla="paused") == set()


def test_queue_searches_reference_company_website_and_account(client, agent, account) -> None:
    other = factories.AccountFactory(name="Zebra Telecom")
    a = submitted(account, company_name="Northwind Traders", company_website="https://northwind.example")
    b = submitted(other)
    login(client, agent)

    def search(term: str) -> set[str]:
        return set(results(client.get(reverse(CHANGELIST), {"q": term})))

    assert search(a.reference.lower()) == {a.reference}
    assert search("northwind tr") == {a.reference}
    assert search("northwind.example") == {a.reference}
    assert search("Zebra") == {b.reference}


def _many_requests(account, count: int) -> None:
    for index in range(count):
        submitted(account, days_ago=index % 7, company_name=f"Company {index}")


def test_queue_query_count_does_not_grow_with_page_size(client, agent, account, agent2) -> None:
    isv = factories.AccountFactory(name="ISV", is_isv=True)
    _many_requests(account, 30)
    _many_requests(factories.AccountFactory(name="Sub", parent=isv), 25)
    for req in ReassessmentRequest.objects.order_by("pk")[:10]:
        services.request_claim(request_id=req.pk, actor=agent2)
    model_admin = admin.site._registry[ReassessmentRequest]
    login(client, agent)
    counts = {}
    try:
        for per_page in (10, 50):
            model_admin.list_per_page = per_page
            with CaptureQueriesContext(connection) as queries:
                response = client.get(reverse(CHANGELIST), {"queue": "all"})
            assert response.status_code == 200
            assert len(response.context["cl"].result_list) == per_page
            counts[per_page] = len(queries)
    finally:
        model_admin.list_per_page = 50
    assert counts[10] == counts[50], counts
    print("changelist queries per page size:", counts)
    assert counts[50] <= 10, counts


# --- the request page ------------------------------------------------------------------------------


def test_agent_sees_only_claim_on_a_submitted_request(client, agent, submitted_request) -> None:
    page = login(client, agent).get(change_url(submitted_request)).content.decode()
    assert transition_url(submitted_request, "claim") in page
    for name in ("request_info", "approve", "reject", "claim_reevaluation", "reject_final"):
        assert transition_url(submitted_request, name) not in page
    assert 'name="_save"' not in page  # read-only: requests change through transitions


def test_assignee_sees_request_info_approve_and_reject(client, agent, request_in_review, restriction) -> None:
    page = login(client, agent).get(change_url(request_in_review)).content.decode()
    for name in ("request_info", "approve", "reject"):
        assert transition_url(request_in_review, name) in page
    assert transition_url(request_in_review, "claim") not in page
    assert f'value="{restriction.pk}"' in page  # the approve form offers the active restriction


def test_another_agent_sees_no_decision_buttons_on_a_claimed_request(client, agent2, request_in_review) -> None:
    response = login(client, agent2).get(change_url(request_in_review))
    page = response.content.decode()
    assert "/transition/" not in page
    assert "only the assignee decides" in page


def test_claim_button_claims_the_request(client, agent, submitted_request) -> None:
    response = login(client, agent).post(transition_url(submitted_request, "claim"), follow=True)
    submitted_request.refresh_from_db()
    assert submitted_request.state == State.IN_REVIEW
    assert submitted_request.assignee == agent
    assert f"You claimed {submitted_request.reference}" in " ".join(messages_of(response))


def test_claim_of_a_claimed_request_is_refused_with_its_reason(client, agent, agent2, request_in_review) -> None:
    response = login(client, agent2).post(transition_url(request_in_review, "claim"), follow=True)
    assert response.status_code == 200
    assert "Claim refused: Claim is not possible while the request is in review." in messages_of(response)
    request_in_review.refresh_from_db()
    assert request_in_review.assignee == agent


def test_transition_urls_only_accept_post(client, agent, submitted_request) -> None:
    login(client, agent)
    assert client.get(transition_url(submitted_request, "claim")).status_code == 405
    assert client.post(transition_url(submitted_request, "withdraw")).status_code == 404


def test_transition_posts_need_a_csrf_token(agent, submitted_request) -> None:
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    strict.force_login(agent)
    assert strict.post(transition_url(submitted_request, "claim")).status_code == 403
    submitted_request.refresh_from_db()
    assert submitted_request.state == State.SUBMITTED


def test_request_info_form_sends_the_message_and_pauses_the_clock(client, agent, request_in_review) -> None:
    response = login(client, agent).post(
        transition_url(request_in_review, "request_info"),
        {"request_info-message": "Please upload your certificate of incorporation."},
        follow=True,
    )
    request_in_review.refresh_from_db()
    assert request_in_review.state == State.AWAITING_CUSTOMER
    assert request_in_review.sla_paused_at is not None
    assert Message.objects.filter(request=request_in_review, internal=False, body__contains="certificate").exists()
    assert "information requested" in " ".join(messages_of(response))


def test_request_info_without_a_message_shows_the_form_error(client, agent, request_in_review) -> None:
    response = login(client, agent).post(
        transition_url(request_in_review, "request_info"), {"request_info-message": " "}
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "This field is required." in page
    assert 'id="transition-request_info" open' in page
    request_in_review.refresh_from_db()
    assert request_in_review.state == State.IN_REVIEW


def test_request_info_by_someone_else_is_refused(client, agent2, request_in_review) -> None:
    response = login(client, agent2).post(
        transition_url(request_in_review, "request_info"), {"request_info-message": "Hello"}, follow=True
    )
    assert any("Only the assignee can do this" in m for m in messages_of(response))
    request_in_review.refresh_from_db()
    assert request_in_review.state == State.IN_REVIEW


def test_approve_form_lifts_the_chosen_restrictions(client, agent, request_in_review, restriction, account) -> None:
    kept = factories.RestrictionFactory(account=account, kind="voice_blocked")
    response = login(client, agent).post(
        transition_url(request_in_review, "approve"),
        {"approve-lift": [restriction.pk], "approve-message": "Welcome back."},
        follow=True,
    )
    request_in_review.refresh_from_db()
    restriction.refresh_from_db()
    kept.refresh_from_db()
    assert request_in_review.state == State.APPROVED
    assert request_in_review.decision_outcome == "limited"
    assert restriction.status == Restriction.Status.LIFTED
    assert kept.status == Restriction.Status.ACTIVE
    assert f"{request_in_review.reference} approved (restrictions limited)" in " ".join(messages_of(response))


def test_approve_with_another_accounts_restriction_is_refused(client, agent, request_in_review) -> None:
    foreign = factories.RestrictionFactory()
    response = login(client, agent).post(transition_url(request_in_review, "approve"), {"approve-lift": [foreign.pk]})
    assert response.status_code == 400
    assert "Select a valid choice" in response.content.decode()
    request_in_review.refresh_from_db()
    assert request_in_review.state == State.IN_REVIEW


def test_reject_form_needs_a_reason_code(client, agent, request_in_review) -> None:
    response = login(client, agent).post(transition_url(request_in_review, "reject"), {"reject-note": "No site"})
    assert response.status_code == 400
    assert "This field is required." in response.content.decode()
    request_in_review.refresh_from_db()
    assert request_in_review.state == State.IN_REVIEW


def test_reject_form_rejects_with_an_internal_note(client, agent, request_in_review) -> None:
    response = login(client, agent).post(
        transition_url(request_in_review, "reject"),
        {"reject-reason_code": "unverifiable_business", "reject-note": "Website parked."},
        follow=True,
    )
    request_in_review.refresh_from_db()
    assert request_in_review.state == State.REJECTED
    assert request_in_review.reason_code == "unverifiable_business"
    assert Message.objects.filter(request=request_in_review, internal=True, body="Website parked.").exists()
    assert "may ask for one re-evaluation" in " ".join(messages_of(response))


def test_reject_with_zero_tolerance_reason_is_final(client, agent, request_in_review) -> None:
    response = login(client, agent).post(
        transition_url(request_in_review, "reject"), {"reject-reason_code": "zt_phishing_or_spam"}, follow=True
    )
    request_in_review.refresh_from_db()
    assert request_in_review.state == State.REJECTED_FINAL
    assert "zero-tolerance reason: the decision is final" in " ".join(messages_of(response))


def test_agent_cannot_claim_a_reevaluation(client, agent2, reevaluation_requested_request) -> None:
    login(client, agent2)
    page = client.get(change_url(reevaluation_requested_request)).content.decode()
    assert transition_url(reevaluation_requested_request, "claim_reevaluation") not in page
    response = client.post(transition_url(reevaluation_requested_request, "claim_reevaluation"), follow=True)
    assert "Claim the re-evaluation refused: Claim the re-evaluation needs a senior reviewer." in messages_of(response)


def test_senior_cannot_reevaluate_their_own_decision(client, senior, senior2, account, customer) -> None:
    req = submitted(account)
    services.request_claim(request_id=req.pk, actor=senior)
    services.request_reject(request_id=req.pk, actor=senior, reason_code="other")
    services.request_request_reevaluation(request_id=req.pk, actor=customer, details="We fixed it.")
    login(client, senior)
    assert transition_url(req, "claim_reevaluation") not in client.get(change_url(req)).content.decode()
    response = client.post(transition_url(req, "claim_reevaluation"), follow=True)
    assert any("You decided this request" in m for m in messages_of(response))
    login(client, senior2)
    assert transition_url(req, "claim_reevaluation") in client.get(change_url(req)).content.decode()
    response = client.post(transition_url(req, "claim_reevaluation"), follow=True)
    req.refresh_from_db()
    assert req.state == State.IN_REEVALUATION
    assert req.assignee == senior2


def test_reject_final_form_closes_the_reevaluation(client, senior, request_in_reevaluation) -> None:
    login(client, senior)
    page = client.get(change_url(request_in_reevaluation)).content.decode()
    assert transition_url(request_in_reevaluation, "reject_final") in page
    assert transition_url(request_in_reevaluation, "reject") not in page
    response = client.post(
        transition_url(request_in_reevaluation, "reject_final"),
        {"reject_final-reason_code": "high_risk_use_case", "reject_final-note": "Same issue."},
        follow=True,
    )
    request_in_reevaluation.refresh_from_db()
    assert request_in_reevaluation.state == State.REJECTED_FINAL
    assert f"{request_in_reevaluation.reference} rejected (final)." in messages_of(response)


def test_reject_final_by_an_agent_is_refused(client, agent, request_in_reevaluation) -> None:
    response = login(client, agent).post(
        transition_url(request_in_reevaluation, "reject_final"), {"reject_final-reason_code": "other"}, follow=True
    )
    assert any("Reject (final) refused: Only the assignee can do this" in m for m in messages_of(response))
    request_in_reevaluation.refresh_from_db()
    assert request_in_reevaluation.state == State.IN_REEVALUATION


def test_manager_reads_everything_and_decides_nothing(client, manager, submitted_request) -> None:
    login(client, manager)
    assert client.get(reverse(CHANGELIST)).status_code == 200
    response = client.get(change_url(submitted_request))
    page = response.content.decode()
    assert response.status_code == 200
    assert "/transition/" not in page
    assert "can read requests but not act" in page
    assert 'id="desk-note-form"' not in page
    assert "claim_selected" not in client.get(reverse(CHANGELIST)).context["cl"].model_admin.get_actions(
        response.wsgi_request
    )
    response = client.post(transition_url(submitted_request, "claim"), follow=True)
    assert "Claim refused: Claim needs a member of the accounts team." in messages_of(response)
    submitted_request.refresh_from_db()
    assert submitted_request.state == State.SUBMITTED


def test_manager_in_a_deciding_group_may_claim(client, submitted_request) -> None:
    from accounts.roles import ACCOUNTS_TEAM, MANAGERS

    lead = factories.StaffFactory(username="lena", groups=[MANAGERS, ACCOUNTS_TEAM])
    login(client, lead).post(transition_url(submitted_request, "claim"))
    submitted_request.refresh_from_db()
    assert submitted_request.assignee == lead


def test_final_request_is_read_only(client, agent, approved_request) -> None:
    login(client, agent)
    response = client.get(change_url(approved_request))
    page = response.content.decode()
    assert response.status_code == 200
    assert "/transition/" not in page
    assert 'name="_save"' not in page
    assert 'id="desk-note-form"' not in page
    assert "This request is final" in page
    assert client.post(change_url(approved_request), {"company_name": "Changed"}).status_code == 403
    response = client.post(transition_url(approved_request, "reject"), {"reject-reason_code": "other"}, follow=True)
    assert any("Reject refused" in m for m in messages_of(response))
    response = client.post(
        reverse("admin:tickets_reassessmentrequest_message", args=[approved_request.pk]),
        {"note-body": "late note", "note-kind": "internal"},
        follow=True,
    )
    assert "This request is final and read-only; nothing was added." in messages_of(response)
    approved_request.refresh_from_db()
    assert approved_request.state == State.APPROVED
    assert approved_request.company_name != "Changed"


# --- bulk claim ------------------------------------------------------------------------------------


def test_bulk_claim_reports_each_success_and_refusal(client, agent, agent2, account) -> None:
    first, second, taken = submitted(account), submitted(account), submitted(account)
    services.request_claim(request_id=taken.pk, actor=agent2)
    response = login(client, agent).post(
        reverse(CHANGELIST),
        {"action": "claim_selected", "_selected_action": [first.pk, second.pk, taken.pk], "index": 0},
        follow=True,
    )
    texts = messages_of(response)
    assert f"Claimed 2 of 3: {first.reference}, {second.reference}." in texts
    assert f"{taken.reference} not claimed: Claim is not possible while the request is in review." in texts
    for req in (first, second):
        req.refresh_from_db()
        assert (req.state, req.assignee) == (State.IN_REVIEW, agent)
    taken.refresh_from_db()
    assert taken.assignee == agent2


# --- conversation, evidence, flags, account ---------------------------------------------------------


def test_internal_note_and_public_reply_are_posted_and_shown_apart(client, agent, request_in_review) -> None:
    url = reverse("admin:tickets_reassessmentrequest_message", args=[request_in_review.pk])
    login(client, agent)
    client.post(url, {"note-body": "Checked the registry.", "note-kind": "internal"})
    response = client.post(url, {"note-body": "We are on it.", "note-kind": "public"}, follow=True)
    assert "Reply sent to the customer." in messages_of(response)
    page = response.content.decode()
    assert "Internal note · staff only" in page and "Checked the registry." in page
    assert "Public · the customer sees this" in page and "We are on it." in page
    assert Message.objects.get(body="Checked the registry.").internal is True
    assert Message.objects.get(body="We are on it.").internal is False
    assert Notification.objects.filter(kind="staff_message", request=request_in_review).count() == 1
    assert client.post(url, {"note-body": "", "note-kind": "internal"}).status_code == 400


def test_request_page_shows_details_evidence_previews_and_audit(client, agent, account, customer) -> None:
    draft = factories.draft_for(account, customer)
    image = evidence_add_file(
        request_id=draft.pk, actor=customer, kind="business_card", upload=io.BytesIO(png_bytes()), name="card.png"
    )
    pdf = evidence_add_file(
        request_id=draft.pk, actor=customer, kind="ein", upload=io.BytesIO(PDF_BYTES), name="ein.pdf"
    )
    evidence_add_link(request_id=draft.pk, actor=customer, kind="press_mention", url="https://news.example/acme")
    req = services.request_submit(request_id=draft.pk, actor=customer)
    login(client, agent)
    page = client.get(change_url(req)).content.decode()
    download = reverse("evidence:download", args=[image.pk])
    assert f'<img src="{download}?inline=1"' in page
    assert f'href="{reverse("evidence:download", args=[pdf.pk])}?inline=1" target="_blank"' in page
    assert "https://news.example/acme" in page
    assert "Acme Logistics LLC" in page and "Canada (CA)" in page and "SMS API" in page
    assert "submit" in page and 'class="desk-audit-row"' in page
    assert "Cycle" in page and "desk-sla--running" in page
    inline = client.get(download + "?inline=1")
    assert inline.status_code == 200
    assert inline["Content-Disposition"].startswith("inline")


def test_request_page_shows_screening_flags_with_matched_text(client, agent, account, screening_rules) -> None:
    req = submitted(account, sample_message="Get a payday loan now at bit.ly/cash4u today")
    screen_request(request_id=req.pk)
    page = login(client, agent).get(change_url(req)).content.decode()
    count = req.screening_flags.count()
    assert count >= 2
    assert f"{count} screening flags" in page
    assert "<mark>payday loan</mark>" in page
    assert "<mark>bit.ly/cash4u</mark>" in page
    assert "Public URL shortener" in page and "Financial" in page


def test_request_page_shows_the_accounts_restrictions_and_risk_signals(
    client, agent, request_in_review, restriction, account
) -> None:
    factories.RiskSignalFactory(account=account, kind="number_hoarding", note="500 numbers, no traffic")
    page = login(client, agent).get(change_url(request_in_review)).content.decode()
    assert "SMS blocked" in page
    assert "Numbers procured without proportionate usage" in page and "500 numbers, no traffic" in page


@pytest.mark.parametrize("user_fixture", ["agent", "manager", "compliance"])
def test_every_staff_role_opens_the_queue_and_the_page(client, request, user_fixture, request_in_review) -> None:
    login(client, request.getfixturevalue(user_fixture))
    assert client.get(reverse(CHANGELIST)).status_code == 200
    assert client.get(change_url(request_in_review)).status_code == 200


def test_queue_lists_newest_first_once_decided_requests_are_included(client, agent, account) -> None:
    older = submitted(account, days_ago=3)
    newer = submitted(account, days_ago=1)
    response = login(client, agent).get(reverse(CHANGELIST), {"queue": "all"})
    assert results(response) == [newer.reference, older.reference]


def test_queue_count_is_capped_so_paging_never_counts_the_whole_table(client, agent, account, monkeypatch) -> None:
    from tickets.admin.request_admin import CappedCountPaginator

    for _ in range(4):
        submitted(account)
    monkeypatch.setattr(CappedCountPaginator, "CAP", 3)
    response = login(client, agent).get(reverse(CHANGELIST))
    assert response.context["cl"].result_count == 3


def test_filtered_queue_query_count_does_not_grow_with_page_size(client, agent, account) -> None:
    isv = factories.AccountFactory(name="ISV", is_isv=True)
    _many_requests(factories.AccountFactory(name="Sub", parent=isv), 30)
    model_admin = admin.site._registry[ReassessmentRequest]
    params = {"isv": "yes", "country": "US", "service": "sms", "assignee": "unassigned", "sla": "running"}
    login(client, agent)
    counts = {}
    try:
        for per_page in (10, 25):
            model_admin.list_per_page = per_page
            with CaptureQueriesContext(connection) as queries:
                response = client.get(reverse(CHANGELIST), params)
            assert len(response.context["cl"].result_list) == per_page
            counts[per_page] = len(queries)
    finally:
        model_admin.list_per_page = 50
    assert counts[10] == counts[25], counts


def test_approve_form_says_when_the_account_has_no_active_restriction(client, agent, request_in_review) -> None:
    page = login(client, agent).get(change_url(request_in_review)).content.decode()
    assert "This account has no active restriction." in page
    response = client.post(transition_url(request_in_review, "approve"), {"approve-message": ""}, follow=True)
    request_in_review.refresh_from_db()
    assert request_in_review.state == State.APPROVED
    assert request_in_review.decision_outcome == "lifted"
    assert any("approved (restrictions lifted)" in m for m in messages_of(response))
