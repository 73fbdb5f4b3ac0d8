"""Business time and SLA cycles (DESIGN §5).

A business day is a calendar day in SLA_TIMEZONE that is Monday–Friday and not a public holiday of
SLA_HOLIDAYS_COUNTRY (and SLA_HOLIDAYS_SUBDIV) according to `holidays`. Each business day counts
24 hours of business time, measured on the local wall clock (so a deadline keeps its local time
across a DST change); other days count none.

This module is the only writer of a request's SLA fields and of SlaCycle rows (the sweep only
moves its cursor, `sla_next_event[_at]`, with `advance_cursor`). Its functions are called by the
services inside their transaction, with the request row locked.

Deadlines: `sla_at_risk_at` <= `sla_target_at` <= `sla_breach_at` always hold, and a status is a
pure function of them, the stop/pause instants and the time it is read (`sla_status_of` in
Python, `sla_status_q` / `sla_status_expression` in SQL, which agree row for row).
"""

from __future__ import annotations

import zoneinfo
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from typing import TYPE_CHECKING

import holidays
from django.conf import settings
from django.db.models import Case, CharField, F, Q, Value, When

from .models import SlaCycle, SlaEvent, SlaEventKind, SlaStatus

if TYPE_CHECKING:
    from .models import ReassessmentRequest

DAY_SECONDS = 86_400.0
_MAX_DAYS_SCANNED = 366 * 20  # a loop guard: no real deadline is twenty years of business time away


# --- the calendar ---------------------------------------------------------------------------------


def sla_zone() -> zoneinfo.ZoneInfo:
    return zoneinfo.ZoneInfo(settings.SLA_TIMEZONE)


@lru_cache(maxsize=256)
def _holidays_of_year(country: str, subdiv: str | None, year: int) -> frozenset[date]:
    # Observed days can fall in a neighbouring year (New Year's Day 2028, a Saturday, is observed
    # on Friday 2027-12-31), so the neighbours are generated too and filtered to `year`.
    calendar = holidays.country_holidays(country, subdiv=subdiv, years=(year - 1, year, year + 1))
    return frozenset(day for day in calendar if day.year == year)


def is_business_day(day: date) -> bool:
    """Monday to Friday and not a public holiday of SLA_HOLIDAYS_COUNTRY (and _SUBDIV)."""
    if day.weekday() >= 5:
        return False
    return day not in _holidays_of_year(settings.SLA_HOLIDAYS_COUNTRY, settings.SLA_HOLIDAYS_SUBDIV, day.year)


def holiday_name(day: date) -> str | None:
    """The public holiday on `day` (for pages that explain a deadline), or None."""
    calendar = holidays.country_holidays(
        settings.SLA_HOLIDAYS_COUNTRY, subdiv=settings.SLA_HOLIDAYS_SUBDIV, years=day.year
    )
    return calendar.get(day)


def _to_local(instant: datetime) -> datetime:
    if instant.tzinfo is None:
        raise ValueError("SLA arithmetic needs an aware datetime.")
    return instant.astimezone(sla_zone()).replace(tzinfo=None)


def _to_aware(local: datetime) -> datetime:
    return local.replace(tzinfo=sla_zone())


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time.min)


def add_business_time(start: datetime, seconds: float) -> datetime:
    """The earliest instant at which `seconds` of business time will have elapsed since `start`.

    So a walk that ends exactly at the end of a business day returns 00:00 of the next calendar
    day (five business days from a Saturday end at 00:00 of the following Saturday), never the
    start of the next business day, and zero seconds return `start` itself. A negative amount
    walks backwards: the latest instant with that much business time between it and `start`.
    Business time runs on the local wall clock of SLA_TIMEZONE, so a deadline keeps its local
    time of day across a DST change.
    """
    remaining = float(seconds)
    if remaining == 0:
        return start
    local = _to_local(start)
    if remaining > 0:
        for _ in range(_MAX_DAYS_SCANNED):
            day = local.date()
            if is_business_day(day):
                day_end = _midnight(day + timedelta(days=1))
                available = (day_end - local).total_seconds()
                if remaining <= available:
                    return _to_aware(local + timedelta(seconds=remaining))
                remaining -= available
                local = day_end
            else:
                local = _midnight(day + timedelta(days=1))
    else:
        remaining = -remaining
        for _ in range(_MAX_DAYS_SCANNED):
            day = local.date()
            day_start = _midnight(day)
            if local == day_start:
                # At a midnight the business time just behind us belongs to the previous day.
                day = day - timedelta(days=1)
                day_start = _midnight(day)
            if is_business_day(day):
                available = (local - day_start).total_seconds()
                if remaining <= available:
                    return _to_aware(local - timedelta(seconds=remaining))
                remaining -= available
            local = day_start
    raise ValueError("Business time out of range.")


