"""The Celery app. Tasks are thin: they load rows by id and call services (tickets/tasks.py).

Timers never live in the broker: with Redis, a task scheduled far ahead is redelivered after the
visibility timeout and runs again, and a flushed broker forgets it. Deadlines live in the
database and the beat sweep fires them, so this app refuses any task scheduled more than
MAX_TASK_DELAY ahead (an ETA or a countdown), whoever sends it.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from celery import Celery, Task

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "casemgr.settings")

# "A few minutes": well inside the Redis visibility timeout, so a delayed task still runs once.
MAX_TASK_DELAY = timedelta(minutes=5)


class TaskDelayTooLong(ValueError):
    """A task was scheduled further ahead than MAX_TASK_DELAY."""


def check_task_delay(name: str, countdown: float | None = None, eta: datetime | str | None = None) -> None:
    """Refuse an ETA or countdown more than MAX_TASK_DELAY ahead: put the deadline in the database."""
    if countdown is not None and timedelta(seconds=float(countdown)) > MAX_TASK_DELAY:
        raise TaskDelayTooLong(
            f"{name}: a countdown of {countdown}s is longer than {MAX_TASK_DELAY}; store the deadline "
            "in the database and let the SLA sweep act on it."
        )
    if eta is not None:
        when = datetime.fromisoformat(eta) if isinstance(eta, str) else eta
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        if when - datetime.now(UTC) > MAX_TASK_DELAY:
            raise TaskDelayTooLong(
                f"{name}: an ETA of {when.isoformat()} is more than {MAX_TASK_DELAY} ahead; store the "
                "deadline in the database and let the SLA sweep act on it."
            )


class GuardedTask(Task):
    """Checks the delay before anything else, so even eager runs (tests) refuse a long one."""

    def apply_async(self, args: Any = None, kwargs: Any = None, *rest: Any, **options: Any) -> Any:
        check_task_delay(self.name, options.get("countdown"), options.get("eta"))
        return super().apply_async(args, kwargs, *rest, **options)


class CasemgrCelery(Celery):
    def send_task(self, name: str, *args: Any, **options: Any) -> Any:
        check_task_delay(name, options.get("countdown"), options.get("eta"))
        return super().send_task(name, *args, **options)


app = CasemgrCelery("casemgr", task_cls=GuardedTask)
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


def _ensure_filesystem_broker_folders() -> None:
    """kombu's filesystem transport (the no-Redis default) needs its folders to exist."""
    from django.conf import settings

    if settings.CELERY_BROKER_URL.startswith("filesystem://"):
        options = settings.CELERY_BROKER_TRANSPORT_OPTIONS
        for key in ("data_folder_in", "data_folder_out", "processed_folder"):
            Path(str(options[key])).mkdir(parents=True, exist_ok=True)


@app.on_after_configure.connect
def _on_after_configure(sender: Celery, **kwargs: object) -> None:
    _ensure_filesystem_broker_folders()
