"""Celery tasks: thin wrappers that load by id and call a service. No task is scheduled with an
ETA or countdown: deadlines live in the database and the beat sweep fires them."""

from __future__ import annotations

from datetime import timedelta

from celery import shared_task


@shared_task(name="tickets.tasks.deliver_notification", acks_late=True)
def deliver_notification(notification_id: int) -> bool:
    from .notifications import deliver

    return deliver(notification_id)


@shared_task(name="tickets.tasks.deliver_pending_notifications", acks_late=True)
def deliver_pending_notifications() -> int:
    from .notifications import deliver_pending

    return deliver_pending(grace=timedelta(0))


@shared_task(name="tickets.tasks.screen_request", acks_late=True)
def screen_request_task(request_id: int) -> None:
    from .screening import screen_request

    screen_request(request_id=request_id)


@shared_task(name="tickets.tasks.sla_sweep", acks_late=True, ignore_result=True)
def sla_sweep() -> dict[str, int]:
    from .sweep import run_sweep

    return run_sweep().as_dict()
