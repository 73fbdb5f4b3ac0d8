"""Queue filters. Each is computed at read time (the SLA status from the stored deadlines and now)
and stays index-friendly: no filter runs a query to build its own choices."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.contrib import admin
from django.contrib.admin.views.main import ChangeList
from django.db import connection
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.http import HttpRequest
from django.utils import timezone

from ..models import OPEN_STATES, ScreeningFlag, Service, SlaStatus, State
from ..validation import COUNTRY_CODES


class DefaultValueFilter(admin.SimpleListFilter):
    """A filter with a default value applied when the URL names none, and an explicit "All"."""

    default_value = ""
    all_value = "all"
    all_label = "All"

    def current(self) -> str:
        return self.value() or self.default_value

    def choices(self, changelist: ChangeList) -> Iterator[dict[str, Any]]:
        current = self.current()
        for lookup, title in self.lookup_choices:
            yield {
                "selected": current == str(lookup),
                "query_string": changelist.get_query_string({self.parameter_name: lookup}),
                "display": title,
            }
        yield {
            "selected": current == self.all_value,
            "query_string": changelist.get_query_string({self.parameter_name: self.all_value}),
            "display": self.all_label,
        }


class QueueStateFilter(DefaultValueFilter):
    """The queue opens on open requests (the ones that need the team); "All" includes decided ones."""

    title = "state"
    parameter_name = "queue"
    default_value = "open"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("open", "Open (needs work)"), *[(s.value, s.label) for s in State if s != State.DRAFT]]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        value = self.current()
        if value == "open":
            return queryset.filter(state__in=OPEN_STATES)
        if value in State.values:
            return queryset.filter(state=value)
        return queryset


class SlaStatusFilter(admin.SimpleListFilter):
    title = "SLA status (now)"
    parameter_name = "sla"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [(s.value, s.label) for s in SlaStatus]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        if self.value() in SlaStatus.values:
            return queryset.filter_sla_status(self.value(), timezone.now())
        return queryset


class AssigneeFilter(DefaultValueFilter):
    title = "assignee"
    parameter_name = "assignee"
    default_value = "anyone"
    all_value = "anyone"
    all_label = "Anyone"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("mine", "Mine"), ("unassigned", "Unassigned")]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        value = self.current()
        if value == "mine":
            return queryset.filter(assignee=request.user)
        if value == "unassigned":
            return queryset.filter(assignee__isnull=True)
        return queryset


def json_list_contains(field: str, value: str) -> Q:
    """Rows whose JSON list `field` holds `value`. PostgreSQL has jsonb containment; SQLite has no
    `contains` on JSON, so there the quoted value is matched in the JSON text (our values are plain
    tokens, so a quoted match is exact)."""
    if connection.vendor == "postgresql":
        return Q(**{f"{field}__contains": [value]})
    return Q(**{f"{field}__icontains": f'"{value}"'})


class ServiceFilter(admin.SimpleListFilter):
    title = "service"
    parameter_name = "service"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return list(Service.choices)

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        if self.value() in Service.values:
            return queryset.filter(json_list_contains("services", self.value()))
        return queryset


class CountryFilter(admin.SimpleListFilter):
    """A text box (ISO code) rather than 249 links: the list would drown the sidebar."""

    title = "destination country"
    parameter_name = "country"
    template = "admin/admin_desk/input_filter.html"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        # A lookup list is required for the filter to show; the template renders a text box.
        return [("", "")]

    def has_output(self) -> bool:
        return True

    def code(self) -> str:
        return (self.value() or "").strip().upper()

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        code = self.code()
        if code in COUNTRY_CODES:
            return queryset.filter(json_list_contains("destination_countries", code))
        if code:
            return queryset.none()
        return queryset

    def choices(self, changelist: ChangeList) -> Iterator[dict[str, Any]]:
        # The other parameters ride along as hidden inputs so typing a code keeps them.
        hidden = [(k, v) for k, v in changelist.params.items() if k not in {self.parameter_name, "p"}]
        yield {
            "parameter_name": self.parameter_name,
            "value": self.code(),
            "hidden": hidden,
            "clear_query_string": changelist.get_query_string(remove=[self.parameter_name]),
            "invalid": bool(self.code()) and self.code() not in COUNTRY_CODES,
        }


class IsvFilter(admin.SimpleListFilter):
    title = "ISV"
    parameter_name = "isv"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("yes", "ISV or ISV sub-account"), ("no", "Direct customer")]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        from accounts.models import Account

        # Accounts are few: an id list from a subquery beats an OR across two joins per request row.
        isv_accounts = Account.objects.filter(Q(is_isv=True) | Q(parent__is_isv=True)).values("pk")
        isv = Q(account_id__in=isv_accounts)
        if self.value() == "yes":
            return queryset.filter(isv)
        if self.value() == "no":
            return queryset.exclude(isv)
        return queryset


class FlaggedFilter(admin.SimpleListFilter):
    title = "screening flags"
    parameter_name = "flagged"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("yes", "Flagged"), ("no", "Not flagged")]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        flagged = Exists(ScreeningFlag.objects.filter(request_id=OuterRef("pk")))
        if self.value() == "yes":
            return queryset.filter(flagged)
        if self.value() == "no":
            return queryset.filter(~flagged)
        return queryset