def business_seconds_between(start: datetime, end: datetime) -> float:
    """Business seconds in [start, end); negative when end is before start."""
    local, local_end = _to_local(start), _to_local(end)
    if end < start:
        return -business_seconds_between(end, start)
    total = 0.0
    while local < local_end:
        day = local.date()
        day_end = min(_midnight(day + timedelta(days=1)), local_end)
        if is_business_day(day):
            total += (day_end - local).total_seconds()
        local = day_end
    return total


def business_days(seconds: float | None) -> float | None:
    return None if seconds is None else seconds / DAY_SECONDS


def target_seconds() -> float:
    return settings.SLA_TARGET_BUSINESS_DAYS * DAY_SECONDS


def breach_seconds() -> float:
    return settings.SLA_BREACH_BUSINESS_DAYS * DAY_SECONDS


def at_risk_seconds() -> float:
    return target_seconds() - settings.SLA_AT_RISK_BUSINESS_HOURS * 3600.0


# --- status, in Python and in SQL ---------------------------------------------------------------------


def sla_status_of(req: ReassessmentRequest, now: datetime) -> str:
    """The status of the request's current cycle at `now`; empty before the first submit."""
    if req.sla_cycle == 0:
        return ""
    if req.sla_stopped_at is not None:
        if req.sla_target_at is None or req.sla_stopped_at <= req.sla_target_at:
            return SlaStatus.MET
        if req.sla_breach_at is None or req.sla_stopped_at <= req.sla_breach_at:
            return SlaStatus.LATE
        return SlaStatus.MISSED
    if req.sla_paused_at is not None:
        return SlaStatus.PAUSED
    if req.sla_breach_at and now > req.sla_breach_at:
        return SlaStatus.BREACHED
    if req.sla_target_at and now > req.sla_target_at:
        return SlaStatus.OVERDUE
    if req.sla_at_risk_at and now > req.sla_at_risk_at:
        return SlaStatus.AT_RISK
    return SlaStatus.RUNNING


def sla_status_q(status: str, now: datetime) -> Q:
    """A filter for requests whose current cycle has `status` at `now`; the same answer as
    `sla_status_of` for every row.

    The running statuses share the partial index `rr_sla_running` (running cycles by
    `sla_at_risk_at`): at_risk, overdue and breached all imply `sla_at_risk_at < now`, since the
    deadlines are ordered (at_risk <= target <= breach), so that implied bound is spelled out
    for the planner.
    """
    active = Q(sla_cycle__gt=0, sla_stopped_at__isnull=True)
    running = active & Q(sla_paused_at__isnull=True)
    started = running & Q(sla_at_risk_at__lt=now)
    stopped = Q(sla_cycle__gt=0, sla_stopped_at__isnull=False)
    conditions = {
        SlaStatus.RUNNING: running & Q(sla_at_risk_at__gte=now),
        SlaStatus.AT_RISK: started & Q(sla_target_at__gte=now),
        SlaStatus.OVERDUE: started & Q(sla_target_at__lt=now, sla_breach_at__gte=now),
        SlaStatus.BREACHED: started & Q(sla_breach_at__lt=now),
        SlaStatus.PAUSED: active & Q(sla_paused_at__isnull=False),
        SlaStatus.MET: stopped & (Q(sla_target_at__isnull=True) | Q(sla_stopped_at__lte=F("sla_target_at"))),
        SlaStatus.LATE: stopped
        & Q(sla_stopped_at__gt=F("sla_target_at"))
        & (Q(sla_breach_at__isnull=True) | Q(sla_stopped_at__lte=F("sla_breach_at"))),
        SlaStatus.MISSED: stopped & Q(sla_stopped_at__gt=F("sla_target_at")) & Q(sla_stopped_at__gt=F("sla_breach_at")),
    }
    if status not in conditions:
        raise ValueError(f"Unknown SLA status {status!r}.")
    return conditions[status]


