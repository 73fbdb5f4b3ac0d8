"""Forms of the triage desk (Django admin): one per transition that needs input, the note/reply
form and the screening-rule form.

The forms only collect and shape input; the services in tickets/services.py validate policy and
take the transition. A transition without input (claim, claim_reevaluation) has no form.
"""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from accounts.models import Restriction

from .models import ZERO_TOLERANCE_REASONS, ReasonCode, ReassessmentRequest, ScreeningRule
from .services import MAX_MESSAGE_LENGTH

_TEXTAREA = {"rows": 4, "cols": 60}


class RequestInfoForm(forms.Form):
    message = forms.CharField(
        label="Message to the customer",
        widget=forms.Textarea(attrs={**_TEXTAREA, "placeholder": "What do you need from the customer?"}),
        max_length=MAX_MESSAGE_LENGTH,
        help_text="The customer sees this message and gets it by email. The SLA clock pauses until they reply.",
    )

    def __init__(self, *args: Any, request_obj: ReassessmentRequest, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)

    def service_kwargs(self) -> dict[str, Any]:
        return {"message": self.cleaned_data["message"]}


class RestrictionChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Restriction) -> str:
        status = "" if obj.status == Restriction.Status.ACTIVE else f" [{obj.get_status_display().lower()}]"
        return f"#{obj.pk} {obj}{status} — {obj.get_source_display()}, since {obj.applied_at:%Y-%m-%d}"


class ApproveForm(forms.Form):
    lift = RestrictionChoiceField(
        label="Restrictions to lift",
        queryset=Restriction.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Restrictions left unticked stay in place; the outcome is then “limited”.",
    )
    message = forms.CharField(
        label="Message to the customer (optional)",
        widget=forms.Textarea(attrs=_TEXTAREA),
        required=False,
        max_length=MAX_MESSAGE_LENGTH,
    )

    def __init__(self, *args: Any, request_obj: ReassessmentRequest, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Anything not yet lifted may be lifted (the service accepts active and limited ones).
        self.fields["lift"].queryset = (
            Restriction.objects.filter(account_id=request_obj.account_id)
            .exclude(status=Restriction.Status.LIFTED)
            .order_by("pk")
        )

    def service_kwargs(self) -> dict[str, Any]:
        return {"lift": [r.pk for r in self.cleaned_data["lift"]], "message": self.cleaned_data["message"]}


def _reason_choices() -> list[tuple[str, str]]:
    choices = [("", "— choose a reason (internal) —")]
    for value, label in ReasonCode.choices:
        suffix = " (final: no re-evaluation)" if value in ZERO_TOLERANCE_REASONS else ""
        choices.append((value, f"{label}{suffix}"))
    return choices


class RejectForm(forms.Form):
    reason_code = forms.ChoiceField(
        label="Reason code",
        choices=_reason_choices,
        help_text="Internal: the customer never sees it. A zero-tolerance reason makes the rejection final.",
    )
    note = forms.CharField(
        label="Internal note",
        widget=forms.Textarea(attrs=_TEXTAREA),
        required=False,
        max_length=MAX_MESSAGE_LENGTH,
        help_text="Staff only; kept with the decision in the audit trail.",
    )

    def __init__(self, *args: Any, request_obj: ReassessmentRequest, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)

    def service_kwargs(self) -> dict[str, Any]:
        return {"reason_code": self.cleaned_data["reason_code"], "note": self.cleaned_data["note"]}


class RejectFinalForm(RejectForm):
    def __init__(self, *args: Any, request_obj: ReassessmentRequest, **kwargs: Any) -> None:
        super().__init__(*args, request_obj=request_obj, **kwargs)
        self.fields["reason_code"].help_text = "Internal: the customer never sees it. This decision is final."


# Transition name -> its input form. Transitions missing here need no input (a plain button).
TRANSITION_FORMS: dict[str, type[forms.Form]] = {
    "request_info": RequestInfoForm,
    "approve": ApproveForm,
    "reject": RejectForm,
    "reject_final": RejectFinalForm,
}
# Decisions that cannot be undone: the button asks for confirmation first (static/admin_desk/desk.js).
CONFIRM_TRANSITIONS = {
    "approve": "Approve this request? The decision is final.",
    "reject_final": "Reject this request finally? This cannot be undone.",
}


class NoteForm(forms.Form):
    class Kind:
        INTERNAL = "internal"
        PUBLIC = "public"

    body = forms.CharField(label="Message", widget=forms.Textarea(attrs=_TEXTAREA), max_length=MAX_MESSAGE_LENGTH)
    kind = forms.ChoiceField(
        label="Visible to",
        choices=[(Kind.INTERNAL, "Staff only (internal note)"), (Kind.PUBLIC, "The customer (public reply, emailed)")],
        initial=Kind.INTERNAL,
        widget=forms.RadioSelect,
    )


class ScreeningRuleForm(forms.ModelForm):
    """Validates the pattern for its match type on save, so a broken rule never reaches screening."""

    class Meta:
        model = ScreeningRule
        fields = ["category", "match_type", "pattern", "is_active", "description"]

    _HOST = re.compile(r"^(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        pattern = (data.get("pattern") or "").strip()
        match_type = data.get("match_type")
        if not pattern:
            return data
        if match_type == ScreeningRule.MatchType.REGEX:
            try:
                compiled = re.compile(pattern, re.IGNORECASE)
            except re.error as exc:
                raise ValidationError({"pattern": f"This is not a valid regular expression: {exc}."})
            if compiled.search(""):
                raise ValidationError({"pattern": "This expression matches empty text, so it would flag everything."})
        elif match_type == ScreeningRule.MatchType.DOMAIN:
            pattern = pattern.lower().removeprefix("https://").removeprefix("http://").strip("/").lstrip(".")
            if not self._HOST.match(pattern):
                raise ValidationError({"pattern": "Give a domain name such as bit.ly (no path, no scheme)."})
        elif not re.search(r"\w", pattern):
            raise ValidationError({"pattern": "A keyword needs at least one letter or digit."})
        data["pattern"] = pattern
        return data
