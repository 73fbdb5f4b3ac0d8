from __future__ import annotations

import pytest

from accounts import services
from accounts.models import Restriction


def test_applying_a_restriction_emails_the_owner_how_to_ask_for_reassessment(
    account, compliance, mailoutbox, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        restriction = services.restriction_apply(
            account=account, kind="geo_blocked", source="anomaly_review", detail="NG, GH", actor=compliance
        )
    assert restriction.status == "active" and restriction.applied_by == compliance
    assert len(mailoutbox) == 1
    mail = mailoutbox[0]
    assert mail.to == [account.owner.email]
    assert "Destinations blocked (NG, GH)" in mail.body
    assert "reassessment" in mail.body and "certificate of incorporation" in mail.body


def test_unknown_kinds_are_refused(account) -> None:
    with pytest.raises(ValueError):
        services.restriction_apply(account=account, kind="teleport_blocked", source="signup_risk")
    with pytest.raises(ValueError):
        services.risk_signal_record(account=account, kind="bad_vibes")
    assert not Restriction.objects.exists()


def test_lifting_a_restriction(restriction, compliance) -> None:
    lifted = services.restriction_lift(restriction=restriction, actor=compliance)
    assert lifted.status == "lifted" and lifted.lifted_by == compliance and lifted.lifted_at
