"""The four staff roles (groups) and what each may do.

The groups themselves are created by a data migration; their model permissions are granted in a
post_migrate handler because permission rows do not exist yet while migrations run.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser, Group, Permission

ACCOUNTS_TEAM = "Accounts team"
SENIOR_REVIEWERS = "Senior reviewers"
MANAGERS = "Managers"
COMPLIANCE = "Compliance"
ALL_ROLES = (ACCOUNTS_TEAM, SENIOR_REVIEWERS, MANAGERS, COMPLIANCE)

_VIEW = ("view",)
_ALL = ("add", "change", "delete", "view")

# (app_label, model) -> actions, per group. State changes of requests never go through the
# `change` permission alone: the services check roles; `change` only opens the admin page.
ROLE_PERMISSIONS: dict[str, dict[tuple[str, str], tuple[str, ...]]] = {
    ACCOUNTS_TEAM: {
        ("tickets", "reassessmentrequest"): ("view", "change"),
        ("tickets", "message"): ("view", "add"),
        ("tickets", "evidence"): _VIEW,
        ("tickets", "requesttransition"): _VIEW,
        ("tickets", "screeningflag"): _VIEW,
        ("tickets", "slacycle"): _VIEW,
        ("tickets", "slaevent"): _VIEW,
        ("accounts", "account"): _VIEW,
        ("accounts", "restriction"): _VIEW,
        ("accounts", "risksignal"): _VIEW,
    },
    MANAGERS: {
        ("tickets", "reassessmentrequest"): _VIEW,
        ("tickets", "message"): _VIEW,
        ("tickets", "evidence"): _VIEW,
        ("tickets", "requesttransition"): _VIEW,
        ("tickets", "screeningflag"): _VIEW,
        ("tickets", "screeningrule"): _VIEW,
        ("tickets", "slacycle"): _VIEW,
        ("tickets", "slaevent"): _VIEW,
        ("tickets", "notification"): _VIEW,
        ("accounts", "account"): _VIEW,
        ("accounts", "restriction"): _VIEW,
        ("accounts", "risksignal"): _VIEW,
    },
    COMPLIANCE: {
        ("tickets", "reassessmentrequest"): _VIEW,
        ("tickets", "screeningflag"): _VIEW,
        ("tickets", "screeningrule"): _ALL,
        ("accounts", "account"): ("view", "change"),
        ("accounts", "restriction"): ("view", "add", "change"),
        ("accounts", "risksignal"): ("view", "add", "change"),
    },
}
# Senior reviewers do everything the accounts team does; the services add the senior transitions.
ROLE_PERMISSIONS[SENIOR_REVIEWERS] = dict(ROLE_PERMISSIONS[ACCOUNTS_TEAM])


def grant_role_permissions(sender: Any = None, **kwargs: Any) -> None:
    """Create the groups if missing and give each exactly the permissions listed above."""
    using = kwargs.get("using", "default")
    for group_name, grants in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.using(using).get_or_create(name=group_name)
        wanted = []
        for (app_label, model), actions in grants.items():
            codenames = [f"{action}_{model}" for action in actions]
            wanted.extend(
                Permission.objects.using(using).filter(content_type__app_label=app_label, codename__in=codenames)
            )
        group.permissions.add(*wanted)


def _group_names(user: AbstractBaseUser | AnonymousUser | None) -> frozenset[str]:
    if user is None or not user.is_authenticated:
        return frozenset()
    cached = getattr(user, "_casemgr_groups", None)
    if cached is None:
        cached = frozenset(user.groups.values_list("name", flat=True))
        user._casemgr_groups = cached  # type: ignore[union-attr]
    return cached


def has_role(user: AbstractBaseUser | AnonymousUser | None, *names: str) -> bool:
    """Superusers hold every role; everybody else by group membership (staff flag required)."""
    if user is None or not user.is_authenticated or not user.is_active:
        return False
    if user.is_superuser:
        return True
    return bool(user.is_staff and _group_names(user) & set(names))


def is_agent(user: AbstractBaseUser | AnonymousUser | None) -> bool:
    """Deciding cycle 1: any member of the accounts team, senior reviewers included."""
    return has_role(user, ACCOUNTS_TEAM, SENIOR_REVIEWERS)


def is_senior(user: AbstractBaseUser | AnonymousUser | None) -> bool:
    return has_role(user, SENIOR_REVIEWERS)


def is_manager(user: AbstractBaseUser | AnonymousUser | None) -> bool:
    return has_role(user, MANAGERS)


def is_compliance(user: AbstractBaseUser | AnonymousUser | None) -> bool:
    return has_role(user, COMPLIANCE)


def is_staff_member(user: AbstractBaseUser | AnonymousUser | None) -> bool:
    """Any staff role: may read every request (admin, staff API)."""
    return has_role(user, *ALL_ROLES)
