from __future__ import annotations

import pytest
from django.contrib.auth.models import Group

from accounts.roles import ALL_ROLES, is_agent, is_compliance, is_manager, is_senior, is_staff_member
from tests import factories


def test_the_four_role_groups_exist_with_their_permissions(db) -> None:
    assert set(Group.objects.values_list("name", flat=True)) >= set(ALL_ROLES)
    team = set(Group.objects.get(name="Accounts team").permissions.values_list("codename", flat=True))
    assert {"view_reassessmentrequest", "change_reassessmentrequest", "view_evidence", "add_message"} <= team
    assert "delete_reassessmentrequest" not in team
    managers = set(Group.objects.get(name="Managers").permissions.values_list("codename", flat=True))
    assert "view_reassessmentrequest" in managers and "change_reassessmentrequest" not in managers
    compliance = set(Group.objects.get(name="Compliance").permissions.values_list("codename", flat=True))
    assert {"add_restriction", "change_restriction", "add_risksignal", "change_screeningrule"} <= compliance


@pytest.mark.parametrize(
    ("groups", "staff", "agent", "senior", "manager", "compliance"),
    [
        (["Accounts team"], True, True, False, False, False),
        (["Accounts team", "Senior reviewers"], True, True, True, False, False),
        (["Senior reviewers"], True, True, True, False, False),
        (["Managers"], True, False, False, True, False),
        (["Compliance"], True, False, False, False, True),
        (["Accounts team"], False, False, False, False, False),  # not staff: no role
        ([], True, False, False, False, False),
    ],
)
def test_roles_follow_groups_and_the_staff_flag(db, groups, staff, agent, senior, manager, compliance) -> None:
    user = factories.UserFactory(is_staff=staff, groups=groups)
    assert (is_agent(user), is_senior(user), is_manager(user), is_compliance(user)) == (
        agent, senior, manager, compliance,
    )
    assert is_staff_member(user) == any((agent, senior, manager, compliance))


def test_a_superuser_holds_every_role(db) -> None:
    root = factories.UserFactory(is_staff=True, is_superuser=True)
    assert is_agent(root) and is_senior(root) and is_manager(root) and is_compliance(root)


def test_an_inactive_user_holds_no_role(db) -> None:
    user = factories.UserFactory(is_staff=True, is_active=False, groups=["Accounts team"])
    assert not is_agent(user)
