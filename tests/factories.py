"""factory_boy factories. Requests are created through the services where state matters; these
factories build the starting rows (users, accounts, drafts with complete details)."""

from __future__ import annotations

from decimal import Decimal

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from accounts.models import Account, Restriction, RiskSignal
from tickets.models import ReassessmentRequest

User = get_user_model()

COMPLETE_DETAILS = {
    "company_name": "Acme Logistics LLC",
    "company_website": "https://acme-logistics.example",
    "use_case": "order_tracking",
    "use_case_details": "",
    "services": ["sms", "voice"],
    "sample_message": "Your Acme order 12345 is out for delivery and arrives today between 2 and 4 pm.",
    "destination_countries": ["US", "CA"],
    "estimated_monthly_units": 20000,
    "estimated_monthly_spend": Decimal("350.00"),
}


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    password = factory.PostGenerationMethodCall("set_password", "correct horse battery staple")

    @factory.post_generation
    def groups(self, create: bool, extracted: list[str] | None, **kwargs: object) -> None:
        if create and extracted:
            self.groups.add(*(Group.objects.get(name=name) for name in extracted))
        if create:
            self.save()


class StaffFactory(UserFactory):
    is_staff = True


class AccountFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Account
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Account {n}")
    owner = factory.SubFactory(UserFactory)
    country = "US"


class RestrictionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Restriction

    account = factory.SubFactory(AccountFactory)
    kind = Restriction.Kind.SMS_BLOCKED
    source = Restriction.Source.SIGNUP_RISK
    detail = ""


class RiskSignalFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RiskSignal

    account = factory.SubFactory(AccountFactory)
    kind = RiskSignal.Kind.PAYMENT_FLAGGED
    note = "Flagged by the payment provider."


def draft_for(account: Account, user: object | None = None, **overrides: object) -> ReassessmentRequest:
    """A complete draft created through the service, as a customer would."""
    from tickets.services import request_create_draft

    details = {**COMPLETE_DETAILS, **overrides}
    return request_create_draft(actor=user or account.owner, account=account, details=details)
