"""Reads behind the manager SLA report (`/reports/sla/`). Every figure is an aggregate computed by
the database; the number of queries does not depend on the number of rows.

Definitions (also shown on the page):

- A *cycle* is an SlaCycle row: cycle 1 is the first review, cycle 2 the re-evaluation.
- The date range is whole local days in SLA_TIMEZONE, [from 00:00, to + 1 day 00:00).
- *Compliance* counts cycles that stopped in the range by their stored result (met / late /
  missed), plus running cycles whose breach instant is in the range and already past ("breached,
  still open"), each in the week (Monday, local) of its stop or breach. Success rate = met ÷ (stopped
  + breached still open), the Jira Service Management definition. Withdrawals and automatic
  rejections stop a cycle too, so they count, as JSM counts every stopped cycle.
- *Business days to decision* are the stored `business_seconds_used` of cycles decided by the team
  (approve, reject, reject_final) in the range: time on the SLA clock, paused time excluded.
  Automatic rejections and expired information requests are not the team's decisions.
- *Business days to first response* run from the cycle's start to its first public staff action,
  for cycles whose first response is in the range (no pause can come before it: pausing is a
  response). Computed in SQL with the business-time ordinal (tickets/reports/business_time.py).
- *Backlog aging* of open requests now (the date range does not apply): business time used by the
  running cycle = target − business time left, i.e. a request has used at least X business days
  exactly when its `sla_target_at` is at or before the instant (target − X) business days from now.
  That turns every bucket into a comparison on the indexed `sla_target_at`. Paused requests have no
  deadlines and are counted apart.
- A cycle's *agent*: whoever decided it (cycle 1 reject: `cycle1_decided_by`; approve and
  reject_final: `decided_by`); for a running cycle, or one stopped by the customer or the system,
  the request's current assignee.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.db import connection
from django.db.models import (
    BigIntegerField,
    Case,
    CharField,
    Count,
    ExpressionWrapper,
    F,
    FloatField,
    Q,
    QuerySet,
    Value,
    When,
)
from django.db.models.functions import Coalesce, TruncWeek

from accounts.roles import ACCOUNTS_TEAM, SENIOR_REVIEWERS
from tickets import sla
from tickets.models import OPEN_STATES, ZERO_TOLERANCE_REASONS, ReassessmentRequest, SlaCycle, SlaStatus

from .business_time import DAY, BusinessOrdinal, business_ordinal_py, report_holidays
from .percentiles import percentiles

UNASSIGNED = "none"
STAFF_DECISIONS = ("approve", "reject", "reject_final")
LIST_LIMIT = 50
ATTENTION_STATUSES = (SlaStatus.AT_RISK, SlaStatus.OVERDUE, SlaStatus.BREACHED)

AGING_BUCKETS = (
    ("0-2", "0–2 business days"),
    ("2-5", "2–5 business days"),
    ("5-7", "5–7 business days"),
    ("7+", "Over 7 business days"),
)
PAUSED_BUCKET = ("paused", "Paused (awaiting the customer)")

DECISION_KINDS = (
    ("approved_lifted", "Approved, restrictions lifted"),
    ("approved_limited", "Approved, restrictions limited"),
    ("rejected", "Rejected (re-evaluation possible)"),
    ("rejected_final", "Rejected, final"),
    ("auto_rejected", "Rejected automatically (zero tolerance)"),
    ("withdrawn", "Withdrawn by the customer"),
)
CYCLES = ((1, "First review"), (2, "Re-evaluation"))


# --- parameters ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReportParams:
    date_from: date
    date_to: date  # inclusive
    now: datetime
    services: tuple[str, ...] = ()
    isv: bool | None = None
    assignee: int | str | None = None  # a user id, UNASSIGNED, or None for everybody

    @property
    def start(self) -> datetime:
        return datetime.combine(self.date_from, datetime.min.time(), tzinfo=sla.sla_zone())

    @property
    def end(self) -> datetime:
        return datetime.combine(self.date_to + timedelta(days=1), datetime.min.time(), tzinfo=sla.sla_zone())

    def holidays(self) -> list[date]:
        local_today = self.now.astimezone(sla.sla_zone()).date()
        return report_holidays(min(self.date_from, local_today), max(self.date_to, local_today))


def default_range(now: datetime, weeks: int = 12) -> tuple[date, date]:
    """The last `weeks` whole weeks, the current one included (Monday to today, local)."""
    today = now.astimezone(sla.sla_zone()).date()
    monday = today - timedelta(days=today.weekday())
    return monday - timedelta(weeks=weeks - 1), today


def _services_q(prefix: str, services: tuple[str, ...]) -> Q:
    """Requests naming any of `services` (a JSON list). PostgreSQL: jsonb containment; SQLite has no
    JSON containment lookup, so match the quoted item in the stored JSON text."""
    q = Q()
    for service in services:
        if connection.vendor == "postgresql":
            q |= Q(**{f"{prefix}services__contains": [service]})
        else:
            q |= Q(**{f"{prefix}services__icontains": f'"{service}"'})
    return q


def _request_q(params: ReportParams, prefix: str = "") -> Q:
    q = Q()
    if params.services:
        q &= _services_q(prefix, params.services)
    if params.isv is not None:
        q &= Q(**{f"{prefix}account__is_isv": params.isv})
    return q


def cycle_agent() -> Case:
    return Case(
        When(number=1, stop_transition="reject", then=F("request__cycle1_decided_by_id")),
        When(stop_transition__in=["approve", "reject_final"], then=F("request__decided_by_id")),
        When(number=F("request__sla_cycle"), then=F("request__assignee_id")),
        default=None,
        output_field=BigIntegerField(),
    )


def cycles(params: ReportParams) -> QuerySet[SlaCycle]:
    """Every cycle of the requests matching the filters (no date range yet)."""
    qs = SlaCycle.objects.order_by().filter(_request_q(params, "request__"))
    if params.assignee is not None:
        qs = qs.annotate(rpt_agent=cycle_agent())
        if params.assignee == UNASSIGNED:
            qs = qs.filter(rpt_agent__isnull=True)
        else:
            qs = qs.filter(rpt_agent=params.assignee)
    return qs


def open_requests(params: ReportParams) -> QuerySet[ReassessmentRequest]:
    # The same sorted list as the partial index rr_report_open, so the planner can use it.
    qs = ReassessmentRequest.objects.order_by().filter(state__in=sorted(OPEN_STATES)).filter(_request_q(params))
    if params.assignee == UNASSIGNED:
        qs = qs.filter(assignee__isnull=True)
    elif params.assignee is not None:
        qs = qs.filter(assignee_id=params.assignee)
    return qs


def _counted_in_range(params: ReportParams) -> Q:
    """Stopped in the range, or running and past breach with the breach in the range."""
    stopped = Q(stopped_at__gte=params.start, stopped_at__lt=params.end)
    breached_open = Q(
        stopped_at__isnull=True,
        paused_at__isnull=True,
        breach_at__gte=params.start,
        breach_at__lt=min(params.end, params.now),
    )
    return stopped | breached_open


def _rate(numerator: int, denominator: int) -> float | None:
    return None if not denominator else numerator / denominator


# --- compliance -----------------------------------------------------------------------------------


@dataclass
class ComplianceRow:
    week: date | None  # None: the total
    met: int = 0
    late: int = 0
    missed: int = 0
    breached_open: int = 0

    @property
    def counted(self) -> int:
        return self.met + self.late + self.missed + self.breached_open

    @property
    def success_rate(self) -> float | None:
        return _rate(self.met, self.counted)


@dataclass
class Compliance:
    cycle: int
    label: str
    weeks: list[ComplianceRow]
    total: ComplianceRow


def weeks_of(params: ReportParams) -> list[date]:
    first = params.date_from - timedelta(days=params.date_from.weekday())
    return [first + timedelta(weeks=i) for i in range((params.date_to - first).days // 7 + 1)]


def compliance(params: ReportParams) -> list[Compliance]:
    rows = (
        cycles(params)
        .filter(_counted_in_range(params))
        .annotate(week=TruncWeek(Coalesce("stopped_at", "breach_at"), tzinfo=sla.sla_zone()))
        .values("week", "number")
        .annotate(
            met=Count("pk", filter=Q(stopped_at__isnull=False, result=SlaCycle.Result.MET)),
            late=Count("pk", filter=Q(stopped_at__isnull=False, result=SlaCycle.Result.LATE)),
            missed=Count("pk", filter=Q(stopped_at__isnull=False, result=SlaCycle.Result.MISSED)),
            breached_open=Count("pk", filter=Q(stopped_at__isnull=True)),
        )
    )
    found: dict[tuple[int, date], dict[str, int]] = {}
    for row in rows:
        week = row["week"].astimezone(sla.sla_zone()).date() if isinstance(row["week"], datetime) else row["week"]
        number = 1 if row["number"] == 1 else 2
        found[(number, week)] = row
    result = []
    for number, label in CYCLES:
        weeks = []
        total = ComplianceRow(week=None)
        for week in weeks_of(params):
            row = found.get((number, week), {})
            item = ComplianceRow(
                week=week,
                met=row.get("met", 0),
                late=row.get("late", 0),
                missed=row.get("missed", 0),
                breached_open=row.get("breached_open", 0),
            )
            weeks.append(item)
            total.met += item.met
            total.late += item.late
            total.missed += item.missed
            total.breached_open += item.breached_open
        result.append(Compliance(cycle=number, label=label, weeks=weeks, total=total))
    return result


# --- backlog aging and the lists of requests needing attention -------------------------------------


@dataclass
class Aging:
    buckets: list[tuple[str, str, int]]  # (key, label, count), the paused bucket last
    total: int


def aging(params: ReportParams) -> Aging:
    now = params.now
    target = sla.target_seconds()

    def at_least(days: float) -> datetime:
        # The latest target instant of a cycle that has used at least `days` business days.
        return sla.add_business_time(now, target - days * DAY)

    running = Q(sla_paused_at__isnull=True, sla_target_at__isnull=False)
    bucket = Case(
        When(~running, then=Value(PAUSED_BUCKET[0])),
        When(sla_target_at__lte=at_least(7), then=Value("7+")),
        When(sla_target_at__lte=at_least(5), then=Value("5-7")),
        When(sla_target_at__lte=at_least(2), then=Value("2-5")),
        default=Value("0-2"),
        output_field=CharField(),
    )
    counts = {
        row["bucket"]: row["n"]
        # COUNT(*), not COUNT(id): the open-request index has no id, and need not (index-only scan).
        for row in open_requests(params).annotate(bucket=bucket).values("bucket").annotate(n=Count("*"))
    }
    buckets = [(key, label, counts.get(key, 0)) for key, label in (*AGING_BUCKETS, PAUSED_BUCKET)]
    return Aging(buckets=buckets, total=sum(n for _, _, n in buckets))


@dataclass
class AttentionItem:
    request: ReassessmentRequest
    status: str
    business_days_past_target: float | None  # negative: still before the target

    @property
    def admin_url(self) -> str:
        return f"/admin/tickets/reassessmentrequest/{self.request.pk}/change/"


@dataclass
class Attention:
    status: str
    label: str
    count: int
    items: list[AttentionItem]

    @property
    def truncated(self) -> bool:
        return self.count > len(self.items)


def attention_queryset(params: ReportParams, status: str) -> QuerySet[ReassessmentRequest]:
    """Open requests with `status` now, most urgent first, with the business seconds past their
    target (negative: still before it) computed in SQL."""
    deadline = "sla_target_at" if status == SlaStatus.AT_RISK else "sla_breach_at"
    holidays = params.holidays()
    return (
        open_requests(params)
        .filter(sla.sla_status_q(status, params.now))
        .annotate(
            rpt_past_target=ExpressionWrapper(
                Value(business_ordinal_py(params.now, holidays)) - BusinessOrdinal("sla_target_at", holidays),
                output_field=FloatField(),
            )
        )
        .select_related("account", "assignee")
        .order_by(deadline, "pk")
    )


def attention(params: ReportParams, limit: int | None = LIST_LIMIT) -> list[Attention]:
    """Requests at risk, overdue and breached now: the counts in one query, then the most urgent
    `limit` of each (one query each)."""
    counts = open_requests(params).aggregate(
        # sla_cycle (never NULL) rather than id: it is in the open-request index, so no table reads.
        **{
            str(status): Count("sla_cycle", filter=sla.sla_status_q(status, params.now))
            for status in ATTENTION_STATUSES
        }
    )
    result = []
    for status in ATTENTION_STATUSES:
        qs = attention_queryset(params, status)
        items = [
            AttentionItem(request=req, status=str(status), business_days_past_target=_days(req.rpt_past_target))
            for req in (qs[:limit] if limit else qs)
        ]
        result.append(
            Attention(status=str(status), label=SlaStatus(status).label, count=counts[str(status)], items=items)
        )
    return result


# --- timing ---------------------------------------------------------------------------------------


@dataclass
class TimingRow:
    metric: str
    label: str
    cycle: int | None  # None: all cycles
    n: int
    median_days: float | None
    p90_days: float | None


def _days(seconds: float | None) -> float | None:
    return None if seconds is None else seconds / DAY


def timing(params: ReportParams) -> list[TimingRow]:
    decided = cycles(params).filter(
        stopped_at__gte=params.start, stopped_at__lt=params.end, stop_transition__in=STAFF_DECISIONS
    )
    responded = cycles(params).filter(first_response_at__gte=params.start, first_response_at__lt=params.end)
    # Stored when the first response happens (tickets.sla.record_first_response).
    to_response = F("first_response_business_seconds")
    rows: list[TimingRow] = []
    for metric, label, qs, value in (
        ("decision", "Business days to decision", decided, F("business_seconds_used")),
        ("first_response", "Business days to first response", responded, to_response),
    ):
        by_cycle = percentiles(qs, value, {"rpt_cycle": F("number")})
        overall = percentiles(qs, value).get((), {"n": 0, "p50": None, "p90": None})
        for number, cycle_label in CYCLES:
            stats = by_cycle.get((number,), {"n": 0, "p50": None, "p90": None})
            rows.append(TimingRow(metric, f"{label}: {cycle_label.lower()}", number, stats["n"],
                                  _days(stats["p50"]), _days(stats["p90"])))
        rows.append(TimingRow(metric, f"{label}: all cycles", None, overall["n"], _days(overall["p50"]),
                              _days(overall["p90"])))
    return rows


# --- per agent ------------------------------------------------------------------------------------


@dataclass
class AgentRow:
    user_id: int | None
    name: str
    decided: int = 0
    met: int = 0
    breached_open: int = 0
    median_days_to_decision: float | None = None
    open_assigned: int = 0

    @property
    def success_rate(self) -> float | None:
        return _rate(self.met, self.decided + self.breached_open)


def _display_name(user: Any) -> str:
    return user.get_full_name() or user.get_username()


def agents(params: ReportParams) -> list[AgentRow]:
    in_range = cycles(params).annotate(rpt_agent=cycle_agent())
    staff_decision = Q(stopped_at__gte=params.start, stopped_at__lt=params.end, stop_transition__in=STAFF_DECISIONS)
    per_agent = (
        in_range.filter(staff_decision | _counted_in_range(params) & Q(stopped_at__isnull=True))
        .values("rpt_agent")
        .annotate(
            decided=Count("pk", filter=staff_decision),
            met=Count("pk", filter=staff_decision & Q(result=SlaCycle.Result.MET)),
            breached_open=Count("pk", filter=Q(stopped_at__isnull=True)),
        )
    )
    medians = percentiles(in_range.filter(staff_decision), F("business_seconds_used"), {"rpt_agent_id": F("rpt_agent")})
    open_assigned = {
        row["assignee_id"]: row["n"]
        for row in open_requests(params).values("assignee_id").annotate(n=Count("*"))
    }
    rows: dict[int | None, AgentRow] = {}
    for row in per_agent:
        item = rows.setdefault(row["rpt_agent"], AgentRow(row["rpt_agent"], ""))
        item.decided, item.met, item.breached_open = row["decided"], row["met"], row["breached_open"]
    for (agent_id,), stats in medians.items():
        rows.setdefault(agent_id, AgentRow(agent_id, "")).median_days_to_decision = _days(stats["p50"])
    for agent_id, n in open_assigned.items():
        rows.setdefault(agent_id, AgentRow(agent_id, "")).open_assigned = n

    # The team is listed even when idle (unless the report is filtered to one assignee).
    users = get_user_model().objects.filter(pk__in=[pk for pk in rows if pk is not None])
    if params.assignee is None:
        users = get_user_model().objects.filter(
            Q(pk__in=[pk for pk in rows if pk is not None])
            | Q(is_active=True, is_staff=True, groups__name__in=[ACCOUNTS_TEAM, SENIOR_REVIEWERS])
        )
    for user in users.distinct().order_by():
        rows.setdefault(user.pk, AgentRow(user.pk, "")).name = _display_name(user)
    unassigned = rows.pop(None, None)
    ordered = sorted(rows.values(), key=lambda r: r.name.lower())
    if unassigned is not None and (unassigned.open_assigned or unassigned.breached_open):
        # Open work nobody has claimed, and breaches on it: a manager wants to see it next to the team.
        unassigned.name = "Unassigned"
        unassigned.decided = unassigned.met = 0
        unassigned.median_days_to_decision = None
        ordered.append(unassigned)
    return ordered


# --- decision mix -----------------------------------------------------------------------------------


@dataclass
class DecisionMix:
    rows: list[tuple[str, str, int]]  # (key, label, count)
    total: int
    rejections_reevaluable: int
    reevaluated: int
    reevaluations_decided: int
    overturned: int

    @property
    def reevaluation_rate(self) -> float | None:
        return _rate(self.reevaluated, self.rejections_reevaluable)

    @property
    def overturn_rate(self) -> float | None:
        return _rate(self.overturned, self.reevaluations_decided)

    def share(self, count: int) -> float | None:
        return _rate(count, self.total)


def decision_kind() -> Case:
    return Case(
        When(stop_transition="approve", request__decision_outcome="lifted", then=Value("approved_lifted")),
        When(stop_transition="approve", then=Value("approved_limited")),
        # A zero-tolerance rejection in cycle 1 is final at once (no re-evaluation can follow it, so
        # the request's reason code is still the cycle-1 one).
        When(
            stop_transition="reject",
            request__sla_cycle=1,
            request__reason_code__in=sorted(ZERO_TOLERANCE_REASONS),
            then=Value("rejected_final"),
        ),
        When(stop_transition__in=["reject", "expire_info_request"], then=Value("rejected")),
        When(stop_transition="reject_final", then=Value("rejected_final")),
        When(stop_transition="auto_reject", then=Value("auto_rejected")),
        When(stop_transition="withdraw", then=Value("withdrawn")),
        default=Value("other"),
        output_field=CharField(),
    )


def decision_mix(params: ReportParams) -> DecisionMix:
    rows = (
        cycles(params)
        .filter(stopped_at__gte=params.start, stopped_at__lt=params.end)
        .annotate(kind=decision_kind())
        .values("kind")
        .annotate(
            n=Count("pk"),
            in_reevaluation=Count("pk", filter=Q(number=2)),
            reevaluated=Count("pk", filter=Q(number=1, request__reevaluation_requested_at__isnull=False)),
        )
    )
    found = {row["kind"]: row for row in rows}

    def get(kind: str, key: str = "n") -> int:
        return found.get(kind, {}).get(key, 0)

    overturned = get("approved_lifted", "in_reevaluation") + get("approved_limited", "in_reevaluation")
    return DecisionMix(
        rows=[(key, label, get(key)) for key, label in DECISION_KINDS],
        total=sum(row["n"] for row in found.values()),
        rejections_reevaluable=get("rejected"),
        reevaluated=get("rejected", "reevaluated"),
        reevaluations_decided=overturned + get("rejected_final", "in_reevaluation"),
        overturned=overturned,
    )


# --- everything -----------------------------------------------------------------------------------


@dataclass
class SlaReport:
    params: ReportParams
    compliance: list[Compliance]
    aging: Aging
    attention: list[Attention]
    timing: list[TimingRow]
    agents: list[AgentRow]
    decisions: DecisionMix
    notes: list[str] = field(default_factory=list)

    def timing_row(self, metric: str, cycle: int | None) -> TimingRow:
        return next(r for r in self.timing if r.metric == metric and r.cycle == cycle)


def sla_report(params: ReportParams) -> SlaReport:
    return SlaReport(
        params=params,
        compliance=compliance(params),
        aging=aging(params),
        attention=attention(params),
        timing=timing(params),
        agents=agents(params),
        decisions=decision_mix(params),
    )


# --- the per-request export -------------------------------------------------------------------------


def cycles_for_export(params: ReportParams) -> QuerySet[SlaCycle]:
    """One row per cycle active at any time in the range, with its figures computed in SQL."""
    holidays = params.holidays()
    now_ordinal = business_ordinal_py(params.now, holidays)
    used_now = ExpressionWrapper(
        Value(sla.target_seconds()) - (BusinessOrdinal("target_at", holidays) - Value(now_ordinal)),
        output_field=FloatField(),
    )
    return (
        cycles(params)
        .filter(started_at__lt=params.end)
        .filter(Q(stopped_at__isnull=True) | Q(stopped_at__gte=params.start))
        .annotate(
            rpt_agent=cycle_agent(),
            rpt_status=export_status(params.now),
            rpt_used=Case(
                When(stopped_at__isnull=False, then=F("business_seconds_used")),
                When(paused_at__isnull=False, then=F("request__sla_used_before_pause")),
                default=used_now,
                output_field=FloatField(),
            ),
            rpt_to_response=F("first_response_business_seconds"),
        )
        .order_by("started_at", "pk")
    )


def export_status(now: datetime) -> Case:
    """Status of any cycle at `now` (not only the request's current one), like sla_status_of."""
    return Case(
        When(stopped_at__isnull=False, then=F("result")),
        When(paused_at__isnull=False, then=Value(SlaStatus.PAUSED.value)),
        When(breach_at__lt=now, then=Value(SlaStatus.BREACHED.value)),
        When(target_at__lt=now, then=Value(SlaStatus.OVERDUE.value)),
        When(number=F("request__sla_cycle"), request__sla_at_risk_at__lt=now, then=Value(SlaStatus.AT_RISK.value)),
        default=Value(SlaStatus.RUNNING.value),
        output_field=CharField(),
    )


__all__ = [
    "UNASSIGNED",
    "ReportParams",
    "SlaReport",
    "agents",
    "aging",
    "attention",
    "compliance",
    "cycles_for_export",
    "decision_mix",
    "default_range",
    "sla_report",
    "timing",
]

