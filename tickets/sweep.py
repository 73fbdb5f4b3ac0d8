"""The SLA sweep: fires due SLA events and the system transitions, re-tries the outbox.

Runs every SLA_SWEEP_SECONDS from Celery beat (a static schedule) and on demand through
`manage.py sla_sweep`. Due rows are claimed with SELECT ... FOR UPDATE SKIP LOCKED in batches, one
transaction per batch, so two sweeps at once split the work and a crash mid-batch rolls the whole
batch back (events, emails and cursors together) for the next sweep. Each event is recorded in
SlaEvent (unique per request, cycle and kind) and its emails in the outbox (unique dedupe keys),
so nothing fires twice.

Cost: an idle sweep is one indexed query per kind of work (due events, expired information
requests, closed re-evaluation windows, reminders, lost screenings, unsent emails). Firing events
costs a fixed number of queries per batch, whatever its size. The system transitions go through
the services one request at a time (every state change must), which is fine: they are rare.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import QuerySet

from accounts.roles import ACCOUNTS_TEAM, MANAGERS

from . import clock, notifications, services, sla
from .errors import TransitionRefused
from .models import Notification, ReassessmentRequest, SlaEvent, SlaEventKind, State

logger = logging.getLogger(__name__)

# Requests submitted this long ago and still unscreened lost their screening task: screen them here.
SCREENING_GRACE = timedelta(minutes=2)


@dataclass
class SweepResult:
    events: int = 0
    notifications: int = 0
    expired_info_requests: int = 0
    closed_reevaluation_windows: int = 0
    info_reminders: int = 0
    screened: int = 0
    delivered: int = 0
    batches: int = 0
    failures: int = 0
    # (reference, cycle, kind) of every event fired, in order: for the command's output and tests.
    fired: list[tuple[str, int, str]] = field(default_factory=list)

    def as_dict(self) -> dict[str, int]:
        data = asdict(self)
        data.pop("fired")
        return data


def run_sweep(
    *,
    now: datetime | None = None,
    batch_size: int | None = None,
    deliver: bool = True,
    delivery_seconds: float | None = None,
) -> SweepResult:
    """Do everything that came due by `now` (default: the current time), then re-try unsent emails.

    Safe to run any number of times, concurrently, and again after a crash. `deliver=False`
    leaves unsent emails to the delivery tasks; `delivery_seconds` bounds the time spent sending
    (default: half the sweep period, so a slow mail server never makes sweeps overlap).
    """
    now = now or clock.now()
    batch_size = batch_size or settings.SLA_SWEEP_BATCH_SIZE
    result = SweepResult()
    # The services act at the sweep's instant: the one its queries chose the due rows by.
    with clock.frozen(now):
        fire_due_events(now=now, batch_size=batch_size, result=result)
        result.expired_info_requests = _run_system_transitions(
            ReassessmentRequest.objects.filter(state=State.AWAITING_CUSTOMER, info_due_at__lte=now),
            "info_due_at",
            services.request_expire_info_request,
            batch_size,
            result,
        )
        result.closed_reevaluation_windows = _run_system_transitions(
            ReassessmentRequest.objects.filter(state=State.REJECTED, reevaluation_due_at__lte=now),
            "reevaluation_due_at",
            services.request_close_reevaluation_window,
            batch_size,
            result,
        )
        result.info_reminders = _send_info_reminders(now, batch_size)
        result.screened = _screen_lost(now, batch_size, result)
    if deliver:
        budget = settings.SLA_SWEEP_SECONDS / 2 if delivery_seconds is None else delivery_seconds
        result.delivered = notifications.deliver_pending(time_budget=budget)
    summary = result.as_dict()
    if any(value for key, value in summary.items() if key != "batches"):
        logger.info("sla sweep: %s", summary)
    return result


# --- SLA events ------------------------------------------------------------------------------------


class _Recipients:
    """Group addresses looked up once per sweep, not once per row."""

    def __init__(self) -> None:
        self._cache: dict[str, list[str]] = {}

    def group(self, name: str) -> list[str]:
        if name not in self._cache:
            extra = [settings.SLA_TEAM_EMAIL] if name == ACCOUNTS_TEAM and settings.SLA_TEAM_EMAIL else []
            self._cache[name] = notifications.group_recipients(name) + extra
        return self._cache[name]


def event_notifications(req: ReassessmentRequest, kind: str, recipients: _Recipients) -> list[Notification]:
    """The unsaved outbox rows of one SLA event (DESIGN §5).

    at_risk: the assignee, or the whole team when nobody is assigned (or the assignee cannot be
    mailed). overdue: the managers. breached: the managers, and the customer is told that the
    review is taking longer than usual. The dedupe keys make each email once per cycle.
    """
    key = f"sla:{req.pk}:{req.sla_cycle}:{kind}"
    context = {"event": kind, "cycle": req.sla_cycle}
    rows: list[tuple[str, list[str], str]] = []
    if kind == SlaEventKind.AT_RISK:
        to = notifications.user_recipients(req.assignee) if req.assignee_id else []
        rows.append(("sla_at_risk", to or recipients.group(ACCOUNTS_TEAM), f"{key}:staff"))
    else:
        rows.append((f"sla_{kind}", recipients.group(MANAGERS), f"{key}:managers"))
    if kind == SlaEventKind.BREACHED:
        rows.append(("sla_breach_customer", notifications.customer_recipients(req), f"{key}:customer"))
    built = []
    for template, to, dedupe in rows:
        if to:
            built.append(notifications.render(template, to=to, request=req, context=context, dedupe_key=dedupe))
        else:
            logger.warning("SLA %s of %s: nobody to send %s to", kind, req.reference, template)
    return built


def fire_due_events(*, now: datetime, batch_size: int, result: SweepResult) -> None:
    """Fire every SLA event due before `now`, batch after batch.

    A batch that fails with an error is retried one request at a time, so one broken row (a
    template error, bad data) is logged and left for the next sweep instead of holding up every
    other request's events. A crash of the process itself rolls the batch back untouched.
    """
    recipients = _Recipients()
    poisoned: set[int] = set()
    while True:
        claimed: list[int] = []
        try:
            count = fire_event_batch(
                now=now, batch_size=batch_size, result=result, recipients=recipients, exclude=poisoned, claimed=claimed
            )
        except Exception:
            if not claimed:
                raise  # the batch query itself failed: nothing to isolate, let the sweep fail loudly
            logger.exception("SLA event batch of %s requests failed; retrying them one by one", len(claimed))
            for request_id in claimed:
                try:
                    fire_event_batch(now=now, batch_size=1, result=result, recipients=recipients, only=request_id)
                except Exception:
                    logger.exception("SLA events of request %s failed; the next sweep retries them", request_id)
                    poisoned.add(request_id)
                    result.failures += 1
            continue
        if count == 0:
            return
        result.batches += 1


def fire_event_batch(
    *,
    now: datetime,
    batch_size: int,
    result: SweepResult,
    recipients: _Recipients | None = None,
    exclude: set[int] | None = None,
    only: int | None = None,
    claimed: list[int] | None = None,
) -> int:
    """Fire every due event of one batch of requests, in one transaction. Returns the batch size
    (0 when nothing was due). `claimed` receives the batch's ids before any work is done."""
    recipients = recipients or _Recipients()
    with transaction.atomic():
        due = ReassessmentRequest.objects.select_for_update(skip_locked=True, of=("self",)).filter(
            sla_next_event_at__lt=now
        )
        if only is not None:
            due = due.filter(pk=only)
        if exclude:
            due = due.exclude(pk__in=exclude)
        batch = list(
            due.select_related("account__owner", "assignee", "created_by").order_by("sla_next_event_at", "pk")[
                :batch_size
            ]
        )
        if claimed is not None:
            claimed.extend(req.pk for req in batch)
        if not batch:
            return 0
        events: list[SlaEvent] = []
        outbox: list[Notification] = []
        fired: list[tuple[str, int, str]] = []
        for req in batch:
            if req.sla_stopped_at is not None or req.sla_paused_at is not None:
                # A cursor left behind on a stopped or paused cycle (data edited by hand): no event.
                req.sla_next_event, req.sla_next_event_at = "", None
                continue
            # A sweep that was down for a while fires every event that came due, in order.
            while req.sla_next_event_at is not None and req.sla_next_event_at < now:
                kind = req.sla_next_event
                events.append(
                    SlaEvent(request=req, cycle=req.sla_cycle, kind=kind, due_at=req.sla_next_event_at, fired_at=now)
                )
                outbox.extend(event_notifications(req, kind, recipients))
                fired.append((req.reference, req.sla_cycle, kind))
                sla.advance_cursor(req, kind)
        # The unique constraints make a replay harmless: an event or email already recorded stays once.
        SlaEvent.objects.bulk_create(events, ignore_conflicts=True)
        notifications.save_and_queue(outbox)
        save_cursors(batch)
    # Counted only once the batch committed: a batch that failed fired nothing.
    result.events += len(events)
    result.notifications += len(outbox)
    result.fired.extend(fired)
    return len(batch)


