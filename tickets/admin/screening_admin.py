"""Content-screening rules (compliance edits them) and the flags screening recorded (read-only)."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html

from ..admin_forms import ScreeningRuleForm
from ..models import ScreeningFlag, ScreeningRule


@admin.register(ScreeningRule)
class ScreeningRuleAdmin(admin.ModelAdmin):
    form = ScreeningRuleForm
    list_display = ("pattern", "category", "match_type", "is_active", "description")
    list_filter = ("category", "match_type", "is_active")
    search_fields = ("pattern", "description")
    list_per_page = 100
    actions = ("activate", "deactivate")

    @admin.action(description="Activate selected rules", permissions=["change"])
    def activate(self, request: HttpRequest, queryset: QuerySet[ScreeningRule]) -> None:
        # Plain field edits on rules (not requests): a bulk update is fine here.
        count = queryset.update(is_active=True)
        messages.success(request, f"{count} rule(s) active; they apply to requests submitted from now on.")

    @admin.action(description="Deactivate selected rules", permissions=["change"])
    def deactivate(self, request: HttpRequest, queryset: QuerySet[ScreeningRule]) -> None:
        count = queryset.update(is_active=False)
        messages.success(request, f"{count} rule(s) inactive; existing flags stay on their requests.")


@admin.register(ScreeningFlag)
class ScreeningFlagAdmin(admin.ModelAdmin):
    """What screening found; written by tickets/screening.py only."""

    list_display = ("request_link", "category", "field", "matched_text", "rule", "created_at")
    list_filter = ("category", "field")
    list_select_related = ("request", "rule")
    search_fields = ("request__reference", "matched_text")
    show_full_result_count = False

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: ScreeningFlag | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: ScreeningFlag | None = None) -> bool:
        return False

    @admin.display(description="Request", ordering="request__reference")
    def request_link(self, obj: ScreeningFlag) -> str:
        url = reverse("admin:tickets_reassessmentrequest_change", args=[obj.request_id])
        return format_html('<a href="{}">{}</a>', url, obj.request.reference)