def sla_status_expression(now: datetime) -> Case:
    """The same statuses as an annotation, for lists, ordering and reports."""
    whens = [When(sla_status_q(status, now), then=Value(str(status))) for status in SlaStatus]
    return Case(*whens, default=Value(""), output_field=CharField())


# --- cycle operations (called by services, inside their transaction, row locked) --------------------


def _deadlines(clock_started_at: datetime, used: float) -> tuple[datetime, datetime, datetime]:
    """(at_risk_at, target_at, breach_at) for a clock running from `clock_started_at` with `used`
    business seconds already spent in this cycle."""
    return (
        add_business_time(clock_started_at, at_risk_seconds() - used),
        add_business_time(clock_started_at, target_seconds() - used),
        add_business_time(clock_started_at, breach_seconds() - used),
    )


def _deadline_after_pause(limit: float, used: float, paused_at: datetime, resumed_at: datetime) -> datetime:
    """When a cycle that used `used` business seconds before a pause reaches `limit`.

    Still ahead: that much business time after the resume. Reached exactly: the resume instant
    (the clock runs on from there, so the cycle is past it at once). Already passed before the
    pause: counted back from the pause, where the clock stopped, so the instant is a real one of
    the cycle's running time rather than one inside the pause.
    """
    remaining = limit - used
    if remaining >= 0:
        return add_business_time(resumed_at, remaining)
    return add_business_time(paused_at, remaining)


def _set_cursor(req: ReassessmentRequest, fired: set[str]) -> None:
    """Point the sweep at the first event of the running cycle that has not fired yet."""
    due = {
        SlaEventKind.AT_RISK: req.sla_at_risk_at,
        SlaEventKind.OVERDUE: req.sla_target_at,
        SlaEventKind.BREACHED: req.sla_breach_at,
    }
    for kind in (SlaEventKind.AT_RISK, SlaEventKind.OVERDUE, SlaEventKind.BREACHED):
        if kind not in fired:
            req.sla_next_event, req.sla_next_event_at = kind, due[kind]
            return
    req.sla_next_event, req.sla_next_event_at = "", None


def advance_cursor(req: ReassessmentRequest, fired_kind: str) -> None:
    """After the sweep fired `fired_kind`: move on to the next kind of the same cycle."""
    order = [SlaEventKind.AT_RISK, SlaEventKind.OVERDUE, SlaEventKind.BREACHED]
    _set_cursor(req, {str(k) for k in order[: order.index(SlaEventKind(fired_kind)) + 1]})


def cycle_start(req: ReassessmentRequest, *, at: datetime) -> SlaCycle:
    """Start the next cycle (1 at submit, 2 at request_reevaluation) with fresh deadlines."""
    number = req.sla_cycle + 1
    req.sla_cycle = number
    req.sla_clock_started_at = at
    req.sla_used_before_pause = 0.0
    req.sla_paused_at = None
    req.sla_stopped_at = None
    req.sla_at_risk_at, req.sla_target_at, req.sla_breach_at = _deadlines(at, 0.0)
    _set_cursor(req, set())
    return SlaCycle.objects.create(
        request=req, number=number, started_at=at, target_at=req.sla_target_at, breach_at=req.sla_breach_at
    )


def _used_now(req: ReassessmentRequest, at: datetime) -> float:
    if req.sla_paused_at is not None or req.sla_clock_started_at is None:
        return req.sla_used_before_pause
    return req.sla_used_before_pause + max(0.0, business_seconds_between(req.sla_clock_started_at, at))


