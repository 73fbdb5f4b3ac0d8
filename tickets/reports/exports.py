"""CSV exports: one per table of the page, plus the per-request (per-cycle) SLA data for the range.

Small tables are built from the same selectors as the page. The attention lists and the per-request
file stream from one query each (`iterator()`), so memory stays flat at any size.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from . import selectors
from .business_time import DAY
from .formatting import csv_number, local
from .selectors import ReportParams

Row = list[Any]


def compliance_rows(params: ReportParams) -> Iterator[Row]:
    yield ["cycle", "week_start", "met", "late", "missed", "breached_still_open", "counted", "success_rate"]
    for block in selectors.compliance(params):
        for row in [*block.weeks, block.total]:
            yield [
                block.label,
                row.week.isoformat() if row.week else "total",
                row.met,
                row.late,
                row.missed,
                row.breached_open,
                row.counted,
                csv_number(row.success_rate),
            ]


def aging_rows(params: ReportParams) -> Iterator[Row]:
    data = selectors.aging(params)
    yield ["bucket", "label", "open_requests"]
    for key, label, count in data.buckets:
        yield [key, label, count]
    yield ["total", "All open requests", data.total]


def attention_rows(params: ReportParams) -> Iterator[Row]:
    from tickets import sla

    yield [
        "status", "reference", "admin_url", "company", "account", "isv", "assignee", "state",
        "target_at", "breach_at", "business_days_past_target",
    ]
    for status in selectors.ATTENTION_STATUSES:
        for req in selectors.attention_queryset(params, status).iterator(chunk_size=2000):
            past = (
                -sla.business_seconds_between(params.now, req.sla_target_at) / DAY if req.sla_target_at else None
            )
            yield [
                str(status),
                req.reference,
                f"/admin/tickets/reassessmentrequest/{req.pk}/change/",
                req.company_name,
                req.account.name,
                "yes" if req.account.is_isv else "no",
                _name(req.assignee),
                req.state,
                local(req.sla_target_at),
                local(req.sla_breach_at),
                csv_number(past),
            ]


def timing_rows(params: ReportParams) -> Iterator[Row]:
    yield ["metric", "cycle", "count", "median_business_days", "p90_business_days"]
    for row in selectors.timing(params):
        cycle = {1: "first_review", 2: "reevaluation", None: "all"}[row.cycle]
        yield [row.metric, cycle, row.n, csv_number(row.median_days), csv_number(row.p90_days)]


def agent_rows(params: ReportParams) -> Iterator[Row]:
    yield [
        "agent", "decided", "met", "breached_still_open", "success_rate", "median_business_days_to_decision",
        "open_assigned",
    ]
    for row in selectors.agents(params):
        yield [
            row.name,
            row.decided,
            row.met,
            row.breached_open,
            csv_number(row.success_rate),
            csv_number(row.median_days_to_decision),
            row.open_assigned,
        ]


def decision_rows(params: ReportParams) -> Iterator[Row]:
    mix = selectors.decision_mix(params)
    yield ["kind", "label", "count", "share"]
    for key, label, count in mix.rows:
        yield [key, label, count, csv_number(mix.share(count))]
    yield ["total", "All decisions and withdrawals", mix.total, csv_number(mix.share(mix.total))]
    yield ["reevaluation_rate", "Re-evaluable rejections that were re-evaluated", mix.reevaluated,
           csv_number(mix.reevaluation_rate)]
    yield ["overturn_rate", "Re-evaluations decided that approved", mix.overturned, csv_number(mix.overturn_rate)]


REQUEST_COLUMNS = [
    "reference", "admin_url", "account", "isv", "services", "cycle", "state", "status_now", "agent",
    "started_at", "target_at", "breach_at", "first_response_at", "stopped_at", "stop_transition", "result",
    "business_days_used", "business_days_to_first_response", "paused_business_days", "paused_calendar_days",
    "decision_outcome",
]


def request_rows(params: ReportParams, *, agent_names: dict[int, str]) -> Iterator[Row]:
    yield REQUEST_COLUMNS
    for cycle in selectors.cycles_for_export(params).iterator(chunk_size=2000):
        req = cycle.request
        yield [
            req.reference,
            f"/admin/tickets/reassessmentrequest/{req.pk}/change/",
            req.account.name,
            "yes" if req.account.is_isv else "no",
            " ".join(req.services or []),
            cycle.number,
            req.state,
            selectors.export_status(cycle, params.now),
            agent_names.get(cycle.rpt_agent, "") if cycle.rpt_agent else "",
            local(cycle.started_at),
            local(cycle.target_at),
            local(cycle.breach_at),
            local(cycle.first_response_at),
            local(cycle.stopped_at),
            cycle.stop_transition,
            cycle.result,
            csv_number(None if cycle.rpt_used is None else cycle.rpt_used / DAY),
            csv_number(None if cycle.rpt_to_response is None else cycle.rpt_to_response / DAY),
            csv_number(cycle.paused_business_seconds / DAY),
            csv_number(cycle.paused_seconds / DAY),
            req.decision_outcome if cycle.stop_transition == "approve" else "",
        ]


def _name(user: Any) -> str:
    if user is None:
        return ""
    return user.get_full_name() or user.get_username()


TABLES: dict[str, Callable[[ReportParams], Iterable[Row]]] = {
    "compliance": compliance_rows,
    "aging": aging_rows,
    "attention": attention_rows,
    "timing": timing_rows,
    "agents": agent_rows,
    "decisions": decision_rows,
}


class _Echo:
    def write(self, value: str) -> str:
        return value


def csv_lines(rows: Iterable[Row]) -> Iterator[str]:
    writer = csv.writer(_Echo())
    for row in rows:
        yield writer.writerow([_safe_cell(cell) for cell in row])


def _safe_cell(value: Any) -> Any:
    """Neutralise spreadsheet formulas in text that customers typed (CSV injection)."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r") and not _is_number(value):
        return "'" + value
    return value


def _is_number(value: str) -> bool:
    try:
        float(value)
    except ValueError:
        return False
    return True



