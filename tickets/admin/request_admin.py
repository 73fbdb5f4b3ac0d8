"""The triage desk: the request queue (changelist) and the request page (change view).

Requests change only through transitions: the request page is read-only (no add, no save, no
delete) and shows one button, with its form where input is needed, for each transition the
current user may take now (`services.available_transitions`). Every POST calls a service; a
refusal becomes an admin error message, never a 500.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Exists, F, OuterRef, QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed, HttpResponseRedirect, QueryDict
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.html import format_html, format_html_join
from django.utils.timesince import timesince

from accounts.roles import is_agent

from .. import services
from ..admin_forms import CONFIRM_TRANSITIONS, TRANSITION_FORMS, NoteForm
from ..errors import InvalidInput, TransitionRefused
from ..models import FINAL_STATES, OPEN_STATES, ReassessmentRequest, ScreeningFlag, SlaStatus, State
from ..sla import DAY_SECONDS, business_time_left, sla_status_expression
from ..validation import country_choices
from .filters import (
    AssigneeFilter,
    CountryFilter,
    FlaggedFilter,
    IsvFilter,
    QueueStateFilter,
    ServiceFilter,
    SlaStatusFilter,
)

# The staff transitions the desk offers, in the order the buttons appear, with their services.
DESK_SERVICES: dict[str, Callable[..., ReassessmentRequest]] = {
    "claim": services.request_claim,
    "claim_reevaluation": services.request_claim_reevaluation,
    "request_info": services.request_request_info,
    "approve": services.request_approve,
    "reject": services.request_reject,
    "reject_final": services.request_reject_final,
}
MAX_BULK_CLAIM = 200
_REFERENCE = re.compile(r"^RR-\d{4}-\d{1,9}$", re.IGNORECASE)
_COUNTRY_NAMES: dict[str, str] = {}


def country_name(code: str) -> str:
    if not _COUNTRY_NAMES:
        _COUNTRY_NAMES.update(country_choices())
    return _COUNTRY_NAMES.get(code, code)


def format_business_seconds(seconds: float) -> str:
    """Business time as days (of 24 business hours) and hours: "2d 5h", "7h", "<1h"."""
    seconds = abs(seconds)
    days, rest = divmod(int(seconds), int(DAY_SECONDS))
    hours = rest // 3600
    if days and hours:
        return f"{days}d {hours}h"
    if days:
        return f"{days}d"
    return f"{hours}h" if hours else "<1h"


# Beyond this much calendar time past the target, the queue says so instead of counting business
# days one by one (a long-forgotten request would otherwise cost a calendar walk per row).
LONG_OVERDUE = timedelta(days=31)


def sla_remaining_text(req: ReassessmentRequest, now: datetime) -> str:
    if (
        req.sla_target_at is not None
        and req.sla_stopped_at is None
        and req.sla_paused_at is None
        and now - req.sla_target_at > LONG_OVERDUE
    ):
        return "a month or more over target"
    left = business_time_left(req, now)
    if left is None:
        return ""
    if left >= 0:
        return f"{format_business_seconds(left)} left"
    return f"{format_business_seconds(left)} over target"


def success_message(name: str, req: ReassessmentRequest) -> str:
    ref = req.reference
    if name == "claim":
        return f"You claimed {ref}; it is in review and assigned to you."
    if name == "claim_reevaluation":
        return f"You claimed the re-evaluation of {ref}."
    if name == "request_info":
        return f"{ref}: information requested from the customer; the SLA clock is paused until they reply."
    if name == "approve":
        return f"{ref} approved ({req.get_decision_outcome_display().lower()}). The customer was told by email."
    if name == "reject" and req.state == State.REJECTED_FINAL:
        return f"{ref} rejected with a zero-tolerance reason: the decision is final."
    if name == "reject":
        return f"{ref} rejected. The customer may ask for one re-evaluation."
    return f"{ref} rejected (final)."


class CappedCountPaginator(Paginator):
    """Counts at most CAP rows (a COUNT over a LIMIT subquery), so paging an unfiltered queue of a
    million requests does not scan the table on every page."""

    CAP = 10_000

    @cached_property
    def count(self) -> int:
        # Without ordering and annotations the capped count is an index scan that stops at CAP.
        return self.object_list.order_by().values("pk")[: self.CAP].count()


@admin.register(ReassessmentRequest)
class ReassessmentRequestAdmin(admin.ModelAdmin):
    change_form_template = "admin/tickets/reassessmentrequest/change_form.html"
    list_display = (
        "reference",
        "company",
        "account_name",
        "state_badge",
        "assignee_name",
        "sla_badge",
        "age",
        "flagged",
    )
    list_display_links = ("reference",)
    list_select_related = ("account", "assignee")
    list_filter = (
        QueueStateFilter,
        SlaStatusFilter,
        AssigneeFilter,
        ServiceFilter,
        CountryFilter,
        IsvFilter,
        FlaggedFilter,
    )
    search_fields = ("reference", "company_name", "company_website", "account__name")
    search_help_text = "Reference (RR-2026-000042), company, website or account name."
    # Most urgent first: the earliest breach deadline; paused requests (no deadline) last.
    ordering = (F("sla_breach_at").asc(nulls_last=True), "submitted_at", "pk")
    list_per_page = 50
    show_full_result_count = False
    # Facet counts would run one COUNT per filter choice over the whole table on every page.
    show_facets = admin.ShowFacets.NEVER
    paginator = CappedCountPaginator
    actions = ("claim_selected",)

    fieldsets = (
        (
            "Request",
            {
                "fields": (
                    ("reference", "state"),
                    ("account_link", "created_by"),
                    ("assignee", "submitted_at"),
                )
            },
        ),
        (
            "Mandatory details",
            {
                "fields": (
                    "company_name",
                    "website_link",
                    ("use_case", "use_case_details"),
                    "services_display",
                    "sample_message",
                    "countries_display",
                    ("estimated_monthly_units", "estimated_monthly_spend"),
                    "reevaluation_details",
                )
            },
        ),
        (
            "Decision (internal)",
            {
                "fields": (
                    ("decision_outcome", "reason_code"),
                    ("decided_by", "decided_at"),
                    "cycle1_decided_by",
                    "reevaluation_due_at",
                )
            },
        ),
    )

    class Media:
        css = {"all": ("admin_desk/desk.css",)}
        js = ("admin_desk/desk.js",)

    # --- permissions: read-only rows, changed only through transitions -----------------------------

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # customers file requests; staff never create them

    def has_change_permission(self, request: HttpRequest, obj: ReassessmentRequest | None = None) -> bool:
        return False  # no save button: transitions are the only way a request changes

    def has_delete_permission(self, request: HttpRequest, obj: ReassessmentRequest | None = None) -> bool:
        return False  # requests are records; finals are protected by a trigger anyway

    def has_claim_permission(self, request: HttpRequest) -> bool:
        return is_agent(request.user)

    def get_actions(self, request: HttpRequest) -> dict[str, Any]:
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    # --- the queue ----------------------------------------------------------------------------------

    def changelist_view(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> HttpResponse:
        extra_context = {"title": "Queue: open requests, most urgent first", **(extra_context or {})}
        return super().changelist_view(request, extra_context)

    def get_queryset(self, request: HttpRequest) -> QuerySet[ReassessmentRequest]:
        # Drafts are the customer's unfinished work: the desk never sees them.
        return (
            super()
            .get_queryset(request)
            .exclude(state=State.DRAFT)
            .select_related("account", "assignee")
            .annotate(
                sla_status_now=sla_status_expression(timezone.now()),
                is_flagged=Exists(ScreeningFlag.objects.filter(request_id=OuterRef("pk"))),
            )
        )

    def get_ordering(self, request: HttpRequest) -> tuple[Any, ...]:
        # Open requests: most urgent first (index rr_open_queue). Once decided requests are in the
        # list, urgency means nothing and sorting a million rows by deadline is slow: newest first.
        queue = request.GET.get(QueueStateFilter.parameter_name, QueueStateFilter.default_value)
        if queue == "open" or queue in OPEN_STATES:
            return self.ordering
        return ("-submitted_at", "-pk")

    def get_search_results(self, request: HttpRequest, queryset: QuerySet, search_term: str) -> tuple[QuerySet, bool]:
        term = search_term.strip()
        if _REFERENCE.match(term):
            # A reference is unique and indexed: skip the slow substring scan over every column.
            return queryset.filter(reference=term.upper()), False
        return super().get_search_results(request, queryset, search_term)

    @admin.display(description="Company", ordering="company_name")
    def company(self, obj: ReassessmentRequest) -> str:
        return obj.company_name or "—"

    @admin.display(description="Account", ordering="account__name")
    def account_name(self, obj: ReassessmentRequest) -> str:
        return obj.account.name

    @admin.display(description="State", ordering="state")
    def state_badge(self, obj: ReassessmentRequest) -> str:
        return format_html('<span class="desk-state desk-state--{}">{}</span>', obj.state, obj.get_state_display())

    @admin.display(description="Assignee", ordering="assignee__username")
    def assignee_name(self, obj: ReassessmentRequest) -> str:
        if obj.assignee is None:
            return format_html('<span class="desk-muted">{}</span>', "unassigned")
        return obj.assignee.get_full_name() or obj.assignee.get_username()

    @admin.display(description="SLA", ordering=F("sla_breach_at").asc(nulls_last=True))
    def sla_badge(self, obj: ReassessmentRequest) -> str:
        status = getattr(obj, "sla_status_now", None)
        if status is None:
            status = obj.sla_status
        if not status:
            return "—"
        return format_html(
            '<span class="desk-sla desk-sla--{}">{}</span> <span class="desk-sla-left">{}</span>',
            status,
            SlaStatus(status).label,
            sla_remaining_text(obj, timezone.now()),
        )

    @admin.display(description="Age", ordering="submitted_at")
    def age(self, obj: ReassessmentRequest) -> str:
        started = obj.submitted_at or obj.created_at
        return timesince(started, timezone.now(), depth=1)

    @admin.display(description="Flags")
    def flagged(self, obj: ReassessmentRequest) -> str:
        if getattr(obj, "is_flagged", False):
            return format_html('<span class="desk-tag desk-tag--warn" title="{}">⚑ flagged</span>', "Screening flags")
        return ""

    # --- read-only detail fields --------------------------------------------------------------------

    @admin.display(description="Account")
    def account_link(self, obj: ReassessmentRequest) -> str:
        account = obj.account
        url = reverse("admin:accounts_account_change", args=[account.pk])
        tags = []
        if account.is_isv:
            tags.append("ISV")
        if account.parent_id:
            tags.append("ISV sub-account")
        return format_html(
            '<a href="{}">{}</a> {}',
            url,
            account.name,
            format_html_join(" ", '<span class="desk-tag">{}</span>', ((t,) for t in tags)),
        )

    @admin.display(description="Website")
    def website_link(self, obj: ReassessmentRequest) -> str:
        if not obj.company_website:
            return "—"
        if not obj.company_website.lower().startswith(("https://", "http://")):
            return obj.company_website  # validation allows only http(s); never make anything else a link
        return format_html(
            '<a href="{}" target="_blank" rel="noopener noreferrer nofollow">{}</a>',
            obj.company_website,
            obj.company_website,
        )

    @admin.display(description="Services")
    def services_display(self, obj: ReassessmentRequest) -> str:
        from ..models import Service

        labels = dict(Service.choices)
        return ", ".join(labels.get(s, s) for s in obj.services or []) or "—"

    @admin.display(description="Destination countries")
    def countries_display(self, obj: ReassessmentRequest) -> str:
        return ", ".join(f"{country_name(c)} ({c})" for c in obj.destination_countries or []) or "—"

    def get_readonly_fields(self, request: HttpRequest, obj: ReassessmentRequest | None = None) -> list[str]:
        return [
            field
            for _, options in self.fieldsets
            for row in options["fields"]
            for field in (row if isinstance(row, tuple) else (row,))
        ]

    # --- the request page ---------------------------------------------------------------------------

    def get_urls(self) -> list[URLPattern]:
        info = self.opts.app_label, self.opts.model_name
        wrap = self.admin_site.admin_view
        return [
            path(
                "<path:object_id>/transition/<str:name>/",
                wrap(self.transition_view),
                name="{}_{}_transition".format(*info),
            ),
            path("<path:object_id>/message/", wrap(self.message_view), name="{}_{}_message".format(*info)),
            *super().get_urls(),
        ]

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        extra_context = dict(extra_context or {})
        obj = self.get_object(request, unquote(object_id))
        if obj is not None and self.has_view_permission(request, obj):
            extra_context["desk"] = self.desk_context(
                request,
                obj,
                bound_forms=extra_context.pop("desk_bound_forms", {}),
                note_form=extra_context.pop("desk_note_form", None),
            )
            extra_context["title"] = f"{obj.reference} — {obj.company_name or obj.account.name}"
        return super().change_view(request, object_id, form_url, extra_context)

    def desk_context(
        self,
        request: HttpRequest,
        obj: ReassessmentRequest,
        *,
        bound_forms: dict[str, Any],
        note_form: NoteForm | None,
    ) -> dict[str, Any]:
        now = timezone.now()
        user = request.user
        buttons = []
        if obj.state not in FINAL_STATES:
            for name in services.available_transitions(obj, user):
                if name not in DESK_SERVICES:
                    continue
                form_class = TRANSITION_FORMS.get(name)
                form = bound_forms.get(name) or (form_class(request_obj=obj, prefix=name) if form_class else None)
                buttons.append(
                    {
                        "name": name,
                        "label": services.TRANSITION_LABELS[name],
                        "form": form,
                        "open": name in bound_forms,
                        "confirm": CONFIRM_TRANSITIONS.get(name, ""),
                        "url": reverse("admin:tickets_reassessmentrequest_transition", args=[obj.pk, name]),
                    }
                )
            buttons.sort(key=lambda b: list(DESK_SERVICES).index(b["name"]))
        can_write = is_agent(user) and obj.state not in FINAL_STATES
        messages_ = list(obj.messages.select_related("author"))
        account = obj.account
        return {
            "now": now,
            "is_final": obj.state in FINAL_STATES,
            "sla_status": obj.sla_status,
            "sla_status_label": SlaStatus(obj.sla_status).label if obj.sla_status else "",
            "sla_left": sla_remaining_text(obj, now),
            "buttons": buttons,
            "why_no_buttons": self._why_no_buttons(obj, user),
            "evidence": list(obj.evidence.select_related("uploaded_by")),
            "conversation": messages_,
            "public_count": sum(1 for m in messages_ if not m.internal),
            "internal_count": sum(1 for m in messages_ if m.internal),
            "note_form": (note_form or NoteForm(prefix="note")) if can_write else None,
            "note_url": reverse("admin:tickets_reassessmentrequest_message", args=[obj.pk]),
            "audit": list(obj.transitions.select_related("actor")),
            "cycles": list(obj.sla_cycles.all()),
            "events": list(obj.sla_events.all()),
            "restrictions": list(account.restrictions.select_related("applied_by", "lifted_by")),
            "lifted_by_this": set(obj.lifted_restrictions.values_list("pk", flat=True)),
            "signals": list(account.risk_signals.select_related("recorded_by")),
            "flags": list(obj.screening_flags.select_related("rule")),
            "other_requests": list(
                account.reassessment_requests.exclude(pk=obj.pk).exclude(state=State.DRAFT).order_by("-created_at")[:10]
            ),
            "account": account,
            "restriction_changelist": reverse("admin:accounts_restriction_changelist")
            + f"?account__id__exact={account.pk}",
        }

    def _why_no_buttons(self, obj: ReassessmentRequest, user: Any) -> str:
        if obj.state in FINAL_STATES:
            return "This request is final: it is read-only and no transition leaves this state."
        if not is_agent(user):
            return "Your role can read requests but not act on them."
        if obj.state == State.REJECTED:
            return "Waiting for the customer: they may ask for one re-evaluation until the window closes."
        if obj.state == State.AWAITING_CUSTOMER:
            return "Waiting for the customer's answer; the SLA clock is paused."
        if obj.assignee_id and obj.assignee_id != user.pk:
            holder = obj.assignee.get_full_name() or obj.assignee.get_username()
            return f"Assigned to {holder}: only the assignee decides."
        if obj.state == State.REEVALUATION_REQUESTED:
            return "A re-evaluation is claimed by a senior reviewer who did not decide the first review."
        return "No transition is open to you right now."

    def _render_page(self, request: HttpRequest, object_id: str, **extra: Any) -> HttpResponse:
        """Re-render the request page (e.g. with a form and its errors) after a POST."""
        get_request = copy.copy(request)
        get_request.method = "GET"
        get_request.POST = QueryDict()
        response = self.change_view(get_request, object_id, extra_context=extra)
        response.status_code = 400
        return response

    def _load(self, request: HttpRequest, object_id: str) -> ReassessmentRequest:
        obj = self.get_object(request, unquote(object_id))
        if obj is None:
            raise Http404("No such request.")
        if not self.has_view_permission(request, obj):
            raise PermissionDenied
        return obj

    def transition_view(self, request: HttpRequest, object_id: str, name: str) -> HttpResponse:
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        if name not in DESK_SERVICES:
            raise Http404("No such transition.")
        obj = self._load(request, object_id)
        change_url = reverse("admin:tickets_reassessmentrequest_change", args=[obj.pk])
        label = services.TRANSITION_LABELS[name]
        form_class = TRANSITION_FORMS.get(name)
        form = form_class(request.POST, request_obj=obj, prefix=name) if form_class else None
        kwargs: dict[str, Any] = {}
        if form is not None:
            if not form.is_valid():
                messages.error(request, f"{label}: please correct the errors below.")
                return self._render_page(request, object_id, desk_bound_forms={name: form})
            kwargs = form.service_kwargs()
        try:
            req = DESK_SERVICES[name](request_id=obj.pk, actor=request.user, **kwargs)
        except InvalidInput as exc:
            messages.error(request, f"{label} refused: {exc.message}")
            if form is not None:
                for field, errors in exc.errors.items():
                    form.add_error(field if field in form.fields else None, errors)
                return self._render_page(request, object_id, desk_bound_forms={name: form})
        except TransitionRefused as exc:
            messages.error(request, f"{label} refused: {exc.message}")
        else:
            # The admin's History tab lists it too (the audit trail proper is RequestTransition).
            self.log_change(request, req, label)
            messages.success(request, success_message(name, req))
        return HttpResponseRedirect(change_url)

    def message_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        obj = self._load(request, object_id)
        change_url = reverse("admin:tickets_reassessmentrequest_change", args=[obj.pk])
        if obj.state in FINAL_STATES:
            messages.error(request, "This request is final and read-only; nothing was added.")
            return HttpResponseRedirect(change_url)
        form = NoteForm(request.POST, prefix="note")
        if not form.is_valid():
            messages.error(request, "Please correct the errors in the message form.")
            return self._render_page(request, object_id, desk_note_form=form)
        internal = form.cleaned_data["kind"] == NoteForm.Kind.INTERNAL
        try:
            services.message_post(
                request_id=obj.pk, actor=request.user, body=form.cleaned_data["body"], internal=internal
            )
        except TransitionRefused as exc:
            messages.error(request, f"Message refused: {exc.message}")
        else:
            messages.success(request, "Internal note added." if internal else "Reply sent to the customer.")
        return HttpResponseRedirect(change_url + "#desk-conversation")

    # --- bulk actions -------------------------------------------------------------------------------

    @admin.action(description="Claim selected requests", permissions=["claim"])
    def claim_selected(self, request: HttpRequest, queryset: QuerySet[ReassessmentRequest]) -> TemplateResponse | None:
        rows = list(queryset.order_by("pk").values_list("pk", "reference")[: MAX_BULK_CLAIM + 1])
        if len(rows) > MAX_BULK_CLAIM:
            messages.error(request, f"Select at most {MAX_BULK_CLAIM} requests to claim at once; nothing was claimed.")
            return None
        claimed: list[str] = []
        for pk, reference in rows:
            # One service call (one transaction) per request: a refusal leaves the others claimed.
            try:
                services.request_claim(request_id=pk, actor=request.user)
            except TransitionRefused as exc:
                messages.warning(request, f"{reference} not claimed: {exc.message}")
            else:
                claimed.append(reference)
        if claimed:
            messages.success(request, f"Claimed {len(claimed)} of {len(rows)}: {', '.join(claimed)}.")
        return None