def business_seconds_used(req: ReassessmentRequest, now: datetime) -> float:
    """Business seconds the current cycle has used by `now` (paused time excluded)."""
    if req.sla_cycle == 0:
        return 0.0
    if req.sla_stopped_at is not None:
        now = min(now, req.sla_stopped_at)
    return _used_now(req, now)


def cycle_pause(req: ReassessmentRequest, *, at: datetime) -> None:
    """request_info: stop the clock; deadlines are empty while paused, and so is the cursor."""
    if req.sla_cycle == 0 or req.sla_stopped_at is not None or req.sla_paused_at is not None:
        return
    req.sla_used_before_pause = _used_now(req, at)
    req.sla_paused_at = at
    req.sla_at_risk_at = req.sla_target_at = req.sla_breach_at = None
    req.sla_next_event, req.sla_next_event_at = "", None
    SlaCycle.objects.filter(request=req, number=req.sla_cycle).update(paused_at=at, target_at=None, breach_at=None)


def _close_pause(req: ReassessmentRequest, at: datetime) -> None:
    paused_at = req.sla_paused_at
    if paused_at is None:
        return
    at = max(at, paused_at)
    used = req.sla_used_before_pause
    cycle = SlaCycle.objects.get(request=req, number=req.sla_cycle)
    cycle.paused_seconds += (at - paused_at).total_seconds()
    cycle.paused_business_seconds += business_seconds_between(paused_at, at)
    cycle.paused_at = None
    req.sla_paused_at = None
    req.sla_clock_started_at = at
    req.sla_at_risk_at, req.sla_target_at, req.sla_breach_at = (
        _deadline_after_pause(limit, used, paused_at, at)
        for limit in (at_risk_seconds(), target_seconds(), breach_seconds())
    )
    cycle.target_at, cycle.breach_at = req.sla_target_at, req.sla_breach_at
    cycle.save(update_fields=["paused_seconds", "paused_business_seconds", "paused_at", "target_at", "breach_at"])


def cycle_resume(req: ReassessmentRequest, *, at: datetime) -> None:
    """provide_info: run the clock again; the paused business time pushes both deadlines out."""
    _close_pause(req, at)
    fired = set(SlaEvent.objects.filter(request=req, cycle=req.sla_cycle).values_list("kind", flat=True))
    _set_cursor(req, fired)


def cycle_stop(req: ReassessmentRequest, *, at: datetime, transition: str) -> None:
    """A decision or a withdrawal ends the running cycle; records its result."""
    if req.sla_cycle == 0 or req.sla_stopped_at is not None:
        return
    # A cycle stopped while paused is judged on the business time it had used: resuming it at
    # the stopping instant gives deadlines against which that instant compares the same way.
    _close_pause(req, at)
    used = _used_now(req, at)
    req.sla_stopped_at = at
    req.sla_next_event, req.sla_next_event_at = "", None
    result = sla_status_of(req, at)
    SlaCycle.objects.filter(request=req, number=req.sla_cycle).update(
        stopped_at=at, stop_transition=transition, business_seconds_used=used, result=result
    )


def record_first_response(req: ReassessmentRequest, *, at: datetime) -> None:
    """The first public staff action (a message to the customer or a decision)."""
    if req.first_response_at is None:
        req.first_response_at = at
    if req.sla_cycle:
        cycle = (
            SlaCycle.objects.filter(request=req, number=req.sla_cycle, first_response_at__isnull=True)
            .only("pk", "started_at")
            .first()
        )
        if cycle is not None:
            SlaCycle.objects.filter(pk=cycle.pk).update(
                first_response_at=at, first_response_business_seconds=business_seconds_between(cycle.started_at, at)
            )


def business_time_left(req: ReassessmentRequest, now: datetime) -> float | None:
    """Business seconds until the target (negative once past it); None when not running."""
    if req.sla_target_at is None or req.sla_stopped_at is not None or req.sla_paused_at is not None:
        return None
    return business_seconds_between(now, req.sla_target_at)
