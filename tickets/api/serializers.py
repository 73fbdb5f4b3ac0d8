"""The JSON shapes of the API (DESIGN §8). Output serializers read prepared objects; input
serializers document the bodies (the services validate them, so messages are the same as in the
portal).

Customer shapes never carry a reason code, an internal note, a screening flag, a staff identity
beyond "Accounts team", or anything of another account.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.utils import timezone
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.models import Account, ApiToken, Restriction, RiskSignal
from tickets.models import (
    Evidence,
    Message,
    Outcome,
    ReasonCode,
    ReassessmentRequest,
    ScreeningFlag,
    ScreeningRule,
    Service,
    SlaStatus,
    State,
    UseCase,
)

from . import selectors

STATE_CHOICES = State.choices
SLA_STATUS_CHOICES = SlaStatus.choices


# --- small pieces ------------------------------------------------------------------------------------


class AccountBriefSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    name = serializers.CharField(read_only=True)


class UserBriefSerializer(serializers.Serializer):
    """A staff member, as other staff see them."""

    id = serializers.IntegerField(read_only=True)
    username = serializers.CharField(read_only=True)
    name = serializers.SerializerMethodField()

    def get_name(self, user: Any) -> str:
        return selectors.display_name(user)


class ActionSerializer(serializers.Serializer):
    transition = serializers.CharField(help_text="The transition's name, as in the timeline.")
    label = serializers.CharField()
    url = serializers.CharField(help_text="POST here to take it (path of this API).")


class RestrictionSerializer(serializers.ModelSerializer):
    kind_label = serializers.CharField(source="get_kind_display", read_only=True)

    class Meta:
        model = Restriction
        fields = ["id", "kind", "kind_label", "detail", "status", "applied_at"]
        read_only_fields = fields


class StaffRestrictionSerializer(RestrictionSerializer):
    class Meta(RestrictionSerializer.Meta):
        fields = [*RestrictionSerializer.Meta.fields, "source", "lifted_at"]
        read_only_fields = fields


class RiskSignalSerializer(serializers.ModelSerializer):
    class Meta:
        model = RiskSignal
        fields = ["id", "kind", "note", "recorded_at"]
        read_only_fields = fields


class EvidenceSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    kind = serializers.ChoiceField(choices=Evidence.Kind.choices, read_only=True)
    kind_label = serializers.CharField(source="get_kind_display", read_only=True)
    original_name = serializers.SerializerMethodField(help_text="The uploaded file's name; null for a link.")
    url = serializers.SerializerMethodField(help_text="The https link; null for a file.")
    content_type = serializers.SerializerMethodField(help_text="Detected from the content; null for a link.")
    size = serializers.IntegerField(read_only=True, help_text="Bytes; 0 for a link.")
    uploaded_at = serializers.DateTimeField(read_only=True)
    download_url = serializers.SerializerMethodField(help_text="GET it to download (checked access).")

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_original_name(self, evidence: Evidence) -> str | None:
        return None if evidence.url else evidence.original_name

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_url(self, evidence: Evidence) -> str | None:
        return evidence.url or None

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_content_type(self, evidence: Evidence) -> str | None:
        return None if evidence.url else evidence.content_type

    def get_download_url(self, evidence: Evidence) -> str:
        from django.urls import reverse

        route = "api:staff-evidence-download" if self.context.get("staff") else "api:evidence-download"
        return reverse(route, kwargs={"reference": evidence.request.reference, "pk": evidence.pk})


class StaffEvidenceSerializer(EvidenceSerializer):
    sha256 = serializers.CharField(read_only=True)
    uploaded_by = UserBriefSerializer(read_only=True)


class MessageSerializer(serializers.Serializer):
    """A public message as the customer sees it."""

    id = serializers.IntegerField(read_only=True)
    body = serializers.CharField(read_only=True)
    author_name = serializers.SerializerMethodField(help_text='A teammate\'s name, or "Accounts team".')
    from_accounts_team = serializers.SerializerMethodField()
    created_at = serializers.DateTimeField(read_only=True)

    def _customers(self, message: Message) -> set[int]:
        cache = self.context.setdefault("_customer_ids", {})
        if message.request_id not in cache:
            cache[message.request_id] = selectors.customer_ids(message.request)
        return cache[message.request_id]

    def get_author_name(self, message: Message) -> str:
        return selectors.message_author_name(message, self._customers(message))

    def get_from_accounts_team(self, message: Message) -> bool:
        return message.author_id not in self._customers(message)


class StaffMessageSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    body = serializers.CharField(read_only=True)
    internal = serializers.BooleanField(read_only=True, help_text="A staff-only note.")
    author = UserBriefSerializer(read_only=True, allow_null=True)
    created_at = serializers.DateTimeField(read_only=True)


class _TimelineBase(serializers.Serializer):
    def get_fields(self) -> dict[str, serializers.Field]:
        declared = super().get_fields()
        # `from` is a Python keyword: add it by name, right after the transition's label.
        fields: dict[str, serializers.Field] = {}
        for name, field in declared.items():
            fields[name] = field
            if name == "label":
                fields["from"] = serializers.ChoiceField(
                    choices=[("", "(none)"), *STATE_CHOICES],
                    read_only=True,
                    help_text="State before; empty when created.",
                )
                fields["to"] = serializers.ChoiceField(choices=STATE_CHOICES, read_only=True)
                fields["at"] = serializers.DateTimeField(read_only=True)
        return fields


class TimelineEntrySerializer(_TimelineBase):
    transition = serializers.CharField(read_only=True)
    label = serializers.CharField(read_only=True)


class StaffTimelineEntrySerializer(_TimelineBase):
    id = serializers.IntegerField(read_only=True)
    transition = serializers.CharField(read_only=True)
    label = serializers.CharField(read_only=True)
    actor = UserBriefSerializer(read_only=True, allow_null=True, help_text="null: the system.")
    note = serializers.CharField(read_only=True, help_text="Internal.")
    reason_code = serializers.ChoiceField(choices=ReasonCode.choices, read_only=True, allow_null=True)
    sla_cycle = serializers.IntegerField(read_only=True)


class ScreeningFlagSerializer(serializers.ModelSerializer):
    category = serializers.ChoiceField(choices=ScreeningRule.Category.choices, read_only=True)

    class Meta:
        model = ScreeningFlag
        fields = ["id", "category", "field", "matched_text", "created_at"]
        read_only_fields = fields


class StaffAccountSerializer(serializers.ModelSerializer):
    owner = UserBriefSerializer(read_only=True)
    restrictions = StaffRestrictionSerializer(many=True, read_only=True)
    risk_signals = RiskSignalSerializer(many=True, read_only=True)
    parent = AccountBriefSerializer(read_only=True, allow_null=True)

    class Meta:
        model = Account
        fields = ["id", "name", "is_isv", "parent", "country", "owner", "restrictions", "risk_signals"]
        read_only_fields = fields


# --- requests ------------------------------------------------------------------------------------


class _RequestBase(serializers.Serializer):
    reference = serializers.CharField(read_only=True)
    state = serializers.ChoiceField(choices=STATE_CHOICES, read_only=True)
    state_label = serializers.CharField(source="get_state_display", read_only=True)
    account = AccountBriefSerializer(read_only=True)
    sla_status = serializers.SerializerMethodField(
        help_text="The SLA status of the current cycle at the moment of the read; null before submission."
    )
    sla_target_at = serializers.DateTimeField(read_only=True, allow_null=True)
    sla_breach_at = serializers.DateTimeField(read_only=True, allow_null=True)
    decision_outcome = serializers.SerializerMethodField(help_text="`lifted` or `limited` once approved, else null.")
    created_at = serializers.DateTimeField(read_only=True)
    submitted_at = serializers.DateTimeField(read_only=True, allow_null=True)
    updated_at = serializers.DateTimeField(read_only=True)
    available_actions = serializers.SerializerMethodField(help_text="The transitions you may take now.")

    @extend_schema_field(serializers.ChoiceField(choices=SLA_STATUS_CHOICES, allow_null=True))
    def get_sla_status(self, req: ReassessmentRequest) -> str | None:
        from tickets.sla import sla_status_of

        return sla_status_of(req, self.context["now"]) or None

    @extend_schema_field(serializers.ChoiceField(choices=Outcome.choices, allow_null=True))
    def get_decision_outcome(self, req: ReassessmentRequest) -> str | None:
        return req.decision_outcome or None

    @extend_schema_field(ActionSerializer(many=True))
    def get_available_actions(self, req: ReassessmentRequest) -> list[dict[str, str]]:
        if self.context.get("staff"):
            return selectors.staff_actions(req, self.context["user"])
        return selectors.customer_actions(req)


class _DetailsMixin(serializers.Serializer):
    company_name = serializers.CharField(read_only=True)
    company_website = serializers.CharField(read_only=True)
    use_case = serializers.ChoiceField(choices=UseCase.choices, read_only=True, allow_blank=True)
    use_case_details = serializers.CharField(read_only=True)
    services = serializers.ListField(child=serializers.ChoiceField(choices=Service.choices), read_only=True)
    sample_message = serializers.CharField(read_only=True)
    destination_countries = serializers.ListField(child=serializers.CharField(), read_only=True)
    estimated_monthly_units = serializers.IntegerField(read_only=True, allow_null=True)
    estimated_monthly_spend = serializers.DecimalField(
        max_digits=14, decimal_places=2, read_only=True, allow_null=True, help_text="US dollars."
    )


class RequestListItemSerializer(_RequestBase):
    company_name = serializers.CharField(read_only=True)


class StaffRequestListItemSerializer(RequestListItemSerializer):
    assignee = UserBriefSerializer(read_only=True, allow_null=True)
    reason_code = serializers.SerializerMethodField()
    auto_rejected = serializers.BooleanField(read_only=True)

    @extend_schema_field(serializers.ChoiceField(choices=ReasonCode.choices, allow_null=True))
    def get_reason_code(self, req: ReassessmentRequest) -> str | None:
        return req.reason_code or None


class RequestSerializer(_RequestBase, _DetailsMixin):
    """A request as its customer sees it."""

    reevaluation_details = serializers.CharField(read_only=True)
    info_due_at = serializers.DateTimeField(
        read_only=True, allow_null=True, help_text="While information is requested: answer by then."
    )
    reevaluation_due_at = serializers.DateTimeField(
        read_only=True, allow_null=True, help_text="While rejected: a re-evaluation can be asked until then."
    )
    decided_at = serializers.DateTimeField(read_only=True, allow_null=True)
    evidence = serializers.SerializerMethodField()
    messages = serializers.SerializerMethodField(help_text="Public messages only.")
    timeline = serializers.SerializerMethodField()

    @extend_schema_field(EvidenceSerializer(many=True))
    def get_evidence(self, req: ReassessmentRequest) -> list[dict[str, Any]]:
        return EvidenceSerializer(req.evidence.all(), many=True, context=self.context).data

    @extend_schema_field(MessageSerializer(many=True))
    def get_messages(self, req: ReassessmentRequest) -> list[dict[str, Any]]:
        public = [m for m in req.messages.all() if not m.internal]
        return MessageSerializer(public, many=True, context=self.context).data

    @extend_schema_field(TimelineEntrySerializer(many=True))
    def get_timeline(self, req: ReassessmentRequest) -> list[dict[str, Any]]:
        return TimelineEntrySerializer(selectors.customer_timeline(req), many=True).data


class StaffRequestSerializer(RequestSerializer):
    """A request as the accounts team sees it: everything, with the audit trail."""

    account = StaffAccountSerializer(read_only=True)
    assignee = UserBriefSerializer(read_only=True, allow_null=True)
    reason_code = serializers.SerializerMethodField(help_text="Internal; never shown to the customer.")
    auto_rejected = serializers.BooleanField(read_only=True)
    decided_by = UserBriefSerializer(read_only=True, allow_null=True)
    cycle1_decided_by = UserBriefSerializer(read_only=True, allow_null=True)
    sla_cycle = serializers.IntegerField(read_only=True)
    first_response_at = serializers.DateTimeField(read_only=True, allow_null=True)
    screened_at = serializers.DateTimeField(read_only=True, allow_null=True)
    screening_flags = ScreeningFlagSerializer(many=True, read_only=True)
    lifted_restrictions = serializers.SerializerMethodField()

    @extend_schema_field(serializers.ChoiceField(choices=ReasonCode.choices, allow_null=True))
    def get_reason_code(self, req: ReassessmentRequest) -> str | None:
        return req.reason_code or None

    @extend_schema_field(serializers.ListField(child=serializers.IntegerField()))
    def get_lifted_restrictions(self, req: ReassessmentRequest) -> list[int]:
        return [r.pk for r in req.lifted_restrictions.all()]

    @extend_schema_field(StaffEvidenceSerializer(many=True))
    def get_evidence(self, req: ReassessmentRequest) -> list[dict[str, Any]]:
        return StaffEvidenceSerializer(req.evidence.all(), many=True, context=self.context).data

    @extend_schema_field(StaffMessageSerializer(many=True))
    def get_messages(self, req: ReassessmentRequest) -> list[dict[str, Any]]:
        return StaffMessageSerializer(req.messages.all(), many=True).data

    @extend_schema_field(StaffTimelineEntrySerializer(many=True))
    def get_timeline(self, req: ReassessmentRequest) -> list[dict[str, Any]]:
        return StaffTimelineEntrySerializer(selectors.staff_timeline(req), many=True).data


# --- me and tokens ----------------------------------------------------------------------------------


class MeAccountSerializer(serializers.ModelSerializer):
    role = serializers.SerializerMethodField()
    active_restrictions = serializers.SerializerMethodField()

    class Meta:
        model = Account
        fields = ["id", "name", "is_isv", "parent", "country", "role", "active_restrictions"]
        read_only_fields = fields

    @extend_schema_field(serializers.ChoiceField(choices=[("owner", "Owner"), ("member", "Member")]))
    def get_role(self, account: Account) -> str:
        return "owner" if account.owner_id == self.context["user"].pk else "member"

    @extend_schema_field(RestrictionSerializer(many=True))
    def get_active_restrictions(self, account: Account) -> list[dict[str, Any]]:
        active = [r for r in account.restrictions.all() if r.status == Restriction.Status.ACTIVE]
        return RestrictionSerializer(active, many=True).data


class MeSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    username = serializers.CharField(read_only=True)
    name = serializers.CharField(read_only=True)
    email = serializers.EmailField(read_only=True)
    is_staff_member = serializers.BooleanField(read_only=True, help_text="True for the accounts team's roles.")
    roles = serializers.ListField(child=serializers.CharField(), read_only=True)
    accounts = MeAccountSerializer(many=True, read_only=True)


class TokenSerializer(serializers.ModelSerializer):
    is_active = serializers.SerializerMethodField()

    class Meta:
        model = ApiToken
        fields = ["id", "name", "prefix", "created_at", "last_used_at", "revoked_at", "is_active"]
        read_only_fields = fields

    def get_is_active(self, token: ApiToken) -> bool:
        return token.revoked_at is None


class TokenCreatedSerializer(TokenSerializer):
    key = serializers.CharField(read_only=True, help_text="Shown once: store it now. Only its hash is kept.")

    class Meta(TokenSerializer.Meta):
        fields = [*TokenSerializer.Meta.fields, "key"]
        read_only_fields = fields


class TokenCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100, help_text="What the token is for, e.g. “billing console”.")

    def validate_name(self, value: str) -> str:
        value = value.strip()
        if "\x00" in value:
            raise serializers.ValidationError("The name contains a character that is not allowed.")
        if not value:
            raise serializers.ValidationError("Give the token a name.")
        return value


# --- input bodies (documentation; the services validate) -----------------------------------------


class _DetailsInput(serializers.Serializer):
    company_name = serializers.CharField(required=False, max_length=200)
    company_website = serializers.CharField(required=False, max_length=500, help_text="http:// or https:// address.")
    use_case = serializers.ChoiceField(choices=UseCase.choices, required=False)
    use_case_details = serializers.CharField(required=False, max_length=5000, help_text="Required with `other`.")
    services = serializers.ListField(child=serializers.ChoiceField(choices=Service.choices), required=False)
    sample_message = serializers.CharField(required=False, max_length=2000, help_text="Required with `sms`.")
    destination_countries = serializers.ListField(
        child=serializers.CharField(min_length=2, max_length=2), required=False, help_text="ISO 3166-1 alpha-2 codes."
    )
    estimated_monthly_units = serializers.IntegerField(required=False, min_value=1)
    estimated_monthly_spend = serializers.DecimalField(
        max_digits=14,
        decimal_places=2,
        required=False,
        min_value=Decimal("0.01"),
        help_text="US dollars, e.g. \"350.00\".",
    )


class DraftCreateSerializer(_DetailsInput):
    account = serializers.IntegerField(
        required=False, help_text="One of your accounts; may be left out when you belong to exactly one."
    )


class DraftUpdateSerializer(_DetailsInput):
    pass


class MessageInputSerializer(serializers.Serializer):
    body = serializers.CharField(max_length=10000)


class StaffMessageInputSerializer(MessageInputSerializer):
    internal = serializers.BooleanField(default=False, help_text="A staff-only note, never shown to the customer.")


class InfoMessageSerializer(serializers.Serializer):
    message = serializers.CharField(max_length=10000)


class ReevaluationInputSerializer(serializers.Serializer):
    details = serializers.CharField(max_length=10000, help_text="What we should know for the re-evaluation.")


class WithdrawInputSerializer(serializers.Serializer):
    note = serializers.CharField(required=False, allow_blank=True, max_length=10000)


class EmptySerializer(serializers.Serializer):
    pass


class ApproveInputSerializer(serializers.Serializer):
    lift = serializers.ListField(
        child=serializers.IntegerField(), required=False, help_text="Ids of the account's restrictions to lift."
    )
    message = serializers.CharField(
        required=False, allow_blank=True, max_length=10000, help_text="Shown to the customer."
    )


class RejectInputSerializer(serializers.Serializer):
    reason_code = serializers.ChoiceField(
        choices=ReasonCode.choices, help_text="Internal; never shown to the customer."
    )
    note = serializers.CharField(required=False, allow_blank=True, max_length=10000, help_text="Internal note.")


class EvidenceFileInputSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=Evidence.Kind.choices)
    file = serializers.FileField(help_text="PDF, PNG, JPEG or WEBP, at most 10 MB; the name's extension must match.")


class EvidenceLinkInputSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=Evidence.Kind.choices)
    url = serializers.URLField(max_length=2000, help_text="An https:// link.")


def now_context(user: Any, *, staff: bool, request: Any = None) -> dict[str, Any]:
    return {"now": timezone.now(), "user": user, "staff": staff, "request": request}
