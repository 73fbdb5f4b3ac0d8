"""The SLA sweep: fires due SLA events and the system transitions, re-tries the outbox.

Runs every SLA_SWEEP_SECONDS from Celery beat (static schedule) and on demand through
`manage.py sla_sweep`. Due rows are claimed with SELECT ... FOR UPDATE SKIP LOCKED in batches, one
transaction per batch, so two sweeps at once split the work and a crash mid-batch rolls the batch
back for the next sweep. Each event is recorded in SlaEvent (unique per request, cycle and kind)
and its emails in the outbox (unique dedupe keys), so nothing fires twice. A batch costs a fixed
number of queries whatever its size.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction

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
    fired: list[tuple[str, int, str]] = field(default_factory=list)

    def as_dict(self) -> dict[str, int]:
        data = asdict(self)
        data.pop("fired")
        return data


def run_sweep(*, now: datetime | None = None, batch_size: int | None = None, deliver: bool = True) -> SweepResult:
    now = now or clock.now()
    batch_size = batch_size or settings.SLA_SWEEP_BATCH_SIZE
    result = SweepResult()
    recipients = _Recipients()
    while fire_event_batch(now=now, batch_size=batch_size, result=result, recipients=recipients):
        result.batches += 1
    result.expired_info_requests = _run_system_transitions(
        ReassessmentRequest.objects.filter(state=State.AWAITING_CUSTOMER, info_due_at__lte=now),
        services.request_expire_info_request,
        batch_size,
    )
    result.closed_reevaluation_windows = _run_system_transitions(
        ReassessmentRequest.objects.filter(state=State.REJECTED, reevaluation_due_at__lte=now),
        services.request_close_reevaluation_window,
        batch_size,
    )
    result.info_reminders = _send_info_reminders(now, batch_size)
    result.screened = _screen_lost(now, batch_size)
    if deliver:
        result.delivered = notifications.deliver_pending()
    if result.events or result.expired_info_requests or result.closed_reevaluation_windows:
        logger.info("sla sweep: %s", result.as_dict())
    return result


class _Recipients:
    """Group addresses looked up once per sweep, not once per row."""

    def __init__(self) -> None:
        self._cache: dict[str, list[str]] = {}

    def group(self, name: str) -> list[str]:
        if name not in self._cache:
            extra = [settings.SLA_TEAM_EMAIL] if name == ACCOUNTS_TEAM and settings.SLA_TEAM_EMAIL else []
            self._cache[name] = notifications.group_recipients(name) + extra
        return self._cache[name]


def _event_notifications(req: ReassessmentRequest, kind: str, recipients: _Recipients) -> list[Notification]:
    key = f"sla:{req.pk}:{req.sla_cycle}:{kind}"
    context = {"event": kind, "cycle": req.sla_cycle}
    rows = []
    if kind == SlaEventKind.AT_RISK:
        to = notifications.user_recipients(req.assignee) if req.assignee_id else recipients.group(ACCOUNTS_TEAM)
        rows.append(("sla_at_risk", to, f"{key}:staff"))
    else:
        rows.append((f"sla_{kind}", recipients.group(MANAGERS), f"{key}:managers"))
    if kind == SlaEventKind.BREACHED:
        rows.append(("sla_breach_customer", notifications.customer_recipients(req), f"{key}:customer"))
    return [
        notifications.render(template, to=to, request=req, context=context, dedupe_key=dedupe)
        for template, to, dedupe in rows
        if to
    ]


def fire_event_batch(*, now: datetime, batch_size: int, result: SweepResult, recipients: _Recipients) -> bool:
    """Fire every due event of one batch of requests. False when nothing was due."""
    with transaction.atomic():
        batch = list(
            ReassessmentRequest.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(sla_next_event_at__lt=now)
            .select_related("account__owner", "assignee", "created_by")
            .order_by("sla_next_event_at")[:batch_size]
        )
        if not batch:
            return False
        events: list[SlaEvent] = []
        outbox: list[Notification] = []
        for req in batch:
            # A sweep that was down for a while fires every event that came due, in order.
            while req.sla_next_event_at is not None and req.sla_next_event_at < now:
                kind = req.sla_next_event
                events.append(SlaEvent(request=req, cycle=req.sla_cycle, kind=kind, due_at=req.sla_next_event_at))
                outbox.extend(_event_notifications(req, kind, recipients))
                result.fired.append((req.reference, req.sla_cycle, kind))
                sla.advance_cursor(req, kind)
        SlaEvent.objects.bulk_create(events, ignore_conflicts=True)
        Notification.objects.bulk_create(outbox, ignore_conflicts=True)
        ReassessmentRequest.objects.bulk_update(batch, ["sla_next_event", "sla_next_event_at"])
        result.events += len(events)
        result.notifications += len(outbox)
        if outbox:
            transaction.on_commit(notifications.enqueue_delivery)
    return True


def _run_system_transitions(queryset, service, batch_size: int) -> int:  # noqa: ANN001
    done = 0
    while True:
        with transaction.atomic():
            ids = list(
                queryset.select_for_update(skip_locked=True).order_by("pk").values_list("pk", flat=True)[:batch_size]
            )
            for request_id in ids:
                try:
                    with transaction.atomic():
                        service(request_id=request_id)
                    done += 1
                except TransitionRefused as exc:
                    logger.warning("sweep skipped request %s: %s", request_id, exc.message)
        if len(ids) < batch_size:
            return done


def _send_info_reminders(now: datetime, batch_size: int) -> int:
    """Remind the customer INFO_REQUEST_REMINDER_DAYS before an information request expires."""
    if settings.INFO_REQUEST_REMINDER_DAYS <= 0:
        return 0
    horizon = now + timedelta(days=settings.INFO_REQUEST_REMINDER_DAYS)
    sent = 0
    with transaction.atomic():
        due = list(
            ReassessmentRequest.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(state=State.AWAITING_CUSTOMER, info_due_at__lte=horizon, info_due_at__gt=now, info_reminder_sent=False)
            .select_related("account__owner", "created_by")
            .order_by("info_due_at")[:batch_size]
        )
        for req in due:
            key = f"info_reminder:{req.pk}:{req.info_requested_at.timestamp() if req.info_requested_at else 0}"
            notifications.notify(
                "info_reminder",
                to=notifications.customer_recipients(req),
                request=req,
                context={"due_at": req.info_due_at},
                dedupe_key=key,
            )
            req.info_reminder_sent = True
            sent += 1
        ReassessmentRequest.objects.bulk_update(due, ["info_reminder_sent"])
    return sent


def _screen_lost(now: datetime, batch_size: int) -> int:
    from .screening import screen_request

    ids = list(
        ReassessmentRequest.objects.filter(
            state=State.SUBMITTED, screened_at__isnull=True, submitted_at__lt=now - SCREENING_GRACE
        ).values_list("pk", flat=True)[:batch_size]
    )
    for request_id in ids:
        screen_request(request_id=request_id)
    return len(ids)
