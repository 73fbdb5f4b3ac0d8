"""An independent business calendar for the SLA tests, built on numpy's business-day functions.

It shares nothing with tickets/sla.py but the holiday list (from the `holidays` package, which
DESIGN §5 names as the source of truth): day arithmetic comes from `numpy.busday_offset` and
`numpy.busday_count`. Times are local wall-clock times in the SLA time zone (naive datetimes).
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import holidays
import numpy as np

CHICAGO = ZoneInfo("America/Chicago")
DAY = 86_400


def chicago(*args: int) -> datetime:
    """An aware datetime on the Chicago wall clock: chicago(2026, 11, 25, 10)."""
    return datetime(*args, tzinfo=CHICAGO)


class Oracle:
    def __init__(self, country: str = "US", subdiv: str | None = None, years: range = range(2025, 2031)) -> None:
        days = sorted(holidays.country_holidays(country, subdiv=subdiv, years=list(years)))
        self.calendar = np.busdaycalendar(weekmask="1111100", holidays=np.array(days, dtype="datetime64[D]"))

    def is_busday(self, day: date) -> bool:
        return bool(np.is_busday(np.datetime64(day, "D"), busdaycal=self.calendar))

    def offset(self, day: date, n: int, roll: str = "raise") -> date:
        return np.busday_offset(np.datetime64(day, "D"), n, roll=roll, busdaycal=self.calendar).astype(date)

    def count(self, start: date, end: date) -> int:
        """Business days in [start, end)."""
        return int(np.busday_count(np.datetime64(start, "D"), np.datetime64(end, "D"), busdaycal=self.calendar))

    def add_days(self, start: datetime, n: int) -> datetime:
        """The local wall-clock instant at which `n` (>= 1) whole business days have elapsed."""
        day, clock = start.date(), start.time()
        if self.is_busday(day) and clock != time(0):
            # The rest of today, n-1 whole days, then today's time of day on the n-th business day.
            return datetime.combine(self.offset(day, n), clock)
        # From a midnight or a day off: the n-th business day (counting the first one) ends it.
        first = self.offset(day, 0, roll="forward")
        return datetime.combine(self.offset(first, n - 1) + timedelta(days=1), time(0))

    def seconds_between(self, start: datetime, end: datetime) -> float:
        """Business seconds between two local wall-clock times (start <= end)."""
        if start.date() == end.date():
            return (end - start).total_seconds() if self.is_busday(start.date()) else 0.0
        first_end = datetime.combine(start.date() + timedelta(days=1), time(0))
        total = (first_end - start).total_seconds() if self.is_busday(start.date()) else 0.0
        total += self.count(start.date() + timedelta(days=1), end.date()) * DAY
        if self.is_busday(end.date()):
            total += (end - datetime.combine(end.date(), time(0))).total_seconds()
        return total
