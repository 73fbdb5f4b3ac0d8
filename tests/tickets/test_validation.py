"""The mandatory details: each field's error, in words a customer understands."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tests import factories
from tickets import services
from tickets.errors import InvalidInput
from tickets.models import ReassessmentRequest, State
from tickets.validation import clean_details, missing_details


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("company_website", "ftp://acme.example", "must be an http:// or https:// address"),
        ("company_website", "https://", "full address"),
        ("company_name", "x" * 201, "at most 200 characters"),
        ("use_case", "crypto_pump", "Choose a use case from the list"),
        ("services", ["sms", "fax"], "Unknown service fax"),
        ("services", "sms,voice", "Unknown service sms,voice"),
        ("destination_countries", ["US", "XX"], "XX is not an ISO 3166-1 country code"),
        ("destination_countries", ["USA", "ZZ"], "USA, ZZ are not ISO 3166-1 country codes"),
        ("destination_countries", {"US": 1}, "list of two-letter country codes"),
        ("estimated_monthly_units", 0, "greater than 0"),
        ("estimated_monthly_units", -5, "greater than 0"),
        ("estimated_monthly_units", "many", "whole number"),
        ("estimated_monthly_units", 2.5, "whole number"),
        ("estimated_monthly_units", True, "whole number"),
        ("estimated_monthly_spend", "0", "greater than 0"),
        ("estimated_monthly_spend", "ten dollars", "amount in US dollars"),
        ("estimated_monthly_spend", "NaN", "amount in US dollars"),
        ("estimated_monthly_spend", "10.555", "two decimal places"),
        ("sample_message", "a\x00b", "not allowed"),
    ],
)
def test_each_bad_detail_gets_its_own_clear_message(field, value, message) -> None:
    cleaned, errors = clean_details({field: value})
    assert field not in cleaned
    assert any(message in text for text in errors[field]), errors


def test_good_details_are_normalised() -> None:
    cleaned, errors = clean_details(
        {
            "company_website": "acme.example",
            "destination_countries": ["us", "GB", "us"],
            "services": ["voice", "sms", "sms"],
            "estimated_monthly_units": "20,000",
            "estimated_monthly_spend": "$1,250.5",
        }
    )
    assert errors == {}
    assert cleaned == {
        "company_website": "https://acme.example",
        "destination_countries": ["US", "GB"],
        "services": ["sms", "voice"],
        "estimated_monthly_units": 20000,
        "estimated_monthly_spend": Decimal("1250.50"),
    }


@pytest.mark.parametrize(
    ("field", "message"),
    [
        ("company_name", "Enter your company name"),
        ("company_website", "Enter your company website"),
        ("use_case", "Choose what you will use the service for."),
        ("services", "Choose at least one service"),
        ("destination_countries", "Choose at least one country"),
        ("estimated_monthly_units", "estimated units"),
        ("estimated_monthly_spend", "estimated spend"),
    ],
)
def test_submit_names_each_missing_mandatory_detail(field, message, account, customer) -> None:
    empty = {"services": [], "destination_countries": [], "estimated_monthly_units": None,
             "estimated_monthly_spend": None}.get(field, "")
    draft = factories.draft_for(account, customer, **{field: empty})
    with pytest.raises(InvalidInput) as refused:
        services.request_submit(request_id=draft.pk, actor=customer)
    assert list(refused.value.errors) == [field]
    assert message in refused.value.errors[field][0]
    draft.refresh_from_db()
    assert draft.state == State.DRAFT and draft.sla_cycle == 0


def test_a_sample_message_is_required_when_sms_is_among_the_services(account, customer) -> None:
    draft = factories.draft_for(account, customer, services=["voice", "sms"], sample_message="")
    with pytest.raises(InvalidInput) as refused:
        services.request_submit(request_id=draft.pk, actor=customer)
    assert refused.value.errors == {
        "sample_message": ["A sample message is required when SMS is among the services."]
    }


def test_voice_only_needs_no_sample_message(account, customer) -> None:
    draft = factories.draft_for(account, customer, services=["voice"], sample_message="")
    assert services.request_submit(request_id=draft.pk, actor=customer).state == State.SUBMITTED


def test_use_case_other_needs_details(account, customer) -> None:
    assert missing_details({"use_case": "other", "use_case_details": ""})["use_case_details"] == [
        'Describe your use case when you choose "Other".'
    ]
    draft = factories.draft_for(account, customer, use_case="other", use_case_details="Appointment reminders")
    assert services.request_submit(request_id=draft.pk, actor=customer).state == State.SUBMITTED


def test_an_empty_draft_lists_every_missing_field_at_once(account, customer) -> None:
    draft = services.request_create_draft(actor=customer, account=account, details={})
    with pytest.raises(InvalidInput) as refused:
        services.request_submit(request_id=draft.pk, actor=customer)
    assert set(refused.value.errors) == {
        "company_name", "company_website", "use_case", "services", "destination_countries",
        "estimated_monthly_units", "estimated_monthly_spend",
    }


def test_a_draft_with_a_bad_detail_is_not_created(account, customer) -> None:
    with pytest.raises(InvalidInput) as refused:
        services.request_create_draft(actor=customer, account=account, details={"destination_countries": ["XX"]})
    assert "destination_countries" in refused.value.errors
    assert not ReassessmentRequest.objects.exists()


def test_only_a_draft_can_be_edited(submitted_request, customer) -> None:
    from tickets.errors import StateConflict

    with pytest.raises(StateConflict):
        services.request_update_draft(request_id=submitted_request.pk, actor=customer, details={"company_name": "X"})
    submitted_request.refresh_from_db()
    assert submitted_request.company_name == factories.COMPLETE_DETAILS["company_name"]


def test_editing_a_draft_refuses_unknown_fields(draft, customer) -> None:
    with pytest.raises(InvalidInput) as refused:
        services.request_update_draft(request_id=draft.pk, actor=customer, details={"state": "approved"})
    assert refused.value.errors == {"state": ["This field cannot be changed."]}


def test_a_user_in_several_accounts_must_name_one(customer, account) -> None:
    factories.AccountFactory(name="Second brand", owner=customer)
    with pytest.raises(InvalidInput) as refused:
        services.request_create_draft(actor=customer, details={})
    assert "several accounts" in refused.value.errors["account"][0]
    assert services.request_create_draft(actor=customer, account=account, details={}).account == account


def test_the_only_account_is_the_default(customer, account) -> None:
    assert services.request_create_draft(actor=customer, details={}).account == account


def test_nobody_files_for_someone_elses_account(outsider, account) -> None:
    with pytest.raises(InvalidInput):
        services.request_create_draft(actor=outsider, account=account, details={})
    assert not ReassessmentRequest.objects.filter(account=account).exists()
