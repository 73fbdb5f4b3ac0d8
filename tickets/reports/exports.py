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
    yield [
        "status", "reference", "admin_url", "company", "account", "isv", "assignee", "state",
        "target_at", "breach_at", "business_days_past_target",
    ]
    fields = (
        "pk", "reference", "company_name", "account__name", "account__is_isv", "assignee__first_name",
        "assignee__last_name", "assignee__username", "state", "sla_target_at", "sla_breach_at", "rpt_past_target",
    )
    for status in selectors.ATTENTION_STATUSES:
        rows = selectors.attention_queryset(params, status).values_list(*fields).iterator(chunk_size=5000)
        for pk, reference, company, account, isv, first, last, username, state, target, breach, past in rows:
            yield [
                str(status),
                reference,
                f"/admin/tickets/reassessmentrequest/{pk}/change/",
                company,
                account,
                "yes" if isv else "no",
                f"{first or ''} {last or ''}".strip() or (username or ""),
                state,
                local(target),
                local(breach),
                csv_number(None if past is None else past / DAY),
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
    fields = (
        "request_id", "request__reference", "request__account__name", "request__account__is_isv",
        "request__services", "number", "request__state", "rpt_status", "rpt_agent", "started_at", "target_at",
        "breach_at", "first_response_at", "stopped_at", "stop_transition", "result", "rpt_used", "rpt_to_response",
        "paused_business_seconds", "paused_seconds", "request__decision_outcome",
    )
    # Plain tuples, not model instances: this file can have hundreds of thousands of rows.
    rows = selectors.cycles_for_export(params).values_list(*fields).iterator(chunk_size=5000)
    for (
        request_id, reference, account, isv, services, number, state, status, agent, started, target, breach,
        first_response, stopped, stop_transition, result, used, to_response, paused_business, paused, outcome,
    ) in rows:
        yield [
            reference,
            f"/admin/tickets/reassessmentrequest/{request_id}/change/",
            account,
            "yes" if isv else "no",
            " ".join(services or []),
            number,
            state,
            status,
            agent_names.get(agent, "") if agent else "",
            local(started),
            local(target),
            local(breach),
            local(first_response),
            local(stopped),
            stop_transition,
            result,
            csv_number(None if used is None else used / DAY),
            csv_number(None if to_response is None else to_response / DAY),
            csv_number(paused_business / DAY),
            csv_number(paused / DAY),
            outcome if stop_transition == "approve" else "",
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
        # Inlined (not a function per cell): the per-request file has millions of cells.
        yield writer.writerow(
            [
                "'" + cell if cell.__class__ is str and cell[:1] in _RISKY and not _is_number(cell) else cell
                for cell in row
            ]
        )


# Text starting with these is a formula to a spreadsheet (CSV injection); company and account
# names come from customers, so such cells get a leading apostrophe. Negative numbers stay numbers.
_RISKY = ("=", "+", "-", "@", "\t", "\r")


def _is_number(value: str) -> bool:
    try:
        float(value)
    except ValueError:
        return False
    return True
