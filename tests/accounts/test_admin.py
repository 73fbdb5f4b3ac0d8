"""Compliance tools through the admin's HTTP views: applying and lifting restrictions, recording
risk signals, the violation ladder action, screening rules, and who may do each."""

from __future__ import annotations

from django.urls import reverse

from accounts.models import Restriction, RiskSignal
from tests import factories
from tickets.models import ScreeningRule

ACCOUNTS = "admin:accounts_account_changelist"


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def run_action(client, action: str, accounts, **data):
    """Post an account action; with `data` it is the intermediate form's Apply."""
    payload = {"action": action, "_selected_action": [a.pk for a in accounts]}
    if data:
        payload.update(data, apply="Apply")
    else:
        payload["index"] = 0
    return client.post(reverse(ACCOUNTS), payload, follow=True)


def test_compliance_applies_a_restriction_and_the_owner_is_emailed(
    client, compliance, account, django_capture_on_commit_callbacks, mailoutbox
) -> None:
    client.force_login(compliance)
    form_page = run_action(client, "apply_restriction", [account])
    assert form_page.status_code == 200
    assert "Apply a restriction" in form_page.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = run_action(
            client, "apply_restriction", [account], kind="geo_blocked", source="anomaly_review", detail="NG, GH"
        )
    restriction = Restriction.objects.get(account=account)
    assert (restriction.kind, restriction.detail, restriction.applied_by) == ("geo_blocked", "NG, GH", compliance)
    assert any("Destinations blocked applied to Acme Logistics" in m for m in messages_of(response))
    assert [m.to for m in mailoutbox] == [["carla@acme.example"]]
    assert "/requests/new/" in mailoutbox[0].body


def test_apply_restriction_form_errors_are_shown(client, compliance, account) -> None:
    client.force_login(compliance)
    response = run_action(client, "apply_restriction", [account], kind="nonsense", source="anomaly_review")
    assert response.status_code == 400
    assert "Select a valid choice" in response.content.decode()
    assert not Restriction.objects.exists()


def test_agents_and_managers_cannot_apply_restrictions(client, agent, manager, account) -> None:
    for user in (agent, manager):
        client.force_login(user)
        page = client.get(reverse("admin:accounts_account_change", args=[account.pk])).content.decode()
        assert "apply_restriction" not in page
        run_action(client, "apply_restriction", [account], kind="sms_blocked", source="anomaly_review")
        assert not Restriction.objects.exists()
        assert client.get(reverse("admin:accounts_restriction_add")).status_code == 403


def test_account_page_offers_compliance_actions_and_shows_history(client, compliance, account, restriction) -> None:
    factories.RiskSignalFactory(account=account, kind="carrier_complaint", note="Complaint from carrier X")
    client.force_login(compliance)
    page = client.get(reverse("admin:accounts_account_change", args=[account.pk])).content.decode()
    for action in ("apply_restriction", "record_risk_signal", "apply_violation_ladder"):
        assert f'id="tool-{action}"' in page
    assert "SMS blocked" in page and "Complaint from carrier X" in page


def test_compliance_records_a_risk_signal(client, compliance, account) -> None:
    client.force_login(compliance)
    response = run_action(client, "record_risk_signal", [account], kind="phishing_or_spam", note="Phishing kit")
    signal = RiskSignal.objects.get(account=account)
    assert (signal.kind, signal.note, signal.recorded_by) == ("phishing_or_spam", "Phishing kit", compliance)
    assert any("rejected automatically" in m for m in messages_of(response))
    assert response.redirect_chain[-1][0] == reverse("admin:accounts_account_change", args=[account.pk])


def test_compliance_lifts_restrictions_from_the_restriction_list(client, compliance, restriction) -> None:
    client.force_login(compliance)
    response = client.post(
        reverse("admin:accounts_restriction_changelist"),
        {"action": "lift_selected", "_selected_action": [restriction.pk], "index": 0},
        follow=True,
    )
    restriction.refresh_from_db()
    assert restriction.status == Restriction.Status.LIFTED
    assert restriction.lifted_by == compliance
    assert "Lifted 1 restriction(s)." in messages_of(response)


