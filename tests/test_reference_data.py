"""Reference data that migrations create (role groups, default screening rules) survives the
database flush of transactional and live-server tests, and a fresh database has it."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group

from accounts.roles import ALL_ROLES
from tickets.models import ScreeningRule


@pytest.mark.django_db(transaction=True)
def test_a_transactional_test_flushes_the_database() -> None:
    assert Group.objects.filter(name__in=ALL_ROLES).count() == 4


@pytest.mark.django_db(transaction=True)
def test_after_a_flush_the_groups_and_rules_are_back() -> None:
    assert Group.objects.filter(name__in=ALL_ROLES).count() == 4
    assert Group.objects.get(name="Accounts team").permissions.filter(codename="view_reassessmentrequest").exists()
    assert ScreeningRule.objects.filter(category="public_shortener", pattern="bit.ly").exists()


def test_the_default_rules_cover_every_prohibited_category(db) -> None:
    categories = set(ScreeningRule.objects.values_list("category", flat=True))
    assert categories >= {"financial", "investment", "marketing", "employment", "real_estate", "gambling",
                          "regulated", "public_shortener"}
