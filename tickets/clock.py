"""The time services act at. Tests and the demo seeder travel in time with `frozen(at)`."""

from __future__ import annotations

import contextvars
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

from django.utils import timezone

_frozen_at: contextvars.ContextVar[datetime | None] = contextvars.ContextVar("casemgr_now", default=None)


def now() -> datetime:
    return _frozen_at.get() or timezone.now()


@contextmanager
def frozen(at: datetime) -> Iterator[datetime]:
    """Every service call inside the block acts at `at` (an aware datetime)."""
    if at.tzinfo is None:
        raise ValueError("clock.frozen needs an aware datetime.")
    token = _frozen_at.set(at)
    try:
        yield at
    finally:
        _frozen_at.reset(token)