def test_agent_cannot_lift_restrictions(client, agent, restriction) -> None:
    client.force_login(agent)
    client.post(
        reverse("admin:accounts_restriction_changelist"),
        {"action": "lift_selected", "_selected_action": [restriction.pk], "index": 0},
    )
    restriction.refresh_from_db()
    assert restriction.status == Restriction.Status.ACTIVE


def test_adding_a_restriction_in_admin_goes_through_the_service(
    client, compliance, account, django_capture_on_commit_callbacks, mailoutbox
) -> None:
    client.force_login(compliance)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("admin:accounts_restriction_add"),
            {"account": account.pk, "kind": "voice_blocked", "source": "carrier_complaint", "detail": ""},
        )
    assert response.status_code == 302
    restriction = Restriction.objects.get()
    assert restriction.applied_by == compliance
    assert len(mailoutbox) == 1
    # Restrictions are never edited in place.
    edit = client.post(reverse("admin:accounts_restriction_change", args=[restriction.pk]), {"detail": "x"})
    assert edit.status_code == 403


def test_violation_ladder_action_applies_the_step(client, compliance) -> None:
    isv = factories.AccountFactory(name="Textly ISV", is_isv=True)
    brand = factories.AccountFactory(name="Brand One", parent=isv, owner=isv.owner)
    client.force_login(compliance)
    form_page = run_action(client, "apply_violation_ladder", [brand])
    assert "Violation ladder for Brand One" in form_page.content.decode()
    assert "0 earlier compliance-violation restrictions" in form_page.content.decode()
    missing = run_action(client, "apply_violation_ladder", [brand], level="single", target_kind="", target="")
    assert missing.status_code == 400
    assert "Name the sender ID or campaign to suspend." in missing.content.decode()
    response = run_action(client, "apply_violation_ladder", [brand], level="serious", note="Phishing links")
    assert {r.kind for r in brand.restrictions.all()} == {"sender_id_suspended", "campaign_suspended"}
    assert any("Violation ladder applied" in m for m in messages_of(response))


def test_violation_ladder_refuses_a_direct_customer_and_the_main_account_for_serious(
    client, compliance, account
) -> None:
    client.force_login(compliance)
    response = run_action(client, "apply_violation_ladder", [account])
    assert any("neither an ISV" in m for m in messages_of(response))
    isv = factories.AccountFactory(name="Textly ISV", is_isv=True)
    refused = run_action(client, "apply_violation_ladder", [isv], level="serious")
    assert refused.status_code == 400
    assert "choose that sub-account" in refused.content.decode()
    assert not Restriction.objects.exists()


def test_compliance_edits_screening_rules_and_regexes_are_validated(client, compliance) -> None:
    client.force_login(compliance)
    add = reverse("admin:tickets_screeningrule_add")
    bad = client.post(add, {"category": "gambling", "match_type": "regex", "pattern": "bet(", "is_active": "on"})
    assert bad.status_code == 200
    assert "This is not a valid regular expression" in bad.content.decode()
    empty = client.post(add, {"category": "gambling", "match_type": "regex", "pattern": "x*", "is_active": "on"})
    assert "matches empty text" in empty.content.decode()
    domain = client.post(
        add, {"category": "isv_shortener", "match_type": "domain", "pattern": "https://go.isv.example/x"}
    )
    assert "Give a domain name" in domain.content.decode()
    good = client.post(
        add, {"category": "gambling", "match_type": "regex", "pattern": r"free\s+spins?", "is_active": "on"}
    )
    assert good.status_code == 302
    assert ScreeningRule.objects.filter(pattern=r"free\s+spins?").exists()


def test_agents_read_but_do_not_edit_screening_rules(client, agent) -> None:
    client.force_login(agent)
    assert client.get(reverse("admin:tickets_screeningrule_add")).status_code == 403


def test_customers_never_get_into_the_admin(client, customer) -> None:
    client.force_login(customer)
    response = client.get(reverse(ACCOUNTS))
    assert response.status_code == 302
    assert reverse("admin:login") in response["Location"]
