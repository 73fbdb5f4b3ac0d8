"""Celery tasks: thin wrappers that load by id and call a service.

No task is ever scheduled with an ETA or countdown: deadlines live in the database and the beat
sweep fires them (with a Redis broker, a delayed task is redelivered after the visibility timeout
and runs again). casemgr/celery.py refuses any publish with an ETA more than a few minutes away.
Every task is safe to run twice: acks_late redelivers a task whose worker died.
"""

from __future__ import annotations

from datetime import timedelta

from celery import shared_task


@shared_task(name="tickets.tasks.deliver_notification", acks_late=True, ignore_result=True)
def deliver_notification(notification_id: int) -> bool:
    from .notifications import deliver

    return deliver(notification_id)


@shared_task(name="tickets.tasks.deliver_notifications", acks_late=True, ignore_result=True)
def deliver_notifications(notification_ids: list[int]) -> int:
    from .notifications import deliver_many

    return deliver_many(notification_ids)


@shared_task(name="tickets.tasks.deliver_pending_notifications", acks_late=True, ignore_result=True)
def deliver_pending_notifications() -> int:
    from .notifications import deliver_pending

    return deliver_pending(grace=timedelta(0))


@shared_task(name="tickets.tasks.screen_request", acks_late=True, ignore_result=True)
def screen_request_task(request_id: int) -> None:
    from .screening import screen_request

    screen_request(request_id=request_id)


@shared_task(name="tickets.tasks.sla_sweep", acks_late=True, ignore_result=True)
def sla_sweep() -> dict[str, int]:
    from .sweep import run_sweep

    return run_sweep().as_dict()
