"""The report's filter form: a date range and the services / ISV / assignee filters."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django import forms
from django.contrib.auth import get_user_model
from django.db.models import Q

from accounts.roles import ACCOUNTS_TEAM, SENIOR_REVIEWERS
from tickets.models import Service

from .selectors import UNASSIGNED, ReportParams, default_range

MAX_RANGE_DAYS = 366 * 2


def assignee_choices() -> list[tuple[str, str]]:
    """Everybody who can hold a request: the accounts team and senior reviewers (one query)."""
    users = (
        get_user_model()
        .objects.filter(Q(groups__name__in=[ACCOUNTS_TEAM, SENIOR_REVIEWERS]) | Q(is_superuser=True), is_staff=True)
        .distinct()
        .order_by("first_name", "last_name", "username")
    )
    return [
        ("", "Everybody"),
        (UNASSIGNED, "Unassigned"),
        *[(str(u.pk), u.get_full_name() or u.get_username()) for u in users],
    ]


class ReportFilterForm(forms.Form):
    date_from = forms.DateField(label="From", required=False, widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(label="To", required=False, widget=forms.DateInput(attrs={"type": "date"}))
    services = forms.MultipleChoiceField(
        label="Services", required=False, choices=Service.choices, widget=forms.CheckboxSelectMultiple
    )
    isv = forms.ChoiceField(
        label="Account type",
        required=False,
        choices=[("", "All accounts"), ("yes", "ISV accounts only"), ("no", "Non-ISV accounts only")],
    )
    assignee = forms.ChoiceField(label="Agent", required=False, choices=[])

    def __init__(self, *args: Any, now: datetime, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.now = now
        self.fields["assignee"].choices = assignee_choices()
        default_from, default_to = default_range(now)
        # An unbound form shows the range the page is reporting on.
        self.fields["date_from"].initial = default_from
        self.fields["date_to"].initial = default_to

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        default_from, default_to = default_range(self.now)
        date_from: date = data.get("date_from") or default_from
        date_to: date = data.get("date_to") or default_to
        if date_to < date_from:
            self.add_error("date_to", "The end of the range must not be before its start.")
        elif (date_to - date_from).days > MAX_RANGE_DAYS:
            self.add_error("date_from", f"Choose a range of at most {MAX_RANGE_DAYS} days.")
        data["date_from"], data["date_to"] = date_from, date_to
        return data

    def params(self) -> ReportParams:
        """The report parameters; the defaults when the form is invalid (the page shows the errors)."""
        if not self.is_valid():
            default_from, default_to = default_range(self.now)
            return ReportParams(date_from=default_from, date_to=default_to, now=self.now)
        data = self.cleaned_data
        assignee: int | str | None = None
        if data.get("assignee") == UNASSIGNED:
            assignee = UNASSIGNED
        elif data.get("assignee"):
            assignee = int(data["assignee"])
        isv = {"yes": True, "no": False}.get(data.get("isv") or "")
        return ReportParams(
            date_from=data["date_from"],
            date_to=data["date_to"],
            now=self.now,
            services=tuple(data.get("services") or ()),
            isv=isv,
            assignee=assignee,
        )



