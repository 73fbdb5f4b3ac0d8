"""Dates as customers read them: in SLA_TIMEZONE (the desk's business calendar), in plain words.

Pages and emails both use these, so a deadline reads the same on the portal and in the inbox.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from django import template
from django.conf import settings
from django.utils.dateformat import format as date_format

register = template.Library()


def _local(value: datetime) -> datetime:
    return value.astimezone(ZoneInfo(settings.SLA_TIMEZONE))


@register.filter
def customer_date(value: datetime | None) -> str:
    """'Monday 30 November 2026' in the desk's time zone."""
    if not value:
        return ""
    return date_format(_local(value), "l j F Y")


@register.filter
def customer_datetime(value: datetime | None) -> str:
    """'Monday 30 November 2026, 2:05 p.m. CST' in the desk's time zone."""
    if not value:
        return ""
    return date_format(_local(value), "l j F Y, P T")


@register.filter
def customer_short(value: datetime | None) -> str:
    """'30 Nov 2026, 14:05' for timelines and lists."""
    if not value:
        return ""
    return date_format(_local(value), "j M Y, H:i")
