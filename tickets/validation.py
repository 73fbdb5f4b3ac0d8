"""Validation of a request's mandatory details, with messages a customer understands.

Two levels: `clean_details` checks the format of whatever was given (drafts may be incomplete);
`missing_details` checks that everything mandatory is there (submit). Forms, the API and the
services all use these, so the messages are the same everywhere.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import urlparse

import pycountry
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator

from .models import Service, UseCase

DETAIL_FIELDS = (
    "company_name",
    "company_website",
    "use_case",
    "use_case_details",
    "services",
    "sample_message",
    "destination_countries",
    "estimated_monthly_units",
    "estimated_monthly_spend",
)

MAX_LENGTHS = {
    "company_name": 200,
    "company_website": 500,
    "use_case_details": 5000,
    "sample_message": 2000,
}
MAX_UNITS = 10**12
MAX_SPEND = Decimal("999999999999.99")

COUNTRY_CODES = frozenset(country.alpha_2 for country in pycountry.countries)


def country_choices() -> list[tuple[str, str]]:
    return sorted(((c.alpha_2, c.name) for c in pycountry.countries), key=lambda pair: pair[1])


Errors = dict[str, list[str]]


def _add(errors: Errors, field: str, message: str) -> None:
    errors.setdefault(field, []).append(message)


def clean_details(data: dict[str, Any]) -> tuple[dict[str, Any], Errors]:
    """Check and normalise the details present in `data`. Returns (cleaned, errors)."""
    cleaned: dict[str, Any] = {}
    errors: Errors = {}
    for field in DETAIL_FIELDS:
        if field not in data:
            continue
        value = data[field]
        cleaner = _CLEANERS[field]
        try:
            cleaned[field] = cleaner(value)
        except ValidationError as exc:
            for message in exc.messages:
                _add(errors, field, message)
    return cleaned, errors


def _text(field: str, label: str):
    def clean(value: Any) -> str:
        if value is None:
            return ""
        if not isinstance(value, str):
            raise ValidationError(f"{label} must be text.")
        value = value.strip()
        if "\x00" in value:
            raise ValidationError(f"{label} contains a character that is not allowed.")
        limit = MAX_LENGTHS[field]
        if len(value) > limit:
            raise ValidationError(f"{label} must be at most {limit} characters (it has {len(value)}).")
        return value

    return clean


def _clean_website(value: Any) -> str:
    value = _text("company_website", "The company website")(value)
    if not value:
        return ""
    if "://" not in value:
        # Customers often type "example.com"; assume https rather than refuse.
        value = f"https://{value}"
    scheme = urlparse(value).scheme.lower()
    if scheme not in {"http", "https"}:
        raise ValidationError("The company website must be an http:// or https:// address.")
    try:
        URLValidator(schemes=["http", "https"])(value)
    except ValidationError:
        raise ValidationError("Enter the company website as a full address, e.g. https://example.com.") from None
    return value


def _clean_use_case(value: Any) -> str:
    if value in (None, ""):
        return ""
    if value not in UseCase.values:
        choices = ", ".join(UseCase.values)
        raise ValidationError(f"Choose a use case from the list ({choices}).")
    return str(value)


def _clean_services(value: Any) -> list[str]:
    if value in (None, ""):
        return []
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, (list, tuple)):
        raise ValidationError("Services must be a list, e.g. [\"sms\", \"voice\"].")
    unknown = [item for item in value if item not in Service.values]
    if unknown:
        raise ValidationError(
            f"Unknown service {', '.join(map(str, unknown))}: choose from {', '.join(Service.values)}."
        )
    # Keep the canonical order and drop duplicates.
    return [service for service in Service.values if service in value]


def _clean_countries(value: Any) -> list[str]:
    if value in (None, ""):
        return []
    if isinstance(value, str):
        value = [part for part in value.replace(";", ",").split(",")]
    if not isinstance(value, (list, tuple)):
        raise ValidationError("Destination countries must be a list of two-letter country codes, e.g. [\"US\"].")
    codes: list[str] = []
    unknown: list[str] = []
    for item in value:
        if not isinstance(item, str):
            unknown.append(str(item))
            continue
        code = item.strip().upper()
        if not code:
            continue
        if code in COUNTRY_CODES:
            if code not in codes:
                codes.append(code)
        else:
            unknown.append(item.strip())
    if unknown:
        verb = "is not an ISO 3166-1 country code" if len(unknown) == 1 else "are not ISO 3166-1 country codes"
        raise ValidationError(f"{', '.join(unknown)} {verb} (use two letters, e.g. US, GB, IN).")
    return codes


def _clean_units(value: Any) -> int | None:
    if value in (None, ""):
        return None
    if isinstance(value, bool):
        raise ValidationError("Estimated units per month must be a whole number greater than 0.")
    try:
        if isinstance(value, float) and not value.is_integer():
            raise ValueError
        number = int(str(value).strip().replace(",", "")) if not isinstance(value, int) else value
    except (TypeError, ValueError):
        raise ValidationError("Estimated units per month must be a whole number greater than 0.") from None
    if number <= 0:
        raise ValidationError("Estimated units per month must be greater than 0.")
    if number > MAX_UNITS:
        raise ValidationError("Estimated units per month is too large; check the number.")
    return number


def _clean_spend(value: Any) -> Decimal | None:
    if value in (None, ""):
        return None
    if isinstance(value, bool):
        raise ValidationError("Estimated spend per month must be an amount in US dollars, e.g. 250 or 99.50.")
    try:
        amount = Decimal(str(value).strip().replace(",", "").lstrip("$"))
    except (InvalidOperation, ValueError):
        raise ValidationError("Estimated spend per month must be an amount in US dollars, e.g. 250 or 99.50.") from None
    if not amount.is_finite():
        raise ValidationError("Estimated spend per month must be an amount in US dollars, e.g. 250 or 99.50.")
    if amount <= 0:
        raise ValidationError("Estimated spend per month must be greater than 0.")
    if amount > MAX_SPEND:
        raise ValidationError("Estimated spend per month is too large; check the amount.")
    if amount.as_tuple().exponent < -2:  # type: ignore[operator]
        raise ValidationError("Estimated spend per month can have at most two decimal places (cents).")
    return amount.quantize(Decimal("0.01"))


_CLEANERS = {
    "company_name": _text("company_name", "The company name"),
    "company_website": _clean_website,
    "use_case": _clean_use_case,
    "use_case_details": _text("use_case_details", "The use case details"),
    "services": _clean_services,
    "sample_message": _text("sample_message", "The sample message"),
    "destination_countries": _clean_countries,
    "estimated_monthly_units": _clean_units,
    "estimated_monthly_spend": _clean_spend,
}

REQUIRED_MESSAGES = {
    "company_name": "Enter your company name (or your own name if you are an individual).",
    "company_website": "Enter your company website, e.g. https://example.com.",
    "use_case": "Choose what you will use the service for.",
    "services": "Choose at least one service: SMS, voice or Zentrunk.",
    "destination_countries": "Choose at least one country you will send traffic to.",
    "estimated_monthly_units": "Enter your estimated units (messages or minutes) per month.",
    "estimated_monthly_spend": "Enter your estimated spend per month in US dollars.",
}


def missing_details(values: dict[str, Any]) -> Errors:
    """What submit still needs, given clean values (a request's current details)."""
    errors: Errors = {}
    for field, message in REQUIRED_MESSAGES.items():
        if values.get(field) in (None, "", [], ()):
            _add(errors, field, message)
    if values.get("use_case") == UseCase.OTHER and not values.get("use_case_details"):
        _add(errors, "use_case_details", "Describe your use case when you choose \"Other\".")
    if Service.SMS in (values.get("services") or []) and not values.get("sample_message"):
        _add(errors, "sample_message", "A sample message is required when SMS is among the services.")
    return errors


def validate_for_submit(req: Any) -> Errors:
    """Re-check the stored details' format (they may predate a rule) and their completeness."""
    values = {field: getattr(req, field) for field in DETAIL_FIELDS}
    _, errors = clean_details(values)
    for field, messages in missing_details(values).items():
        errors.setdefault(field, []).extend(messages)
    return errors
