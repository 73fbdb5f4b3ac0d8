"""How figures read on the page and in the CSV files (one place, so tests and both agree)."""

from __future__ import annotations

from datetime import datetime

from tickets import sla

DASH = "—"


def pct(rate: float | None) -> str:
    """66.7% on the page; a dash when there is nothing to divide by."""
    return DASH if rate is None else f"{rate * 100:.1f}%"


def days(value: float | None) -> str:
    return DASH if value is None else f"{value:.2f}"


def csv_number(value: float | None, digits: int = 4) -> str:
    """Rates as fractions and days as decimals in CSV, empty when undefined."""
    if value is None:
        return ""
    text = f"{value:.{digits}f}".rstrip("0").rstrip(".")
    return "0" if text in {"-0", ""} else text


def local(instant: datetime | None) -> str:
    """An instant in the SLA time zone, ISO 8601 with its offset (CSV)."""
    return "" if instant is None else instant.astimezone(sla.sla_zone()).isoformat(timespec="seconds")


def local_short(instant: datetime | None) -> str:
    return "" if instant is None else instant.astimezone(sla.sla_zone()).strftime("%a %b %d, %H:%M")
