"""Continuous percentiles (PostgreSQL's `percentile_cont`) computed in the database, per group.

PostgreSQL has the ordered-set aggregate. SQLite has none, so there the same figure comes from
window functions: number the values of each group in order, keep only the (at most two) rows on
either side of each wanted position, and interpolate those few rows in Python. Either way one
query per call, whatever the number of rows or groups.

percentile_cont(p) over n sorted values v[0..n-1]: position x = p * (n - 1); the result is
v[floor(x)] + (x - floor(x)) * (v[floor(x) + 1] - v[floor(x)]).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from fractions import Fraction
from typing import Any

from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.db.models import Aggregate, Count, F, FloatField, QuerySet, Window
from django.db.models.functions import RowNumber

# Fractions as exact (numerator, denominator) pairs, so positions are computed without float error.
MEDIAN = (1, 2)
P90 = (9, 10)
DEFAULT_FRACTIONS: tuple[tuple[int, int], ...] = (MEDIAN, P90)

GroupKey = tuple[Any, ...]
Stats = dict[str, Any]  # {"n": int, "p50": float | None, "p90": float | None}


def fraction_key(fraction: tuple[int, int]) -> str:
    return f"p{round(100 * fraction[0] / fraction[1])}"


class PercentileCont(Aggregate):
    """PostgreSQL: percentile_cont(fraction) WITHIN GROUP (ORDER BY expression)."""

    function = "percentile_cont"
    name = "PercentileCont"
    output_field = FloatField()
    template = "%(function)s(%(fraction)s) WITHIN GROUP (ORDER BY %(expressions)s)"

    def __init__(self, expression: Any, fraction: tuple[int, int], **extra: Any) -> None:
        numerator, denominator = fraction
        super().__init__(expression, fraction=repr(numerator / denominator), **extra)


def _interpolate(values: dict[int, float], n: int, fraction: tuple[int, int]) -> float | None:
    if n == 0:
        return None
    position = Fraction(fraction[0], fraction[1]) * (n - 1)
    low = int(position)  # floor: positions are never negative
    weight = position - low
    if weight == 0:
        return float(values[low])
    return float(values[low] + float(weight) * (values[low + 1] - values[low]))


def percentiles(
    queryset: QuerySet[Any],
    value: Any,
    group_by: dict[str, Any] | None = None,
    fractions: Sequence[tuple[int, int]] = DEFAULT_FRACTIONS,
) -> dict[GroupKey, Stats]:
    """{group key tuple (in `group_by` order; () without groups): {"n", "p50", "p90", ...}}.

    Rows whose value is NULL are left out. `value` and the group expressions may span relations.
    """
    groups = dict(group_by or {})
    names = list(groups)
    qs = queryset.order_by().annotate(rpt_value=value).filter(rpt_value__isnull=False)
    if connection.vendor == "postgresql":
        aggregates = {fraction_key(f): PercentileCont("rpt_value", f) for f in fractions}
        rows = qs.values(**groups).annotate(rpt_n=Count("pk"), **aggregates) if groups else [
            qs.aggregate(rpt_n=Count("pk"), **aggregates)
        ]
        result: dict[GroupKey, Stats] = {}
        for row in rows:
            if not row["rpt_n"]:
                continue
            key = tuple(row[name] for name in names)
            result[key] = {"n": row["rpt_n"], **{fraction_key(f): row[fraction_key(f)] for f in fractions}}
        return result
    return _percentiles_by_window(qs, groups, names, fractions)


def _percentiles_by_window(
    qs: QuerySet[Any], groups: dict[str, Any], names: list[str], fractions: Sequence[tuple[int, int]]
) -> dict[GroupKey, Stats]:
    partition = [F(name) for name in names] or None
    ranked = (
        qs.annotate(**groups)
        .annotate(
            rpt_rn=Window(RowNumber(), partition_by=partition, order_by=F("rpt_value").asc()),
            rpt_cnt=Window(Count("pk"), partition_by=partition),
        )
        .values(*names, "rpt_value", "rpt_rn", "rpt_cnt")
    )
    try:
        inner_sql, params = ranked.query.sql_with_params()
    except EmptyResultSet:  # e.g. a filter on an empty list: nothing to rank
        return {}
    # Zero-based positions wanted for each fraction: floor(p * (n - 1)) and the row after it.
    wanted = []
    for numerator, denominator in fractions:
        low = f"(({numerator} * (rpt_cnt - 1)) / {denominator})"
        wanted += [low, f"{low} + 1"]
    columns = ", ".join(connection.ops.quote_name(c) for c in [*names, "rpt_value", "rpt_rn", "rpt_cnt"])
    sql = f"SELECT {columns} FROM ({inner_sql}) rpt WHERE (rpt_rn - 1) IN ({', '.join(wanted)})"  # noqa: S608
    collected: dict[GroupKey, dict[int, float]] = defaultdict(dict)
    counts: dict[GroupKey, int] = {}
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        for row in cursor.fetchall():
            key = tuple(row[: len(names)])
            value, rn, cnt = row[len(names) :]
            collected[key][rn - 1] = value
            counts[key] = cnt
    return {
        key: {"n": counts[key], **{fraction_key(f): _interpolate(values, counts[key], f) for f in fractions}}
        for key, values in collected.items()
    }
