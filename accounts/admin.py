"""Compliance tools in Django admin: accounts with their restrictions and risk signals, applying
and lifting restrictions, recording risk signals and the ISV violation ladder.

Restrictions and risk signals are never edited in place: they are applied, lifted or recorded
through accounts/services.py (which writes the owner's email to the outbox), from admin actions
with an intermediate form. The rows stay as history (no delete).
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.db.models import Count, Q, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse

from .models import Account, ApiToken, Restriction, RiskSignal
from .services import (
    LADDER_TARGET_KINDS,
    ComplianceError,
    ViolationLevel,
    compliance_violation_count,
    isv_main_account,
    restriction_apply,
    restrictions_lift,
    risk_signal_record,
    violation_ladder_apply,
)

# --- forms -----------------------------------------------------------------------------------------


class ApplyRestrictionForm(forms.Form):
    kind = forms.ChoiceField(label="Restriction", choices=Restriction.Kind.choices)
    source = forms.ChoiceField(label="Why", choices=Restriction.Source.choices)
    detail = forms.CharField(
        label="Detail",
        required=False,
        max_length=500,
        help_text="E.g. the blocked countries or the sender ID. The owner sees it in the email.",
    )


class RecordRiskSignalForm(forms.Form):
    kind = forms.ChoiceField(label="Risk signal", choices=RiskSignal.Kind.choices)
    note = forms.CharField(label="Note (internal)", required=False, widget=forms.Textarea(attrs={"rows": 3}))


class ViolationLadderForm(forms.Form):
    level = forms.ChoiceField(label="Violation", choices=ViolationLevel.choices, widget=forms.RadioSelect)
    target_kind = forms.ChoiceField(
        label="Suspend (single violation)",
        required=False,
        choices=[("", "—"), *[(k, Restriction.Kind(k).label) for k in LADDER_TARGET_KINDS]],
    )
    target = forms.CharField(
        label="Sender ID or campaign (single violation)",
        required=False,
        max_length=200,
        help_text="E.g. the sender ID ACMEOTP or the campaign ID CX9Z1Q.",
    )
    note = forms.CharField(
        label="What happened",
        required=False,
        max_length=300,
        help_text="Kept with the restriction; the owner sees it in the email.",
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("level") == ViolationLevel.SINGLE:
            if not data.get("target_kind"):
                self.add_error("target_kind", "A single violation suspends a sender ID or a campaign: choose which.")
            if not (data.get("target") or "").strip():
                self.add_error("target", "Name the sender ID or campaign to suspend.")
        return data


# --- inlines ---------------------------------------------------------------------------------------


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # applied through the account's actions, which email the owner

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class RestrictionInline(ReadOnlyInline):
    model = Restriction
    fields = ("kind", "detail", "source", "status", "applied_at", "applied_by", "lifted_at")
    readonly_fields = fields


class RiskSignalInline(ReadOnlyInline):
    model = RiskSignal
    fields = ("kind", "note", "recorded_at", "recorded_by")
    readonly_fields = fields


# --- accounts ----------------------------------------------------------------------------------------


class IsvFilter(admin.SimpleListFilter):
    title = "ISV"
    parameter_name = "isv"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("main", "ISV main account"), ("sub", "ISV sub-account"), ("no", "Direct customer")]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        if self.value() == "main":
            return queryset.filter(is_isv=True)
        if self.value() == "sub":
            return queryset.filter(parent__isnull=False)
        if self.value() == "no":
            return queryset.filter(is_isv=False, parent__isnull=True)
        return queryset


@admin.register(Account)
class AccountAdmin(admin.ModelAdmin):
    change_form_template = "admin/accounts/account/change_form.html"
    list_display = (
        "name",
        "owner",
        "is_isv",
        "parent",
        "country",
        "active_restriction_count",
        "risk_signal_count",
        "created_at",
    )
    list_select_related = ("owner", "parent")
    list_filter = (IsvFilter, "country")
    search_fields = ("name", "owner__username", "owner__email")
    autocomplete_fields = ("parent",)
    # Who owns an account and who is in it is the customer's business, not compliance's.
    fields = ("name", "owner", "members_list", "is_isv", "parent", "country", "created_at")
    readonly_fields = ("owner", "members_list", "created_at")
    inlines = (RestrictionInline, RiskSignalInline)
    show_full_result_count = False
    actions = ("apply_restriction", "record_risk_signal", "apply_violation_ladder")

    class Media:
        css = {"all": ("admin_desk/desk.css",)}

    def get_queryset(self, request: HttpRequest) -> QuerySet[Account]:
        return (
            super()
            .get_queryset(request)
            .annotate(
                active_restrictions_n=Count(
                    "restrictions", filter=Q(restrictions__status=Restriction.Status.ACTIVE), distinct=True
                ),
                risk_signals_n=Count("risk_signals", distinct=True),
            )
        )

    def has_delete_permission(self, request: HttpRequest, obj: Account | None = None) -> bool:
        return False  # accounts carry requests, restrictions and audit history

    @admin.display(description="Members")
    def members_list(self, obj: Account) -> str:
        return ", ".join(u.get_username() for u in obj.members.all()) or "—"

    @admin.display(description="Active restrictions", ordering="active_restrictions_n")
    def active_restriction_count(self, obj: Account) -> int:
        return obj.active_restrictions_n

    @admin.display(description="Risk signals", ordering="risk_signals_n")
    def risk_signal_count(self, obj: Account) -> int:
        return obj.risk_signals_n

    # Custom action permissions: compliance (add restriction / add risk signal) only.
    def has_restrict_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("accounts.add_restriction")

    def has_signal_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("accounts.add_risksignal")

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        extra_context = dict(extra_context or {})
        extra_context["compliance_actions"] = [
            (name, label)
            for name, (_, name, label) in self.get_actions(request).items()
            if name in {"apply_restriction", "record_risk_signal", "apply_violation_ladder"}
        ]
        extra_context["changelist_url"] = reverse("admin:accounts_account_changelist")
        return super().change_view(request, object_id, form_url, extra_context)

    def _intermediate(
        self,
        request: HttpRequest,
        queryset: QuerySet[Account],
        *,
        action: str,
        title: str,
        form: forms.Form,
        notes: list[str] | None = None,
    ) -> TemplateResponse:
        return TemplateResponse(
            request,
            "admin/admin_desk/action_form.html",
            {
                **self.admin_site.each_context(request),
                "title": title,
                "opts": self.opts,
                "accounts": list(queryset.select_related("owner", "parent")),
                "action": action,
                "form": form,
                "notes": notes or [],
                "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
                "media": self.media + form.media,
            },
            status=400 if form.is_bound else 200,
        )

    def _done(self, request: HttpRequest, queryset: QuerySet[Account]) -> HttpResponse | None:
        """Back to the account's page when the action started there (one account)."""
        if queryset.count() == 1:
            return HttpResponseRedirect(reverse("admin:accounts_account_change", args=[queryset.first().pk]))
        return None

    @admin.action(description="Apply a restriction (emails the owner)…", permissions=["restrict"])
    def apply_restriction(self, request: HttpRequest, queryset: QuerySet[Account]) -> HttpResponse | None:
        form = ApplyRestrictionForm(request.POST if "apply" in request.POST else None)
        if form.is_bound and form.is_valid():
            for account in queryset:
                restriction_apply(
                    account=account,
                    kind=form.cleaned_data["kind"],
                    source=form.cleaned_data["source"],
                    detail=form.cleaned_data["detail"],
                    actor=request.user,
                )
            kind_label = Restriction.Kind(form.cleaned_data["kind"]).label
            messages.success(
                request,
                f"{kind_label} applied to {', '.join(a.name for a in queryset)}; "
                "the owners were emailed how to ask for a reassessment.",
            )
            return self._done(request, queryset)
        return self._intermediate(request, queryset, action="apply_restriction", title="Apply a restriction", form=form)

    @admin.action(description="Record a risk signal (zero tolerance)…", permissions=["signal"])
    def record_risk_signal(self, request: HttpRequest, queryset: QuerySet[Account]) -> HttpResponse | None:
        form = RecordRiskSignalForm(request.POST if "apply" in request.POST else None)
        if form.is_bound and form.is_valid():
            for account in queryset:
                risk_signal_record(
                    account=account, kind=form.cleaned_data["kind"], note=form.cleaned_data["note"], actor=request.user
                )
            messages.success(
                request,
                f"{RiskSignal.Kind(form.cleaned_data['kind']).label} recorded on "
                f"{', '.join(a.name for a in queryset)}. "
                "Requests these accounts submit from now on are rejected automatically.",
            )
            return self._done(request, queryset)
        return self._intermediate(
            request,
            queryset,
            action="record_risk_signal",
            title="Record a risk signal",
            form=form,
            notes=[
                "Risk signals are zero-tolerance practices: every request submitted afterwards is rejected finally."
            ],
        )

    @admin.action(description="Apply the ISV violation ladder…", permissions=["restrict"])
    def apply_violation_ladder(self, request: HttpRequest, queryset: QuerySet[Account]) -> HttpResponse | None:
        accounts = list(queryset.select_related("parent")[:2])
        if len(accounts) != 1:
            messages.error(request, "The violation ladder applies to one account at a time: select exactly one.")
            return None
        account = accounts[0]
        if isv_main_account(account) is None:
            messages.error(
                request,
                f"{account.name} is neither an ISV nor an ISV's sub-account; use “Apply a restriction” instead.",
            )
            return self._done(request, queryset)
        form = ViolationLadderForm(request.POST if "apply" in request.POST else None)
        if form.is_bound and form.is_valid():
            try:
                applied = violation_ladder_apply(
                    account=account,
                    level=form.cleaned_data["level"],
                    target_kind=form.cleaned_data["target_kind"],
                    target=form.cleaned_data["target"],
                    note=form.cleaned_data["note"],
                    actor=request.user,
                )
            except ComplianceError as exc:
                form.add_error(None, str(exc))
            else:
                summary = "; ".join(f"{r.account.name}: {r}" for r in applied)
                messages.success(request, f"Violation ladder applied. In force: {summary}.")
                return self._done(request, queryset)
        count = compliance_violation_count(account)
        notes = [
            f"This ISV has {count} earlier compliance-violation restriction{'s' if count != 1 else ''} "
            "(main account and sub-accounts)."
        ]
        if account.parent_id is None:
            notes.append(
                "This is the ISV's main account: a serious violation is applied to the end brand's sub-account."
            )
        return self._intermediate(
            request,
            queryset,
            action="apply_violation_ladder",
            title=f"Violation ladder for {account.name}",
            form=form,
            notes=notes,
        )


