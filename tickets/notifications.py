"""The outbox: emails are rows first, delivered after commit, re-tried by the sweep, sent once.

`notify()` renders the email and writes a Notification row in the caller's transaction, then asks
for delivery on commit. Delivery claims the row with a conditional UPDATE (a lease), sends it,
and marks it sent. A lost broker message or a crashed worker delays an email; the sweep's
`deliver_pending()` picks it up. The stable Message-ID lets a receiving server recognise the rare
re-send after a worker died between the SMTP hand-off and the `sent_at` update.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.template.loader import render_to_string
from django.utils import timezone

from .models import Notification, ReassessmentRequest

logger = logging.getLogger(__name__)

# How long a delivery may hold a row: far longer than one SMTP hand-off (EMAIL_TIMEOUT is seconds),
# so a live worker never loses its lease, yet short enough that a dead worker's row is re-sent soon.
DELIVERY_LEASE = timedelta(minutes=5)
# The sweep leaves fresh rows to the on-commit task for this long, so both do not race for them.
SWEEP_GRACE = timedelta(seconds=30)
# After a failed attempt the row waits 2, 4, 8 ... minutes, at most an hour, before the next one;
# after MAX_ATTEMPTS (about two days of failures) it stops and is logged as an error.
RETRY_BACKOFF = timedelta(minutes=2)
RETRY_BACKOFF_MAX = timedelta(hours=1)
MAX_ATTEMPTS = 48


def customer_recipients(req: ReassessmentRequest) -> list[str]:
    """The requester and the account owner (each once, only those with an address)."""
    users = [req.created_by, req.account.owner]
    return _emails(users)


def _emails(users: Iterable[Any]) -> list[str]:
    seen: list[str] = []
    for user in users:
        email = (getattr(user, "email", "") or "").strip()
        if email and getattr(user, "is_active", True) and email.lower() not in {e.lower() for e in seen}:
            seen.append(email)
    return seen


def group_recipients(*group_names: str) -> list[str]:
    user_model = get_user_model()
    users = user_model.objects.filter(groups__name__in=group_names, is_active=True).distinct().order_by("pk")
    return _emails(users)


def user_recipients(*users: Any) -> list[str]:
    return _emails(u for u in users if u is not None)


def portal_url(req: ReassessmentRequest) -> str:
    return f"{settings.SITE_URL}/requests/{req.reference}/"


def admin_url(req: ReassessmentRequest) -> str:
    return f"{settings.SITE_URL}/admin/tickets/reassessmentrequest/{req.pk}/change/"


def render(
    kind: str,
    *,
    to: list[str],
    request: ReassessmentRequest | None = None,
    context: dict[str, Any] | None = None,
    dedupe_key: str | None = None,
) -> Notification:
    """An unsaved outbox row for email `kind` (templates emails/<kind>.{subject.txt,txt,html})."""
    ctx = {
        "request": request,
        "site_url": settings.SITE_URL,
        "portal_url": portal_url(request) if request else settings.SITE_URL,
        "admin_url": admin_url(request) if request else f"{settings.SITE_URL}/admin/",
        **(context or {}),
    }
    # Dates in emails read in the desk's time zone (SLA_TIMEZONE), like the deadlines themselves.
    with timezone.override(settings.SLA_TIMEZONE):
        subject = " ".join(render_to_string(f"emails/{kind}.subject.txt", ctx).split())
        body_text = render_to_string(f"emails/{kind}.txt", ctx)
        body_html = render_to_string(f"emails/{kind}.html", ctx)
    return Notification(
        kind=kind,
        request=request,
        to=to,
        subject=subject[:300],
        body_text=body_text,
        body_html=body_html,
        dedupe_key=dedupe_key,
    )


def save_and_queue(rows: list[Notification]) -> list[int]:
    """Write many outbox rows at once (rows whose dedupe key was already used are skipped) and
    deliver the new ones after commit in one task. Two queries whatever the number of rows.
    Call inside the transaction that causes the emails. Every row needs a dedupe key."""
    if not rows:
        return []
    if any(not row.dedupe_key for row in rows):
        raise ValueError("save_and_queue needs a dedupe key on every row.")
    Notification.objects.bulk_create(rows, ignore_conflicts=True)
    # bulk_create with ignore_conflicts does not return ids: read back the unsent rows by key.
    ids = list(
        Notification.objects.filter(dedupe_key__in=[row.dedupe_key for row in rows], sent_at__isnull=True)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    if ids:
        transaction.on_commit(lambda: enqueue_many(ids))
    return ids


def notify(
    kind: str,
    *,
    to: list[str],
    request: ReassessmentRequest | None = None,
    context: dict[str, Any] | None = None,
    dedupe_key: str | None = None,
) -> Notification | None:
    """Write an outbox row for email `kind` and deliver it after commit.

    Call inside the transaction that causes the email. Returns None when there is nobody to send
    to or when `dedupe_key` was already used (the email was already queued once).
    """
    if not to:
        logger.info("notification %s for %s has no recipients", kind, getattr(request, "reference", "-"))
        return None
    notification = render(kind, to=to, request=request, context=context, dedupe_key=dedupe_key)
    try:
        with transaction.atomic():
            notification.save()
    except IntegrityError:
        if dedupe_key and Notification.objects.filter(dedupe_key=dedupe_key).exists():
            return None
        raise
    transaction.on_commit(lambda: enqueue_delivery(notification.pk))
    return notification


def enqueue_delivery(notification_id: int | None = None) -> None:
    """Hand one row (or, without an id, every pending row) to a worker. A broker outage only
    delays delivery: the sweep re-tries unsent rows."""
    from . import tasks

    try:
        if notification_id is None:
            tasks.deliver_pending_notifications.delay()
        else:
            tasks.deliver_notification.delay(notification_id)
    except Exception:  # noqa: BLE001 - any broker failure; the row is safe in the database
        logger.warning("could not enqueue delivery of %s; the sweep will deliver it", notification_id or "pending")


def enqueue_many(notification_ids: list[int]) -> None:
    """Hand a batch of rows to one worker task (the sweep's events: one message per batch)."""
    from . import tasks

    try:
        tasks.deliver_notifications.delay(list(notification_ids))
    except Exception:  # noqa: BLE001 - any broker failure; the rows are safe in the database
        logger.warning("could not enqueue %s notifications; the sweep will deliver them", len(notification_ids))


def retry_delay(attempts: int) -> timedelta:
    """How long a row waits after its `attempts`-th attempt failed."""
    return min(RETRY_BACKOFF * (2 ** max(0, min(attempts - 1, 16))), RETRY_BACKOFF_MAX)


def _claim(notification_id: int) -> bool:
    """Take the delivery lease with one conditional UPDATE: only one worker wins a row, and a
    row already sent, held by a live delivery or out of attempts is not taken."""
    now = timezone.now()
    claimed = Notification.objects.filter(
        Q(claimed_until__isnull=True) | Q(claimed_until__lt=now),
        pk=notification_id,
        sent_at__isnull=True,
        attempts__lt=MAX_ATTEMPTS,
    ).update(claimed_until=now + DELIVERY_LEASE, attempts=F("attempts") + 1)
    return claimed == 1


def deliver(notification_id: int) -> bool:
    """Send one notification if it is unsent and nobody else holds it. True when sent now.

    The lease is committed before the SMTP hand-off and `sent_at` right after it, each in its own
    statement, so this must not run inside a transaction (a rollback would forget the send).
    If the process dies in between, the row is sent again once the lease expires, with the same
    Message-ID, so the receiving side can recognise the copy.
    """
    if not _claim(notification_id):
        return False
    notification = Notification.objects.get(pk=notification_id)
    message = EmailMultiAlternatives(
        subject=notification.subject,
        body=notification.body_text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=notification.to,
        headers={"Message-ID": notification.message_id, "X-Casemgr-Notification": str(notification.pk)},
    )
    if notification.body_html:
        message.attach_alternative(notification.body_html, "text/html")
    try:
        message.send(fail_silently=False)
    except Exception as exc:  # noqa: BLE001 - any transport error: keep the row for a retry
        delay = retry_delay(notification.attempts)
        log = logger.error if notification.attempts >= MAX_ATTEMPTS else logger.warning
        log(
            "sending notification %s failed (attempt %s of %s, next in %s): %s",
            notification_id,
            notification.attempts,
            MAX_ATTEMPTS,
            delay,
            exc,
        )
        Notification.objects.filter(pk=notification_id).update(
            last_error=str(exc)[:2000], claimed_until=timezone.now() + delay
        )
        return False
    Notification.objects.filter(pk=notification_id).update(sent_at=timezone.now(), claimed_until=None, last_error="")
    return True


def deliver_many(notification_ids: list[int]) -> int:
    """Deliver the given rows (each only if still unsent and unclaimed). Returns how many were sent."""
    return sum(1 for pk in notification_ids if deliver(pk))


def deliver_pending(*, limit: int = 500, grace: timedelta | None = None, time_budget: float | None = None) -> int:
    """Deliver unsent rows whose on-commit delivery was lost or failed. Returns how many were sent.

    Rows younger than `grace` (default SWEEP_GRACE) are left to their own delivery task; sending
    stops after `time_budget` seconds so a slow mail server cannot stall the caller.
    """
    now = timezone.now()
    grace = SWEEP_GRACE if grace is None else grace
    ids = list(
        Notification.objects.filter(
            Q(claimed_until__isnull=True) | Q(claimed_until__lt=now),
            sent_at__isnull=True,
            attempts__lt=MAX_ATTEMPTS,
            created_at__lte=now - grace,
        )
        .order_by("created_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )
    started = time.monotonic()
    sent = 0
    for pk in ids:
        if time_budget is not None and time.monotonic() - started > time_budget:
            break
        sent += deliver(pk)
    return sent
