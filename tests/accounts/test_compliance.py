"""The ISV violation ladder (seed 003) and restriction lifting, as services."""

from __future__ import annotations

import pytest

from accounts.models import Restriction
from accounts.services import (
    ALL_CAMPAIGNS,
    ALL_SENDER_IDS,
    ComplianceError,
    ViolationLevel,
    compliance_violation_count,
    restrictions_lift,
    violation_ladder_apply,
)
from tests import factories
from tickets.models import Notification


@pytest.fixture
def isv(db):
    owner = factories.UserFactory(username="isaac", email="isaac@isv.example")
    return factories.AccountFactory(name="Textly ISV", is_isv=True, owner=owner)


@pytest.fixture
def brand(isv):
    return factories.AccountFactory(name="Brand One", parent=isv, owner=isv.owner)


def test_single_violation_suspends_the_named_sender_id(
    brand, compliance, django_capture_on_commit_callbacks, mailoutbox
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        (restriction,) = violation_ladder_apply(
            account=brand,
            level=ViolationLevel.SINGLE,
            target_kind="sender_id_suspended",
            target="BRANDOTP",
            note="URL shortener in OTP traffic",
            actor=compliance,
        )
    assert restriction.account == brand
    assert restriction.kind == Restriction.Kind.SENDER_ID_SUSPENDED
    assert restriction.source == Restriction.Source.COMPLIANCE_VIOLATION
    assert restriction.detail == "BRANDOTP — URL shortener in OTP traffic"
    assert restriction.applied_by == compliance
    assert [m.to for m in mailoutbox] == [["isaac@isv.example"]]
    assert "BRANDOTP" in mailoutbox[0].body


def test_single_violation_needs_a_sender_id_or_campaign(brand) -> None:
    with pytest.raises(ComplianceError, match="sender ID or a campaign"):
        violation_ladder_apply(account=brand, level=ViolationLevel.SINGLE, target="X")
    with pytest.raises(ComplianceError, match="Name the sender ID"):
        violation_ladder_apply(account=brand, level=ViolationLevel.SINGLE, target_kind="campaign_suspended", target=" ")
    assert not Restriction.objects.exists()


def test_serious_violation_suspends_all_sender_ids_and_campaigns_of_the_sub_account(brand, isv) -> None:
    applied = violation_ladder_apply(account=brand, level=ViolationLevel.SERIOUS, note="phishing")
    assert {(r.account, r.kind, r.detail) for r in applied} == {
        (brand, "sender_id_suspended", f"{ALL_SENDER_IDS} — phishing"),
        (brand, "campaign_suspended", f"{ALL_CAMPAIGNS} — phishing"),
    }
    assert not isv.restrictions.exists()
    # One email for one violation, not one per restriction.
    assert Notification.objects.filter(kind="restriction_applied").count() == 1


def test_serious_violation_on_the_isv_main_account_is_refused(isv) -> None:
    with pytest.raises(ComplianceError, match="choose that sub-account"):
        violation_ladder_apply(account=isv, level=ViolationLevel.SERIOUS)


def test_repeated_violations_suspend_the_isv_and_every_sub_account(isv, brand) -> None:
    other_owner = factories.UserFactory(username="bo", email="bo@brand2.example")
    brand2 = factories.AccountFactory(name="Brand Two", parent=isv, owner=other_owner)
    applied = violation_ladder_apply(account=brand, level=ViolationLevel.REPEATED)
    assert {r.account for r in applied} == {isv, brand, brand2}
    assert {r.kind for r in applied} == {Restriction.Kind.ACCOUNT_SUSPENDED}
    # The ISV owner (who also owns Brand One) is emailed once; Brand Two's owner once.
    recipients = sorted(e for n in Notification.objects.filter(kind="restriction_applied") for e in n.to)
    assert recipients == ["bo@brand2.example", "isaac@isv.example"]


def test_a_ladder_step_applied_twice_does_not_duplicate_restrictions(brand) -> None:
    first = violation_ladder_apply(account=brand, level=ViolationLevel.SERIOUS)
    second = violation_ladder_apply(account=brand, level=ViolationLevel.SERIOUS)
    assert [r.pk for r in first] == [r.pk for r in second]
    assert brand.restrictions.count() == 2


def test_the_ladder_is_for_isvs_only(account) -> None:
    with pytest.raises(ComplianceError, match="neither an ISV"):
        violation_ladder_apply(account=account, level=ViolationLevel.REPEATED)
    assert not account.restrictions.exists()


def test_violations_are_counted_across_the_isv(isv, brand) -> None:
    violation_ladder_apply(account=brand, level=ViolationLevel.SINGLE, target_kind="campaign_suspended", target="C1")
    factories.RestrictionFactory(account=isv, source="compliance_violation", kind="sms_blocked")
    factories.RestrictionFactory(account=isv, source="signup_risk")
    assert compliance_violation_count(brand) == 2
    assert compliance_violation_count(isv) == 2


def test_restrictions_lift_skips_lifted_ones(restriction, compliance) -> None:
    lifted = factories.RestrictionFactory(account=restriction.account, status="lifted")
    done = restrictions_lift(restrictions=[restriction, lifted], actor=compliance)
    assert [r.pk for r in done] == [restriction.pk]
    restriction.refresh_from_db()
    assert restriction.status == "lifted" and restriction.lifted_by == compliance
