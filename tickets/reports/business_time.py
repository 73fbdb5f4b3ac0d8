"""Business time in SQL, for reports over many rows.

`tickets.sla.business_seconds_between` walks the calendar in Python, which is right for one
request but not for an aggregate over a million. Reports instead use a *business-time ordinal*:
B(t) = business seconds from a fixed Monday (1970-01-05, local time) up to instant t, so that
business time between a and b is B(b) - B(a). For an instant whose local date is d, n days after
the epoch, with s seconds past local midnight:

    B(t) = 86400 * (5 * (n div 7) + min(n mod 7, 5) - H(d)) + (s if d is a business day else 0)

where H(d) counts the weekday public holidays before d. Holidays earlier than both ends cancel out
of a difference, so only the holidays of the span the report can touch are passed in (see
`report_holidays`). Like tickets/sla.py, a business day counts 24 hours of the local wall clock.

`business_ordinal_py` is the same formula in Python, for constants such as B(now); the tests hold
both to `business_seconds_between`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db.models import Expression, FloatField
from django.db.models.sql.compiler import SQLCompiler

from tickets import sla

EPOCH = date(1970, 1, 5)  # a Monday
DAY = 86_400.0


def weekday_holidays(first: date, last: date) -> list[date]:
    """The public holidays of the SLA calendar in [first, last] that fall on a weekday."""
    found: list[date] = []
    for year in range(first.year, last.year + 1):
        for day in sla._holidays_of_year(
            settings.SLA_HOLIDAYS_COUNTRY, settings.SLA_HOLIDAYS_SUBDIV, year
        ):
            if first <= day <= last and day.weekday() < 5:
                found.append(day)
    return sorted(found)


def report_holidays(earliest: date, latest: date) -> list[date]:
    """Holidays a report needs: one extra year on each side of the span it reads. An open request
    that started before that is more than a year old, so a missing holiday cannot move it out of
    the oldest aging bucket."""
    return weekday_holidays(date(earliest.year - 1, 1, 1), date(latest.year + 1, 12, 31))


def business_ordinal_py(instant: datetime, holidays: Sequence[date]) -> float:
    local = instant.astimezone(sla.sla_zone())
    day = local.date()
    n = (day - EPOCH).days
    before = sum(1 for h in holidays if h < day)
    whole = 5 * (n // 7) + min(n % 7, 5) - before
    seconds = local.hour * 3600 + local.minute * 60 + local.second + local.microsecond / 1e6
    business_today = n % 7 < 5 and day not in holidays
    return DAY * whole + (seconds if business_today else 0.0)


class BusinessOrdinal(Expression):
    """B(expression) in SQL (PostgreSQL and SQLite); NULL when the datetime is NULL."""

    output_field = FloatField()

    def __init__(self, expression: Any, holidays: Iterable[date]) -> None:
        super().__init__(output_field=FloatField())
        from django.db.models import F

        self.expression = F(expression) if isinstance(expression, str) else expression
        self.holidays = tuple(sorted(holidays))

    def get_source_expressions(self) -> list[Any]:
        return [self.expression]

    def set_source_expressions(self, exprs: list[Any]) -> None:
        (self.expression,) = exprs

    def resolve_expression(self, *args: Any, **kwargs: Any) -> BusinessOrdinal:
        clone = self.copy()
        clone.is_summary = kwargs.get("summarize", False)
        clone.expression = self.expression.resolve_expression(*args, **kwargs)
        return clone

    def as_sql(self, compiler: SQLCompiler, connection: Any) -> tuple[str, list[Any]]:
        inner_sql, inner_params = compiler.compile(self.expression)
        ops = connection.ops
        tz = settings.SLA_TIMEZONE
        date_sql, date_params = ops.datetime_cast_date_sql(inner_sql, tuple(inner_params), tz)
        time_sql, time_params = ops.datetime_cast_time_sql(inner_sql, tuple(inner_params), tz)
        if connection.vendor == "postgresql":
            n_sql, n_params = f"({date_sql} - DATE '{EPOCH.isoformat()}')", list(date_params)
            s_sql, s_params = f"EXTRACT(EPOCH FROM {time_sql})::double precision", list(time_params)
            holiday_params: list[Any] = list(self.holidays)
            cast = "%s::date"
        else:
            n_sql = f"CAST(ROUND(julianday({date_sql}) - julianday('{EPOCH.isoformat()}')) AS INTEGER)"
            n_params = list(date_params)
            # django_datetime_cast_time gives 'HH:MM:SS[.ffffff]'.
            s_sql = (
                f"(CAST(substr({time_sql}, 1, 2) AS INTEGER) * 3600"
                f" + CAST(substr({time_sql}, 4, 2) AS INTEGER) * 60"
                f" + CAST(substr({time_sql}, 7) AS REAL))"
            )
            s_params = list(time_params) * 3
            holiday_params = [h.isoformat() for h in self.holidays]
            cast = "%s"

        sql_parts: list[str] = []
        params: list[Any] = []

        def emit(text: str, values: Iterable[Any] = ()) -> None:
            sql_parts.append(text)
            params.extend(values)

        emit("(CASE WHEN ")
        emit(inner_sql, inner_params)
        emit(" IS NULL THEN NULL ELSE 86400.0 * (5 * (")
        emit(n_sql, n_params)
        emit(" / 7) + (CASE WHEN (")
        emit(n_sql, n_params)
        emit(" %% 7) > 5 THEN 5 ELSE (")
        emit(n_sql, n_params)
        emit(" %% 7) END)")
        if holiday_params and connection.vendor == "postgresql":
            # width_bucket counts the sorted thresholds at or below the date: with each holiday moved
            # one day later, that is the number of holidays strictly before it. One call, not one
            # CASE per holiday, which matters over hundreds of thousands of rows.
            emit(" - width_bucket(")
            emit(date_sql, date_params)
            emit(", %s::date[])", [[h + timedelta(days=1) for h in self.holidays]])
        else:
            for holiday in holiday_params:
                emit(" - (CASE WHEN ")
                emit(date_sql, date_params)
                emit(f" > {cast} THEN 1 ELSE 0 END)", [holiday])
        emit(") + (CASE WHEN (")
        emit(n_sql, n_params)
        emit(" %% 7) < 5")
        if holiday_params and connection.vendor == "postgresql":
            emit(" AND ")
            emit(date_sql, date_params)
            emit(" <> ALL(%s::date[])", [list(self.holidays)])
        elif holiday_params:
            emit(" AND ")
            emit(date_sql, date_params)
            emit(" NOT IN (" + ", ".join([cast] * len(holiday_params)) + ")", holiday_params)
        emit(" THEN ")
        emit(s_sql, s_params)
        emit(" ELSE 0 END) END)")
        return "".join(sql_parts), params


__all__ = [
    "DAY",
    "BusinessOrdinal",
    "business_ordinal_py",
    "report_holidays",
    "weekday_holidays",
]

