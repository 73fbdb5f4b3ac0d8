"""The SQL business-time ordinal agrees with tickets.sla.business_seconds_between."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta

import pytest
from django.contrib.auth.models import Group
from django.db.models import DateTimeField, Value

from tickets import sla
from tickets.reports.business_time import BusinessOrdinal, business_ordinal_py, report_holidays

pytestmark = pytest.mark.django_db


def _sql_ordinals(instants: list[datetime], holidays: list[date]) -> list[float]:
    # One query evaluating every instant: each as its own annotation on a single row.
    Group.objects.get_or_create(name="x-ordinal-probe")
    annotations = {
        f"b{i}": BusinessOrdinal(Value(instant, output_field=DateTimeField()), holidays)
        for i, instant in enumerate(instants)
    }
    row = Group.objects.filter(name="x-ordinal-probe").annotate(**annotations)
    values = row.values_list(*annotations.keys())[0]
    return list(values)


def test_business_ordinal_differences_match_the_python_calendar_on_random_instants() -> None:
    rng = random.Random(8)
    holidays = report_holidays(date(2025, 1, 1), date(2026, 12, 31))
    base = datetime(2025, 1, 1, tzinfo=UTC)
    instants = [base + timedelta(seconds=rng.randint(0, 700 * 86_400)) for _ in range(60)]
    # Holidays, weekends and a DST change at their edges too.
    instants += [
        datetime(2026, 7, 3, 4, 59, tzinfo=UTC),  # Thursday 23:59 Chicago, before the observed 4th of July
        datetime(2026, 7, 3, 5, 0, tzinfo=UTC),  # the observed holiday starts
        datetime(2026, 3, 8, 8, 30, tzinfo=UTC),  # the Sunday DST starts
        datetime(2025, 12, 25, 18, 0, tzinfo=UTC),  # Christmas
        datetime(2026, 11, 23, 6, 0, tzinfo=UTC),  # a Monday midnight
    ]
    sql_values = _sql_ordinals(instants, holidays)
    py_values = [business_ordinal_py(instant, holidays) for instant in instants]
    for instant, in_sql, in_py in zip(instants, sql_values, py_values, strict=True):
        assert in_sql == pytest.approx(in_py, abs=1e-3), instant
    for _ in range(200):
        i, j = rng.randrange(len(instants)), rng.randrange(len(instants))
        expected = sla.business_seconds_between(instants[i], instants[j])
        assert py_values[j] - py_values[i] == pytest.approx(expected, abs=1e-3)


def test_business_ordinal_of_null_is_null() -> None:
    assert _sql_ordinals([None], []) == [None]  # type: ignore[list-item]
