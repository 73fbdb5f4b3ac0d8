"""The outbox: emails are rows first, delivered after commit, re-tried by the sweep, sent once.

`notify()` renders the email and writes a Notification row in the caller's transaction, then asks
for delivery on commit. Delivery claims the row with a conditional UPDATE (a lease), sends it,
and marks it sent. A lost broker message or a crashed worker delays an email; the sweep's
`deliver_pending()` picks it up. The stable Message-ID lets a receiving server recognise the rare
re-send after a worker died between the SMTP hand-off and the `sent_at` update.
"""

from __future__ import annotations

import logging
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

DELIVERY_LEASE = timedelta(minutes=5)
# The sweep leaves fresh rows to the on-commit task for this long, so both do not race for them.
SWEEP_GRACE = timedelta(seconds=30)
RETRY_BACKOFF = timedelta(minutes=2)
MAX_ATTEMPTS = 20


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
    subject = " ".join(render_to_string(f"emails/{kind}.subject.txt", ctx).split())
    return Notification(
        kind=kind,
        request=request,
        to=to,
        subject=subject[:300],
        body_text=render_to_string(f"emails/{kind}.txt", ctx),
        body_html=render_to_string(f"emails/{kind}.html", ctx),
        dedupe_key=dedupe_key,
    )


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


def _claim(notification_id: int) -> bool:
    now = timezone.now()
    claimed = Notification.objects.filter(
        Q(claimed_until__isnull=True) | Q(claimed_until__lt=now),
        pk=notification_id,
        sent_at__isnull=True,
        attempts__lt=MAX_ATTEMPTS,
    ).update(claimed_until=now + DELIVERY_LEASE, attempts=F("attempts") + 1)
    return claimed == 1


def deliver(notification_id: int) -> bool:
    """Send one notification if it is unsent and nobody else holds it. True when sent now."""
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
        logger.warning("sending notification %s failed: %s", notification_id, exc)
        Notification.objects.filter(pk=notification_id).update(
            last_error=str(exc)[:2000], claimed_until=timezone.now() + RETRY_BACKOFF
        )
        return False
    Notification.objects.filter(pk=notification_id).update(sent_at=timezone.now(), last_error="")
    return True


def deliver_pending(*, limit: int = 500, grace: timedelta = SWEEP_GRACE) -> int:
    """Deliver unsent rows whose on-commit delivery was lost. Returns how many were sent."""
    now = timezone.now()
    ids = list(
        Notification.objects.filter(
            Q(claimed_until__isnull=True) | Q(claimed_until__lt=now),
            sent_at__isnull=True,
            attempts__lt=MAX_ATTEMPTS,
            created_at__lte=now - grace,
        )
        .order_by("created_at")
        .values_list("pk", flat=True)[:limit]
    )
    return sum(1 for pk in ids if deliver(pk))
