"""Customer accounts, the restrictions applied to them and the zero-tolerance risk signals."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone


class Account(models.Model):
    name = models.CharField(max_length=200)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="owned_accounts")
    members = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="member_accounts")
    is_isv = models.BooleanField("ISV", default=False, help_text="Independent software vendor (reseller).")
    parent = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="sub_accounts",
        help_text="For an ISV's sub-account: the ISV's main account (one sub-account per end brand).",
    )
    country = models.CharField(max_length=2, blank=True, help_text="ISO 3166-1 alpha-2 code.")
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["name", "pk"]

    def __str__(self) -> str:
        return self.name

    def has_member(self, user: object) -> bool:
        """Owner or member. Cheap when `members` was prefetched."""
        user_id = getattr(user, "pk", None)
        if user_id is None:
            return False
        if self.owner_id == user_id:
            return True
        return self.members.filter(pk=user_id).exists()

    def active_restrictions(self) -> models.QuerySet[Restriction]:
        return self.restrictions.filter(status=Restriction.Status.ACTIVE)




def accounts_for_user(user: object) -> models.QuerySet[Account]:
    """The accounts a customer may act for: the ones they own or are a member of."""
    if not getattr(user, "is_authenticated", False):
        return Account.objects.none()
    return Account.objects.filter(Q(owner=user) | Q(members=user)).distinct()


class Restriction(models.Model):
    class Kind(models.TextChoices):
        HOLD_LIST = "hold_list", "Signup on hold list"
        SMS_BLOCKED = "sms_blocked", "SMS blocked"
        VOICE_BLOCKED = "voice_blocked", "Voice calls blocked"
        GEO_BLOCKED = "geo_blocked", "Destinations blocked"
        NUMBER_PURCHASE_BLOCKED = "number_purchase_blocked", "Number purchases blocked"
        SENDER_ID_SUSPENDED = "sender_id_suspended", "Sender ID suspended"
        CAMPAIGN_SUSPENDED = "campaign_suspended", "Campaign suspended"
        ACCOUNT_SUSPENDED = "account_suspended", "Account suspended"

    class Source(models.TextChoices):
        SIGNUP_RISK = "signup_risk", "Signup risk assessment"
        ANOMALY_REVIEW = "anomaly_review", "Anomaly review"
        CARRIER_COMPLAINT = "carrier_complaint", "Carrier complaint"
        COMPLIANCE_VIOLATION = "compliance_violation", "Compliance violation"

    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        LIMITED = "limited", "Limited"
        LIFTED = "lifted", "Lifted"

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="restrictions")
    kind = models.CharField(max_length=32, choices=Kind.choices)
    detail = models.CharField(max_length=500, blank=True, help_text="E.g. the blocked countries or the sender ID.")
    source = models.CharField(max_length=32, choices=Source.choices)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ACTIVE)
    applied_at = models.DateTimeField(default=timezone.now)
    applied_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    lifted_at = models.DateTimeField(null=True, blank=True)
    lifted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-applied_at", "-pk"]
        indexes = [models.Index(fields=["account", "status"])]

    def __str__(self) -> str:
        detail = f" ({self.detail})" if self.detail else ""
        return f"{self.get_kind_display()}{detail}"


class RiskSignal(models.Model):
    """A zero-tolerance practice recorded against an account by compliance or risk."""

    class Kind(models.TextChoices):
        PAYMENT_FLAGGED = "payment_flagged", "Card flagged by the payment provider"
        CARRIER_COMPLAINT = "carrier_complaint", "Carrier complaint about content or traffic"
        PHISHING_OR_SPAM = "phishing_or_spam", "Phishing, spam or AUP-violating content"
        NUMBER_HOARDING = "number_hoarding", "Numbers procured without proportionate usage"

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="risk_signals")
    kind = models.CharField(max_length=32, choices=Kind.choices)
    note = models.TextField(blank=True)
    recorded_at = models.DateTimeField(default=timezone.now)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-recorded_at", "-pk"]

    def __str__(self) -> str:
        return self.get_kind_display()


class ApiToken(models.Model):
    """A per-user API token. Only a hash is stored; the key is shown once at creation."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=12, db_index=True)
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"