def save_cursors(batch: list[ReassessmentRequest]) -> None:
    """Write the sweep cursor of every request of a batch in one UPDATE.

    The same statement bulk_update would send, without its CASE expression per row and field,
    whose construction in Python cost more than the rest of the batch (a third of a 10,000-event
    sweep). Only the two cursor fields change: never the state, which only services change.
    """
    if not batch:
        return
    quote = connection.ops.quote_name
    table = quote(ReassessmentRequest._meta.db_table)
    # PostgreSQL types a VALUES column of only NULLs as text: say it is a timestamp.
    due = "CAST(v.due AS timestamp with time zone)" if connection.vendor == "postgresql" else "v.due"
    rows = ", ".join(["(%s, %s, %s)"] * len(batch))
    params: list[Any] = []
    for req in batch:
        params += [req.pk, req.sla_next_event, connection.ops.adapt_datetimefield_value(req.sla_next_event_at)]
    # Only quoted identifiers and placeholders are interpolated; every value is a parameter.
    sql = (
        f"UPDATE {table} SET {quote('sla_next_event')} = v.kind, {quote('sla_next_event_at')} = {due} "  # noqa: S608
        f"FROM (SELECT column1 AS id, column2 AS kind, column3 AS due FROM (VALUES {rows}) AS vals) AS v "
        f"WHERE {table}.{quote('id')} = v.id"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


# --- system transitions ------------------------------------------------------------------------------


def _run_system_transitions(
    queryset: QuerySet[ReassessmentRequest],
    due_field: str,
    service: Callable[..., Any],
    batch_size: int,
    result: SweepResult,
) -> int:
    """Run a system transition on every due request, through its service, batch by batch.

    A request the service refuses or fails on is logged and skipped for the rest of this sweep (it
    is retried by the next one), so it can neither stop the others nor loop the sweep forever.
    """
    done = 0
    skipped: set[int] = set()
    while True:
        with transaction.atomic():
            due = queryset.select_for_update(skip_locked=True)
            if skipped:
                due = due.exclude(pk__in=skipped)
            ids = list(due.order_by(due_field, "pk").values_list("pk", flat=True)[:batch_size])
            for request_id in ids:
                try:
                    with transaction.atomic():
                        service(request_id=request_id)
                    done += 1
                except TransitionRefused as exc:
                    logger.warning("sweep: %s refused for request %s: %s", service.__name__, request_id, exc.message)
                    skipped.add(request_id)
                except Exception:
                    logger.exception("sweep: %s failed for request %s", service.__name__, request_id)
                    skipped.add(request_id)
                    result.failures += 1
        if len(ids) < batch_size:
            return done


def _send_info_reminders(now: datetime, batch_size: int) -> int:
    """Remind the customer INFO_REQUEST_REMINDER_DAYS before an information request expires."""
    if settings.INFO_REQUEST_REMINDER_DAYS <= 0:
        return 0
    horizon = now + timedelta(days=settings.INFO_REQUEST_REMINDER_DAYS)
    sent = 0
    while True:
        with transaction.atomic():
            due = list(
                ReassessmentRequest.objects.select_for_update(skip_locked=True, of=("self",))
                .filter(
                    state=State.AWAITING_CUSTOMER,
                    info_due_at__gt=now,
                    info_due_at__lte=horizon,
                    info_reminder_sent=False,
                )
                .select_related("account__owner", "created_by")
                .order_by("info_due_at", "pk")[:batch_size]
            )
            outbox = []
            for req in due:
                to = notifications.customer_recipients(req)
                requested = req.info_requested_at.timestamp() if req.info_requested_at else 0
                if to:
                    outbox.append(
                        notifications.render(
                            "info_reminder",
                            to=to,
                            request=req,
                            context={"due_at": req.info_due_at},
                            dedupe_key=f"info_reminder:{req.pk}:{requested}",
                        )
                    )
                req.info_reminder_sent = True
            if due:
                notifications.save_and_queue(outbox)
                ReassessmentRequest.objects.bulk_update(due, ["info_reminder_sent"])
            sent += len(outbox)
        if len(due) < batch_size:
            return sent


def _screen_lost(now: datetime, batch_size: int, result: SweepResult) -> int:
    """Screen submitted requests whose screening task was lost (a broker outage at submit)."""
    from .screening import screen_request

    ids = list(
        ReassessmentRequest.objects.filter(
            state=State.SUBMITTED, screened_at__isnull=True, submitted_at__lt=now - SCREENING_GRACE
        )
        .order_by("submitted_at")
        .values_list("pk", flat=True)[:batch_size]
    )
    screened = 0
    for request_id in ids:
        try:
            screen_request(request_id=request_id)
            screened += 1
        except Exception:
            logger.exception("sweep: screening request %s failed", request_id)
            result.failures += 1
    return screened