# --- restrictions and risk signals ----------------------------------------------------------------


@admin.register(Restriction)
class RestrictionAdmin(admin.ModelAdmin):
    list_display = (
        "id",
        "account",
        "kind",
        "detail",
        "source",
        "status_badge",
        "applied_at",
        "applied_by",
        "lifted_at",
    )
    list_select_related = ("account", "applied_by")
    list_filter = ("status", "kind", "source")
    search_fields = ("account__name", "detail")
    autocomplete_fields = ("account",)
    show_full_result_count = False
    actions = ("lift_selected", "limit_selected")
    readonly_fields = ("status", "applied_at", "applied_by", "lifted_at", "lifted_by")

    class Media:
        css = {"all": ("admin_desk/desk.css",)}

    def get_fields(self, request: HttpRequest, obj: Restriction | None = None) -> list[str]:
        if obj is None:
            return ["account", "kind", "source", "detail"]
        return ["account", "kind", "detail", "source", "status", "applied_at", "applied_by", "lifted_at", "lifted_by"]

    def has_change_permission(self, request: HttpRequest, obj: Restriction | None = None) -> bool:
        return False  # a restriction is applied, lifted or limited (actions), never edited

    def has_delete_permission(self, request: HttpRequest, obj: Restriction | None = None) -> bool:
        return False  # history: a lifted restriction stays on record

    def has_lift_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("accounts.change_restriction")

    @admin.display(description="Status", ordering="status")
    def status_badge(self, obj: Restriction) -> str:
        from django.utils.html import format_html

        return format_html('<span class="desk-tag desk-tag--{}">{}</span>', obj.status, obj.get_status_display())

    def save_model(self, request: HttpRequest, obj: Restriction, form: forms.ModelForm, change: bool) -> None:
        # Adding goes through the service so the owner is emailed how to ask for a reassessment.
        created = restriction_apply(
            account=obj.account, kind=obj.kind, source=obj.source, detail=obj.detail, actor=request.user
        )
        obj.pk = created.pk
        obj.applied_at, obj.applied_by = created.applied_at, created.applied_by
        obj._state.adding = False

    @admin.action(description="Lift selected restrictions", permissions=["lift"])
    def lift_selected(self, request: HttpRequest, queryset: QuerySet[Restriction]) -> None:
        done = restrictions_lift(restrictions=list(queryset), actor=request.user)
        messages.success(
            request, f"Lifted {len(done)} restriction(s)." if done else "Nothing to lift: they were lifted already."
        )

    @admin.action(description="Mark selected restrictions as limited", permissions=["lift"])
    def limit_selected(self, request: HttpRequest, queryset: QuerySet[Restriction]) -> None:
        done = restrictions_lift(restrictions=list(queryset), actor=request.user, status=Restriction.Status.LIMITED)
        messages.success(request, f"Limited {len(done)} restriction(s).")


