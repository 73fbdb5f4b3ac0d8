"""Reassessment requests, their state machine, messages, evidence, audit trail and SLA records.

Transition methods on ReassessmentRequest only change fields on `self`. Every use case (locking,
permission checks, saving, audit rows, notifications) lives in tickets/services.py.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.conf import settings
from django.core.files.storage import Storage
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django_fsm import RETURN_VALUE, FSMField, FSMModelMixin, transition

from accounts.models import Account, Restriction


class State(models.TextChoices):
    DRAFT = "draft", "Draft"
    SUBMITTED = "submitted", "Submitted"
    IN_REVIEW = "in_review", "In review"
    AWAITING_CUSTOMER = "awaiting_customer", "Awaiting customer"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"
    REEVALUATION_REQUESTED = "reevaluation_requested", "Re-evaluation requested"
    IN_REEVALUATION = "in_reevaluation", "In re-evaluation"
    REJECTED_FINAL = "rejected_final", "Rejected (final)"
    WITHDRAWN = "withdrawn", "Withdrawn"


FINAL_STATES = frozenset({State.APPROVED, State.REJECTED_FINAL, State.WITHDRAWN})
# States in which the accounts team owes the customer work (and an SLA cycle may run).
OPEN_STATES = frozenset(
    {
        State.SUBMITTED,
        State.IN_REVIEW,
        State.AWAITING_CUSTOMER,
        State.REEVALUATION_REQUESTED,
        State.IN_REEVALUATION,
    }
)
WITHDRAWABLE_STATES = [
    State.DRAFT,
    State.SUBMITTED,
    State.IN_REVIEW,
    State.AWAITING_CUSTOMER,
    State.REEVALUATION_REQUESTED,
]


class UseCase(models.TextChoices):
    OTP = "otp", "One-time passwords (OTP)"
    ORDER_TRACKING = "order_tracking", "Order tracking"
    NOTIFICATIONS = "notifications", "Notifications and alerts"
    CUSTOMER_SUPPORT = "customer_support", "Customer support"
    CONVERSATIONAL = "conversational", "Conversational messaging"
    MARKETING = "marketing", "Marketing"
    VOICE_IVR = "voice_ivr", "Voice IVR"
    CALL_CENTER = "call_center", "Call center"
    SIP_TRUNKING = "sip_trunking", "SIP trunking"
    OTHER = "other", "Other"


class Service(models.TextChoices):
    SMS = "sms", "SMS API"
    VOICE = "voice", "Voice API"
    ZENTRUNK = "zentrunk", "Zentrunk (SIP trunking)"


class ReasonCode(models.TextChoices):
    INSUFFICIENT_DETAILS = "insufficient_details", "Insufficient details"
    UNVERIFIABLE_BUSINESS = "unverifiable_business", "Unverifiable business"
    HIGH_RISK_USE_CASE = "high_risk_use_case", "High-risk use case"
    PROHIBITED_CONTENT = "prohibited_content", "Prohibited content"
    ZT_PAYMENT_FLAGGED = "zt_payment_flagged", "Zero tolerance: payment flagged"
    ZT_CARRIER_COMPLAINT = "zt_carrier_complaint", "Zero tolerance: carrier complaint"
    ZT_PHISHING_OR_SPAM = "zt_phishing_or_spam", "Zero tolerance: phishing or spam"
    ZT_NUMBER_HOARDING = "zt_number_hoarding", "Zero tolerance: number hoarding"
    OTHER = "other", "Other"


ZERO_TOLERANCE_REASONS = frozenset(
    {
        ReasonCode.ZT_PAYMENT_FLAGGED,
        ReasonCode.ZT_CARRIER_COMPLAINT,
        ReasonCode.ZT_PHISHING_OR_SPAM,
        ReasonCode.ZT_NUMBER_HOARDING,
    }
)
# Risk signal kind -> the zero-tolerance reason an auto-rejection records.
RISK_SIGNAL_REASONS = {
    "payment_flagged": ReasonCode.ZT_PAYMENT_FLAGGED,
    "carrier_complaint": ReasonCode.ZT_CARRIER_COMPLAINT,
    "phishing_or_spam": ReasonCode.ZT_PHISHING_OR_SPAM,
    "number_hoarding": ReasonCode.ZT_NUMBER_HOARDING,
}


class Outcome(models.TextChoices):
    LIFTED = "lifted", "Restrictions lifted"
    LIMITED = "limited", "Restrictions limited"


class SlaStatus(models.TextChoices):
    RUNNING = "running", "Running"
    PAUSED = "paused", "Paused"
    AT_RISK = "at_risk", "At risk"
    OVERDUE = "overdue", "Overdue"
    BREACHED = "breached", "Breached"
    MET = "met", "Met"
    LATE = "late", "Late"
    MISSED = "missed", "Missed"


class SlaEventKind(models.TextChoices):
    AT_RISK = "at_risk", "At risk"
    OVERDUE = "overdue", "Overdue"
    BREACHED = "breached", "Breached"


class FinalRequestError(Exception):
    """Raised when code tries to change or delete a request in a final state."""


class ReassessmentRequestQuerySet(models.QuerySet["ReassessmentRequest"]):
    def delete(self) -> tuple[int, dict[str, int]]:
        # SQLite has no delete trigger (it would break the test runner's flush), so the ORM refuses.
        if self.filter(state__in=FINAL_STATES).exists():
            raise FinalRequestError("A request in a final state cannot be deleted.")
        return super().delete()

    def open(self) -> ReassessmentRequestQuerySet:
        return self.filter(state__in=OPEN_STATES)

    def for_customer(self, user: Any) -> ReassessmentRequestQuerySet:
        from accounts.models import accounts_for_user

        # The account ids first (a tiny query): inlined as a subquery, the owner-or-member OR makes
        # PostgreSQL expect most accounts and scan every request (1.5 s at a million requests,
        # against 15 ms for `account_id IN (...)` on the account index).
        return self.filter(account_id__in=list(accounts_for_user(user).values_list("pk", flat=True)))

    def with_sla_status(self, now: datetime | None = None) -> ReassessmentRequestQuerySet:
        from .sla import sla_status_expression

        return self.annotate(sla_status_now=sla_status_expression(now or timezone.now()))

    def filter_sla_status(self, status: str, now: datetime | None = None) -> ReassessmentRequestQuerySet:
        from .sla import sla_status_q

        return self.filter(sla_status_q(status, now or timezone.now()))


# Time conditions of transitions. They live on the transitions themselves, so `can_proceed` (the
# services' check, and every "what may I do now" list built on it) applies the same rule.
def reevaluation_window_open(req: ReassessmentRequest) -> bool:
    """Once only, and until `reevaluation_due_at` (REEVALUATION_WINDOW_DAYS after the rejection)."""
    from . import clock

    return (
        req.reevaluation_requested_at is None
        and req.reevaluation_due_at is not None
        and clock.now() <= req.reevaluation_due_at
    )


def reevaluation_window_passed(req: ReassessmentRequest) -> bool:
    from . import clock

    return req.reevaluation_due_at is not None and req.reevaluation_due_at <= clock.now()


def info_request_expired(req: ReassessmentRequest) -> bool:
    from . import clock

    return req.info_due_at is not None and req.info_due_at <= clock.now()


class ReassessmentRequest(FSMModelMixin, models.Model):
    reference = models.CharField(max_length=24, unique=True, editable=False)
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="reassessment_requests")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    state = FSMField(default=State.DRAFT, choices=State.choices, protected=True, db_index=True)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="assigned_requests",
    )

    # The mandatory details (the seed's list). Drafts may leave them empty; submit checks them all.
    company_name = models.CharField(max_length=200, blank=True)
    company_website = models.URLField(max_length=500, blank=True)
    use_case = models.CharField(max_length=32, choices=UseCase.choices, blank=True)
    use_case_details = models.TextField(blank=True, max_length=5000)
    services = models.JSONField(default=list, blank=True)
    sample_message = models.TextField(blank=True, max_length=2000)
    destination_countries = models.JSONField(default=list, blank=True)
    estimated_monthly_units = models.PositiveBigIntegerField(null=True, blank=True)
    estimated_monthly_spend = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    reevaluation_details = models.TextField(blank=True, max_length=10000)

    # SLA of the current cycle (tickets/sla.py is the only writer). Cycle history: SlaCycle.
    sla_cycle = models.PositiveSmallIntegerField(default=0)
    # When the running clock last started: the cycle's start, or the last resume after a pause.
    sla_clock_started_at = models.DateTimeField(null=True, blank=True)
    sla_at_risk_at = models.DateTimeField(null=True, blank=True)
    sla_target_at = models.DateTimeField(null=True, blank=True)
    sla_breach_at = models.DateTimeField(null=True, blank=True)
    sla_paused_at = models.DateTimeField(null=True, blank=True)
    sla_stopped_at = models.DateTimeField(null=True, blank=True)
    # Business seconds the current cycle had used when it was last paused (0 while never paused).
    sla_used_before_pause = models.FloatField(default=0)
    # The sweep's cursor: the next SLA event of the running cycle and when it is due.
    sla_next_event = models.CharField(max_length=16, choices=SlaEventKind.choices, blank=True)
    sla_next_event_at = models.DateTimeField(null=True, blank=True)

    # Timers of the system transitions.
    info_requested_at = models.DateTimeField(null=True, blank=True)
    info_due_at = models.DateTimeField(null=True, blank=True)
    info_reminder_sent = models.BooleanField(default=False)
    reevaluation_due_at = models.DateTimeField(null=True, blank=True)

    # Figures and decision.
    submitted_at = models.DateTimeField(null=True, blank=True)
    first_response_at = models.DateTimeField(null=True, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    cycle1_decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="Who rejected in cycle 1; may not take the re-evaluation.",
    )
    decision_outcome = models.CharField(max_length=16, choices=Outcome.choices, blank=True)
    reason_code = models.CharField(max_length=32, choices=ReasonCode.choices, blank=True)
    auto_rejected = models.BooleanField(default=False)
    rejected_at = models.DateTimeField(null=True, blank=True)
    reevaluation_requested_at = models.DateTimeField(null=True, blank=True)
    lifted_restrictions = models.ManyToManyField(Restriction, blank=True, related_name="lifted_by_requests")
    screened_at = models.DateTimeField(null=True, blank=True)

    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ReassessmentRequestQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        permissions = [
            ("decide_reassessmentrequest", "Can claim and decide reassessment requests"),
        ]
        indexes = [
            # The sweep: due SLA events and system transitions, via partial indexes.
            models.Index(
                fields=["sla_next_event_at"], name="rr_sla_next_event", condition=Q(sla_next_event_at__isnull=False)
            ),
            models.Index(
                fields=["info_due_at"], name="rr_info_due", condition=Q(state=State.AWAITING_CUSTOMER)
            ),
            models.Index(
                fields=["reevaluation_due_at"], name="rr_reeval_due", condition=Q(state=State.REJECTED)
            ),
            # The sweep's search for submissions whose screening task was lost: empty in a healthy
            # system, so the idle sweep reads nothing (without it, ~1.3 s at a million requests).
            models.Index(
                fields=["submitted_at"],
                name="rr_unscreened",
                condition=Q(state=State.SUBMITTED, screened_at__isnull=True),
            ),
            # SLA status filters (tickets/sla.py sla_status_q): running cycles by their at-risk instant.
            models.Index(
                fields=["sla_at_risk_at"],
                name="rr_sla_running",
                condition=Q(sla_cycle__gt=0, sla_stopped_at__isnull=True, sla_paused_at__isnull=True),
            ),
            # The queue: open requests by urgency, per assignee.
            models.Index(fields=["state", "sla_breach_at"], name="rr_state_breach"),
            # The admin queue's default page: open requests in exactly its order, read in index order.
            models.Index(
                fields=["sla_breach_at", "submitted_at", "id"],
                name="rr_open_queue",
                condition=Q(
                    state__in=[
                        "awaiting_customer", "in_reevaluation", "in_review", "reevaluation_requested", "submitted"
                    ]
                ),
            ),
            # The staff API's default order over every request: breach deadline (empty ones last), id.
            models.Index(fields=["sla_breach_at", "id"], name="rr_breach_id"),
            # Running cycles by breach deadline: the report's and the API's "breached / overdue now"
            # lists, without walking the closed requests whose old deadlines fill rr_breach_id.
            models.Index(
                fields=["sla_breach_at", "id"],
                name="rr_running_breach",
                condition=Q(sla_cycle__gt=0, sla_stopped_at__isnull=True, sla_paused_at__isnull=True),
            ),
            models.Index(fields=["assignee", "state"], name="rr_assignee_state"),
            models.Index(fields=["sla_target_at"], name="rr_sla_target"),
            models.Index(fields=["account", "-created_at"], name="rr_account_created"),
            models.Index(fields=["decided_at"], name="rr_decided_at"),
            models.Index(fields=["submitted_at"], name="rr_submitted_at"),
            # The SLA report: backlog figures over every open request read index-only (PostgreSQL
            # INCLUDE), and the most overdue open requests first.
            models.Index(
                fields=["sla_breach_at"],
                include=["assignee", "sla_target_at", "sla_at_risk_at", "sla_paused_at", "sla_stopped_at", "sla_cycle"],
                condition=Q(state__in=sorted(OPEN_STATES)),
                name="rr_report_open",
            ),
        ]

    def __str__(self) -> str:
        return self.reference

    # --- reads ------------------------------------------------------------------------------

    @property
    def is_final(self) -> bool:
        return self.state in FINAL_STATES

    @property
    def sla_status(self) -> str:
        """True at the moment it is read (not as of the last sweep)."""
        from .sla import sla_status_of

        return sla_status_of(self, timezone.now())

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        if self.is_final:
            raise FinalRequestError(f"{self.reference} is final and cannot be deleted.")
        return super().delete(*args, **kwargs)

    # --- transitions: fields on self only ---------------------------------------------------------

    @transition(field=state, source=State.DRAFT, target=State.SUBMITTED)
    def submit(self, *, at: datetime) -> None:
        self.submitted_at = at

    @transition(field=state, source=State.SUBMITTED, target=State.REJECTED_FINAL)
    def auto_reject(self, *, at: datetime, reason_code: str) -> None:
        self._decide(at=at, by=None, reason_code=reason_code)
        self.auto_rejected = True

    @transition(field=state, source=State.SUBMITTED, target=State.IN_REVIEW)
    def claim(self, *, by: Any) -> None:
        self.assignee = by

    @transition(field=state, source=State.IN_REVIEW, target=State.AWAITING_CUSTOMER)
    def request_info(self, *, at: datetime, due_at: datetime) -> None:
        self.info_requested_at = at
        self.info_due_at = due_at
        self.info_reminder_sent = False

    @transition(field=state, source=State.AWAITING_CUSTOMER, target=State.IN_REVIEW)
    def provide_info(self) -> None:
        self.info_due_at = None

    @transition(
        field=state, source=State.AWAITING_CUSTOMER, target=State.REJECTED, conditions=[info_request_expired]
    )
    def expire_info_request(self, *, at: datetime, reevaluation_due_at: datetime) -> None:
        self.info_due_at = None
        self._decide(at=at, by=None, reason_code=ReasonCode.INSUFFICIENT_DETAILS)
        self.rejected_at = at
        self.reevaluation_due_at = reevaluation_due_at

    @transition(field=state, source=[State.IN_REVIEW, State.IN_REEVALUATION], target=State.APPROVED)
    def approve(self, *, at: datetime, by: Any, outcome: str) -> None:
        self._decide(at=at, by=by, reason_code="")
        self.decision_outcome = outcome

    @transition(field=state, source=State.IN_REVIEW, target=RETURN_VALUE(State.REJECTED, State.REJECTED_FINAL))
    def reject(self, *, at: datetime, by: Any, reason_code: str, reevaluation_due_at: datetime) -> str:
        self._decide(at=at, by=by, reason_code=reason_code)
        self.cycle1_decided_by = by
        if reason_code in ZERO_TOLERANCE_REASONS:
            return State.REJECTED_FINAL
        self.rejected_at = at
        self.reevaluation_due_at = reevaluation_due_at
        return State.REJECTED

    @transition(
        field=state, source=State.REJECTED, target=State.REEVALUATION_REQUESTED, conditions=[reevaluation_window_open]
    )
    def request_reevaluation(self, *, at: datetime, details: str) -> None:
        self.reevaluation_details = details
        self.reevaluation_requested_at = at
        self.reevaluation_due_at = None
        # Cycle 2 is decided afresh: the cycle-1 decision stays in the audit trail.
        self.assignee = None
        self.decided_at = None
        self.decided_by = None
        self.reason_code = ""

    @transition(
        field=state, source=State.REJECTED, target=State.REJECTED_FINAL, conditions=[reevaluation_window_passed]
    )
    def close_reevaluation_window(self) -> None:
        self.reevaluation_due_at = None

    @transition(field=state, source=State.REEVALUATION_REQUESTED, target=State.IN_REEVALUATION)
    def claim_reevaluation(self, *, by: Any) -> None:
        self.assignee = by

    @transition(field=state, source=State.IN_REEVALUATION, target=State.REJECTED_FINAL)
    def reject_final(self, *, at: datetime, by: Any, reason_code: str) -> None:
        self._decide(at=at, by=by, reason_code=reason_code)

    @transition(field=state, source=WITHDRAWABLE_STATES, target=State.WITHDRAWN)
    def withdraw(self) -> None:
        self.info_due_at = None

    def _decide(self, *, at: datetime, by: Any, reason_code: str) -> None:
        self.decided_at = at
        self.decided_by = by
        self.reason_code = reason_code


# Every transition name, in the order of DESIGN §4. The admin, API and tests use this list.
TRANSITIONS = (
    "submit",
    "auto_reject",
    "claim",
    "request_info",
    "provide_info",
    "expire_info_request",
    "approve",
    "reject",
    "request_reevaluation",
    "close_reevaluation_window",
    "claim_reevaluation",
    "reject_final",
    "withdraw",
)


class ReferenceCounter(models.Model):
    """Per-year sequence for human-readable references (RR-2026-000042)."""

    year = models.PositiveIntegerField(primary_key=True)
    last_number = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.year}: {self.last_number}"


class Message(models.Model):
    request = models.ForeignKey(ReassessmentRequest, on_delete=models.CASCADE, related_name="messages")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT)
    body = models.TextField(max_length=10000)
    internal = models.BooleanField(default=False, help_text="Staff-only note, never shown to the customer.")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "pk"]
        indexes = [models.Index(fields=["request", "internal", "created_at"])]

    def __str__(self) -> str:
        kind = "note" if self.internal else "message"
        return f"{kind} on {self.request_id} at {self.created_at:%Y-%m-%d %H:%M}"


class RequestTransition(models.Model):
    """Append-only audit trail, written in the same transaction as the state change."""

    request = models.ForeignKey(ReassessmentRequest, on_delete=models.CASCADE, related_name="transitions")
    transition = models.CharField(max_length=40)
    from_state = models.CharField(max_length=32, choices=State.choices, blank=True)
    to_state = models.CharField(max_length=32, choices=State.choices, blank=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT)
    note = models.TextField(blank=True, help_text="Internal: never shown to the customer.")
    reason_code = models.CharField(max_length=32, choices=ReasonCode.choices, blank=True)
    sla_cycle = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "pk"]
        indexes = [
            models.Index(fields=["request", "created_at"]),
            models.Index(fields=["transition", "created_at"], name="rt_transition_created"),
        ]

    def __str__(self) -> str:
        return f"{self.transition}: {self.from_state} → {self.to_state}"


def evidence_storage() -> Any:
    """The STORAGES["evidence"] alias: a private folder by default, S3 when configured."""
    from django.core.files.storage import storages

    return storages["evidence"]


class EvidenceStorageProxy(Storage):
    """The evidence field's storage: resolves the `evidence` alias at each use, so the field
    follows STORAGES (S3 or a folder) even when settings change after import (tests)."""

    def __getattribute__(self, name: str) -> Any:
        if name in {"__class__", "__dict__", "deconstruct", "__reduce__", "__reduce_ex__"}:
            return object.__getattribute__(self, name)
        return getattr(evidence_storage(), name)

    def deconstruct(self) -> tuple[str, tuple[()], dict[str, Any]]:
        return ("tickets.models.EvidenceStorageProxy", (), {})


def evidence_field_storage() -> Storage:
    return EvidenceStorageProxy()


def evidence_upload_to(instance: Evidence, filename: str) -> str:
    # The caller passes a random name; the original filename is metadata only.
    return f"{instance.request_id}/{filename}"


class Evidence(models.Model):
    class Kind(models.TextChoices):
        CERTIFICATE_OF_INCORPORATION = "certificate_of_incorporation", "Certificate of incorporation"
        EIN = "ein", "Employer identification number (EIN)"
        BUSINESS_CARD = "business_card", "Business card"
        BBB_MEMBERSHIP = "bbb_membership", "Better Business Bureau membership"
        FCA_LISTING = "fca_listing", "FCA Financial Services Register listing"
        APP_SCREENSHOT = "app_screenshot", "Screenshot of your application or platform"
        PRESS_MENTION = "press_mention", "Press mention"
        MARKETPLACE_PROFILE = "marketplace_profile", "Marketplace or LinkedIn profile"
        OTHER = "other", "Other"

    request = models.ForeignKey(ReassessmentRequest, on_delete=models.CASCADE, related_name="evidence")
    kind = models.CharField(max_length=40, choices=Kind.choices)
    file = models.FileField(
        upload_to=evidence_upload_to,
        storage=evidence_field_storage,
        max_length=300,
        blank=True,
    )
    url = models.URLField(max_length=2000, blank=True)
    original_name = models.CharField(max_length=255, blank=True)
    content_type = models.CharField(max_length=100, blank=True)
    size = models.PositiveBigIntegerField(default=0)
    sha256 = models.CharField(max_length=64, blank=True)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["uploaded_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["request", "sha256"], condition=~Q(sha256=""), name="evidence_unique_file_per_request"
            ),
            models.CheckConstraint(
                condition=(Q(url="") & ~Q(file="")) | (~Q(url="") & Q(file="")),
                name="evidence_file_xor_url",
            ),
        ]

    def __str__(self) -> str:
        return self.original_name or self.url

    @property
    def is_link(self) -> bool:
        return bool(self.url)


class SlaCycle(models.Model):
    """One SLA cycle of a request (1: first review, 2: re-evaluation), for history and reports."""

    class Result(models.TextChoices):
        MET = "met", "Met"
        LATE = "late", "Late"
        MISSED = "missed", "Missed"

    request = models.ForeignKey(ReassessmentRequest, on_delete=models.CASCADE, related_name="sla_cycles")
    number = models.PositiveSmallIntegerField()
    started_at = models.DateTimeField()
    target_at = models.DateTimeField(null=True, blank=True)
    breach_at = models.DateTimeField(null=True, blank=True)
    paused_at = models.DateTimeField(null=True, blank=True)
    paused_seconds = models.FloatField(default=0, help_text="Wall-clock seconds spent paused.")
    paused_business_seconds = models.FloatField(default=0)
    first_response_at = models.DateTimeField(null=True, blank=True)
    # Stored when the first response happens, so reports aggregate a column instead of computing
    # business time in SQL for every cycle of the range.
    first_response_business_seconds = models.FloatField(
        null=True, blank=True, help_text="Business seconds from the cycle's start to the first public staff action."
    )
    stopped_at = models.DateTimeField(null=True, blank=True)
    stop_transition = models.CharField(max_length=40, blank=True)
    business_seconds_used = models.FloatField(null=True, blank=True, help_text="Set when the cycle stops.")
    result = models.CharField(max_length=8, choices=Result.choices, blank=True)

    class Meta:
        ordering = ["request", "number"]
        constraints = [models.UniqueConstraint(fields=["request", "number"], name="sla_cycle_unique_number")]
        indexes = [
            models.Index(fields=["stopped_at"], name="sla_cycle_stopped"),
            models.Index(fields=["started_at"], name="sla_cycle_started"),
            # The SLA report: first responses in a range, and running cycles breached in a range.
            models.Index(fields=["first_response_at"], name="sla_cycle_first_response"),
            models.Index(fields=["breach_at"], name="sla_cycle_open_breach", condition=Q(stopped_at__isnull=True)),
        ]

    def __str__(self) -> str:
        return f"cycle {self.number} of {self.request_id}"


class SlaEvent(models.Model):
    """An SLA event that fired. The unique constraint makes each fire once per cycle."""

    request = models.ForeignKey(ReassessmentRequest, on_delete=models.CASCADE, related_name="sla_events")
    cycle = models.PositiveSmallIntegerField()
    kind = models.CharField(max_length=16, choices=SlaEventKind.choices)
    due_at = models.DateTimeField()
    fired_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["fired_at", "pk"]
        constraints = [models.UniqueConstraint(fields=["request", "cycle", "kind"], name="sla_event_once_per_cycle")]

    def __str__(self) -> str:
        return f"{self.kind} (cycle {self.cycle}) of {self.request_id}"


class Notification(models.Model):
    """The outbox: an email to send, written in the transaction that causes it.

    A Celery task delivers it after commit; the SLA sweep re-tries what is still unsent. Delivery
    claims a row with a conditional UPDATE (a lease), so two workers never both send it.
    """

    kind = models.CharField(max_length=40)
    request = models.ForeignKey(
        ReassessmentRequest, null=True, blank=True, on_delete=models.CASCADE, related_name="notifications"
    )
    to = models.JSONField(default=list)
    subject = models.CharField(max_length=300)
    body_text = models.TextField()
    body_html = models.TextField(blank=True)
    dedupe_key = models.CharField(max_length=200, unique=True, null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    claimed_until = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    sent_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)

    class Meta:
        ordering = ["created_at", "pk"]
        indexes = [
            models.Index(fields=["created_at"], name="notification_unsent", condition=Q(sent_at__isnull=True)),
        ]

    def __str__(self) -> str:
        return f"{self.kind} to {', '.join(self.to)}"

    @property
    def message_id(self) -> str:
        """Stable Message-ID, so a re-delivery after a crash is recognisable downstream."""
        return f"<notification-{self.pk}@casemgr>"


class ScreeningRule(models.Model):
    """Editable content-screening rules (ISV prohibited categories and URL shorteners)."""

    class Category(models.TextChoices):
        FINANCIAL = "financial", "Financial"
        INVESTMENT = "investment", "Investment"
        MARKETING = "marketing", "Marketing / lead generation"
        EMPLOYMENT = "employment", "Employment"
        REAL_ESTATE = "real_estate", "Real estate"
        GAMBLING = "gambling", "Gambling"
        REGULATED = "regulated", "Regulated / SHAFT"
        PUBLIC_SHORTENER = "public_shortener", "Public URL shortener"
        ISV_SHORTENER = "isv_shortener", "ISV-owned URL shortener"

    class MatchType(models.TextChoices):
        KEYWORD = "keyword", "Keyword or phrase (whole words, any case)"
        REGEX = "regex", "Regular expression"
        DOMAIN = "domain", "Link domain (and its subdomains)"

    category = models.CharField(max_length=32, choices=Category.choices)
    match_type = models.CharField(max_length=16, choices=MatchType.choices, default=MatchType.KEYWORD)
    pattern = models.CharField(max_length=300)
    is_active = models.BooleanField(default=True)
    description = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["category", "pattern"]
        constraints = [
            models.UniqueConstraint(fields=["category", "match_type", "pattern"], name="screening_rule_unique")
        ]

    def __str__(self) -> str:
        return f"{self.get_category_display()}: {self.pattern}"


class ScreeningFlag(models.Model):
    """A screening finding reviewers see; never shown to the customer."""

    request = models.ForeignKey(ReassessmentRequest, on_delete=models.CASCADE, related_name="screening_flags")
    category = models.CharField(max_length=32, choices=ScreeningRule.Category.choices)
    field = models.CharField(max_length=40)
    matched_text = models.CharField(max_length=500)
    rule = models.ForeignKey(ScreeningRule, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        return f"{self.get_category_display()}: {self.matched_text}"
