"""Portal forms. They only collect input: the formats and the rules live in tickets/validation.py
and the services, so the portal, the API and the services give the same messages. A service's
InvalidInput is copied onto the form with `add_service_errors`, next to the field it names."""

from __future__ import annotations

from typing import Any

from django import forms

from tickets.models import Evidence, Service, UseCase
from tickets.validation import country_choices

EVIDENCE_HELP = (
    "Anything that shows your business is real: a certificate of incorporation, an employer "
    "identification number (EIN), a business card, a Better Business Bureau membership (North America) "
    "or FCA Financial Services Register listing (UK), a screenshot of your application or platform, "
    "press mentions of your business, or, for individuals, a Fiverr, Upwork or LinkedIn profile."
)
SAMPLE_MESSAGE_HELP = (
    "Paste one real message exactly as your customers will receive it, including any link and "
    "your brand name, e.g. “Your Acme order 12345 is out for delivery and arrives today.”"
)


class RequestDetailsForm(forms.Form):
    """The mandatory details of a request (the seed's list). Everything is optional here because
    a draft may be incomplete; submit checks completeness through the service."""

    company_name = forms.CharField(
        label="Company name",
        required=False,
        help_text="Your registered business name, or your own name if you are an individual.",
        widget=forms.TextInput(attrs={"autocomplete": "organization"}),
    )
    company_website = forms.CharField(
        label="Company website",
        required=False,
        help_text="The public address of your business, e.g. https://example.com.",
        widget=forms.TextInput(attrs={"autocomplete": "url", "inputmode": "url"}),
    )
    use_case = forms.ChoiceField(
        label="What will you use our services for?",
        required=False,
        choices=[("", "Choose a use case…"), *UseCase.choices],
        help_text="For example one-time passwords (OTP) or order tracking.",
    )
    use_case_details = forms.CharField(
        label="Use case details",
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=(
            "Who receives your messages or calls, why, and how they agreed to it. Required when you choose “Other”."
        ),
    )
    services = forms.MultipleChoiceField(
        label="Services you want to use",
        required=False,
        choices=Service.choices,
        widget=forms.CheckboxSelectMultiple,
        help_text="Choose every service you need.",
    )
    sample_message = forms.CharField(
        label="Sample message",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=SAMPLE_MESSAGE_HELP + " Required when you choose SMS.",
    )
    destination_countries = forms.MultipleChoiceField(
        label="Countries you will send traffic to",
        required=False,
        choices=country_choices,
        widget=forms.SelectMultiple(attrs={"size": 8}),
        help_text="Choose every country your messages or calls will go to.",
    )
    estimated_monthly_units = forms.CharField(
        label="Estimated units per month",
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "numeric"}),
        help_text="Messages sent plus minutes of calls you expect per month, e.g. 20000.",
    )
    estimated_monthly_spend = forms.CharField(
        label="Estimated spend per month (US dollars)",
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "decimal"}),
        help_text="What you expect to spend per month, in US dollars, e.g. 350.",
    )

    def details(self) -> dict[str, Any]:
        """The submitted details, as the services expect them (raw text; the service cleans)."""
        data = self.cleaned_data
        return {
            "company_name": data.get("company_name", ""),
            "company_website": data.get("company_website", ""),
            "use_case": data.get("use_case", ""),
            "use_case_details": data.get("use_case_details", ""),
            "services": list(data.get("services") or []),
            "sample_message": data.get("sample_message", ""),
            "destination_countries": list(data.get("destination_countries") or []),
            "estimated_monthly_units": data.get("estimated_monthly_units", ""),
            "estimated_monthly_spend": data.get("estimated_monthly_spend", ""),
        }


def initial_from_request(req: Any) -> dict[str, Any]:
    spend = req.estimated_monthly_spend
    return {
        "company_name": req.company_name,
        "company_website": req.company_website,
        "use_case": req.use_case,
        "use_case_details": req.use_case_details,
        "services": list(req.services or []),
        "sample_message": req.sample_message,
        "destination_countries": list(req.destination_countries or []),
        "estimated_monthly_units": "" if req.estimated_monthly_units is None else str(req.estimated_monthly_units),
        "estimated_monthly_spend": "" if spend is None else f"{spend:.2f}",
    }


def add_service_errors(form: forms.Form, errors: dict[str, list[str]]) -> None:
    """Put a service's per-field messages next to their fields (others at the top)."""
    for field, messages in errors.items():
        target = field if field in form.fields else None
        for message in messages:
            form.add_error(target, message)


class EvidenceUploadForm(forms.Form):
    kind = forms.ChoiceField(
        label="What is it?",
        choices=[("", "Choose what the evidence is…"), *Evidence.Kind.choices],
    )
    files = forms.FileField(
        label="Files",
        required=False,
        help_text="PDF, PNG, JPEG or WEBP; up to 10 MB a file. You can choose several files at once.",
    )
    url = forms.CharField(
        label="Or a link",
        required=False,
        help_text="An https:// address, e.g. your LinkedIn profile or a press article.",
        widget=forms.TextInput(attrs={"inputmode": "url", "placeholder": "https://"}),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Django's ClearableFileInput needs allow_multiple_selected for <input multiple>.
        widget = forms.ClearableFileInput(attrs={"accept": ".pdf,.png,.jpg,.jpeg,.webp"})
        widget.allow_multiple_selected = True
        widget.attrs["multiple"] = True
        self.fields["files"].widget = widget


class MessageForm(forms.Form):
    message = forms.CharField(
        label="Your answer",
        widget=forms.Textarea(attrs={"rows": 5}),
        max_length=10_000,
        error_messages={"required": "Write your answer to the accounts team."},
    )


def general_message_form(data: Any = None) -> MessageForm:
    """A message to the accounts team while the request is open (not an answer to a question)."""
    form = MessageForm(data, prefix="msg")
    form.fields["message"].label = "Write to the accounts team"
    form.fields["message"].error_messages["required"] = "Write a message."
    form.fields["message"].widget.attrs["rows"] = 3
    return form


class ReevaluationForm(forms.Form):
    details = forms.CharField(
        label="What should we know for the re-evaluation?",
        widget=forms.Textarea(attrs={"rows": 6}),
        max_length=10_000,
        help_text=(
            "Tell us what changed or what we may have missed: for example your business registration "
            "number, a live website, how your recipients opt in, or references from carriers. "
            "Attach new evidence below as well."
        ),
        error_messages={"required": "Tell us what we should know for the re-evaluation."},
    )