@admin.register(RiskSignal)
class RiskSignalAdmin(admin.ModelAdmin):
    list_display = ("account", "kind", "note", "recorded_at", "recorded_by")
    list_select_related = ("account", "recorded_by")
    list_filter = ("kind",)
    search_fields = ("account__name", "note")
    autocomplete_fields = ("account",)
    show_full_result_count = False

    def get_fields(self, request: HttpRequest, obj: RiskSignal | None = None) -> list[str]:
        if obj is None:
            return ["account", "kind", "note"]
        return ["account", "kind", "note", "recorded_at", "recorded_by"]

    def has_change_permission(self, request: HttpRequest, obj: RiskSignal | None = None) -> bool:
        return False  # recorded facts; a new signal is a new row

    def has_delete_permission(self, request: HttpRequest, obj: RiskSignal | None = None) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: RiskSignal, form: forms.ModelForm, change: bool) -> None:
        created = risk_signal_record(account=obj.account, kind=obj.kind, note=obj.note, actor=request.user)
        obj.pk = created.pk
        obj.recorded_at, obj.recorded_by = created.recorded_at, created.recorded_by
        obj._state.adding = False


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Read-only: tokens are created by their users; only the prefix is ever shown."""

    list_display = ("name", "user", "prefix", "created_at", "last_used_at", "revoked_at")
    list_select_related = ("user",)
    search_fields = ("user__username", "name", "prefix")
    exclude = ("key_hash",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: ApiToken | None = None) -> bool:
        return False
