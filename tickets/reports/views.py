"""The manager SLA report page and its CSV exports. Managers and superusers only."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.urls import reverse

from accounts.roles import is_manager
from tickets import clock

from . import charts, exports, selectors
from .formatting import days, local_short, pct
from .forms import ReportFilterForm
from .selectors import ReportParams

View = Callable[..., HttpResponse]


def manager_required(view: View) -> View:
    """Anonymous visitors go to the login page; signed-in users without the Managers role get 403."""

    @login_required
    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not is_manager(request.user):
            raise PermissionDenied("The SLA report is for managers.")
        return view(request, *args, **kwargs)

    return wrapped


def _params(request: HttpRequest) -> tuple[ReportFilterForm, ReportParams]:
    # The query string drives everything, so a report can be bookmarked and shared as a link.
    form = ReportFilterForm(request.GET or None, now=clock.now())
    return form, form.params()


@manager_required
def sla_report(request: HttpRequest) -> HttpResponse:
    form, params = _params(request)
    report = selectors.sla_report(params)
    query = request.GET.urlencode()
    first_review, reevaluation = report.compliance
    breached = next(a for a in report.attention if a.status == "breached")
    context = {
        "form": form,
        "report": report,
        "params": params,
        "as_of": local_short(params.now),
        "query": query,
        "csv_links": {
            table: reverse("reports:sla_csv", args=[table]) + (f"?{query}" if query else "")
            for table in [*exports.TABLES, "requests"]
        },
        "cards": [
            ("First-review success rate", pct(first_review.total.success_rate),
             f"{first_review.total.met} met of {first_review.total.counted} counted"),
            ("Re-evaluation success rate", pct(reevaluation.total.success_rate),
             f"{reevaluation.total.met} met of {reevaluation.total.counted} counted"),
            ("Open now", str(report.aging.total), f"{breached.count} breached"),
            ("Median business days to decision", days(report.timing_row("decision", None).median_days),
             f"90th percentile {days(report.timing_row('decision', None).p90_days)}"),
        ],
        "compliance_blocks": [
            {
                "data": block,
                "chart": charts.compliance_chart(block, f"compliance-{block.cycle}"),
                "rows": [
                    {
                        "week": row.week,
                        "met": row.met,
                        "late": row.late,
                        "missed": row.missed,
                        "breached_open": row.breached_open,
                        "counted": row.counted,
                        "rate": pct(row.success_rate),
                    }
                    for row in block.weeks
                ],
                "total_rate": pct(block.total.success_rate),
            }
            for block in report.compliance
        ],
        "aging_chart": charts.aging_chart(report.aging, "aging"),
        "timing_rows": [
            {"label": row.label, "n": row.n, "median": days(row.median_days), "p90": days(row.p90_days)}
            for row in report.timing
        ],
        "agent_rows": [
            {
                "name": row.name,
                "decided": row.decided,
                "met": row.met,
                "breached_open": row.breached_open,
                "rate": pct(row.success_rate),
                "median": days(row.median_days_to_decision),
                "open": row.open_assigned,
            }
            for row in report.agents
        ],
        "decision_rows": [
            {"key": key, "label": label, "count": count, "share": pct(report.decisions.share(count))}
            for key, label, count in report.decisions.rows
        ],
        "reevaluation_rate": pct(report.decisions.reevaluation_rate),
        "overturn_rate": pct(report.decisions.overturn_rate),
        "attention_lists": [
            {
                "status": block.status,
                "label": block.label,
                "count": block.count,
                "truncated": block.truncated,
                "items": [
                    {
                        "url": item.admin_url,
                        "reference": item.request.reference,
                        "company": item.request.company_name,
                        "account": item.request.account.name,
                        "assignee": (item.request.assignee.get_full_name() or item.request.assignee.get_username())
                        if item.request.assignee
                        else "Unassigned",
                        "target": local_short(item.request.sla_target_at),
                        "breach": local_short(item.request.sla_breach_at),
                        "past_target": _past_target(item.business_days_past_target),
                    }
                    for item in block.items
                ],
            }
            for block in report.attention
        ],
    }
    return render(request, "reports/sla.html", context)


def _past_target(value: float | None) -> str:
    if value is None:
        return ""
    if value < 0:
        return f"{days(-value)} business days left"
    return f"{days(value)} business days past target"


@manager_required
def sla_csv(request: HttpRequest, table: str) -> HttpResponse:
    _, params = _params(request)
    if table == "requests":
        names = {
            user.pk: user.get_full_name() or user.get_username()
            for user in get_user_model().objects.filter(is_staff=True)
        }
        rows = exports.request_rows(params, agent_names=names)
    elif table in exports.TABLES:
        rows = exports.TABLES[table](params)
    else:
        raise Http404("No such table.")
    filename = f"sla-{table}-{params.date_from.isoformat()}-to-{params.date_to.isoformat()}.csv"
    if table in ("requests", "attention"):
        response: HttpResponse = StreamingHttpResponse(exports.csv_lines(rows), content_type="text/csv; charset=utf-8")
    else:
        response = HttpResponse("".join(exports.csv_lines(rows)), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "private, no-store"
    return response
