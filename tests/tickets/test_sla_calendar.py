"""The business calendar of DESIGN §5, checked against hand-computed dates and against an
independent oracle (numpy.busday_offset / busday_count with the `holidays` list) over 2026–2028."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from tickets import sla
from tickets.sla import add_business_time, business_seconds_between, is_business_day

from .sla_oracle import CHICAGO, DAY, Oracle, chicago

HOUR = 3600
ORACLE = Oracle()


def local(instant: datetime) -> datetime:
    """The naive Chicago wall-clock time of an aware instant."""
    return instant.astimezone(CHICAGO).replace(tzinfo=None)


def every_day(first: date, last: date):
    day = first
    while day <= last:
        yield day
        day += timedelta(days=1)


# --- hand-checked dates -------------------------------------------------------------------------------


def test_the_thanksgiving_example_of_the_issue() -> None:
    # Wednesday before Thanksgiving: Thursday 26 is a holiday, so the five business days are
    # Fri 27, Mon 30, Tue 1, Wed 2, Thu 3 (the last one ending at 10:00).
    submitted = chicago(2026, 11, 25, 10)
    assert add_business_time(submitted, 5 * DAY) == chicago(2026, 12, 3, 10)
    assert add_business_time(submitted, 7 * DAY) == chicago(2026, 12, 7, 10)
    assert add_business_time(submitted, 4 * DAY) == chicago(2026, 12, 2, 10)  # at risk from here


def test_five_business_days_from_monday_morning_end_next_monday_at_the_same_time() -> None:
    assert add_business_time(chicago(2026, 6, 1, 10), 5 * DAY) == chicago(2026, 6, 8, 10)


@pytest.mark.parametrize(
    ("start", "expected_target", "expected_breach"),
    [
        # Saturday: the clock starts Monday 00:00 and ends at the end of Friday, 00:00 Saturday.
        (chicago(2026, 11, 28, 15, 30), chicago(2026, 12, 5), chicago(2026, 12, 9)),
        (chicago(2026, 11, 28), chicago(2026, 12, 5), chicago(2026, 12, 9)),
        # Sunday, one minute before midnight: the same.
        (chicago(2026, 11, 29, 23, 59), chicago(2026, 12, 5), chicago(2026, 12, 9)),
        # Thanksgiving itself is not a business day: Fri 27, Mon 30, Tue, Wed, Thu end it.
        (chicago(2026, 11, 26, 9), chicago(2026, 12, 4), chicago(2026, 12, 8)),
        # Monday 00:00 sharp: five whole days, Monday to Friday, end at 00:00 Saturday.
        (chicago(2026, 11, 30), chicago(2026, 12, 5), chicago(2026, 12, 9)),
    ],
)
def test_a_start_on_a_day_off_ends_at_the_end_of_the_last_business_day(
    start: datetime, expected_target: datetime, expected_breach: datetime
) -> None:
    assert add_business_time(start, 5 * DAY) == expected_target
    assert add_business_time(start, 7 * DAY) == expected_breach
    assert local(expected_target).time() == time(0)


@pytest.mark.parametrize(
    ("start", "expected_target", "expected_breach"),
    [
        # Christmas 2026 (Friday) and New Year's Day 2027 (Friday) are both holidays.
        (chicago(2026, 12, 23, 10), chicago(2026, 12, 31, 10), chicago(2027, 1, 5, 10)),
        # New Year's Day 2028 is a Saturday, observed on Friday 2027-12-31.
        (chicago(2027, 12, 27, 10), chicago(2028, 1, 4, 10), chicago(2028, 1, 6, 10)),
        # Christmas 2027 is a Saturday, observed on Friday 2027-12-24.
        (chicago(2027, 12, 22, 8, 15), chicago(2027, 12, 30, 8, 15), chicago(2028, 1, 4, 8, 15)),
        # Late on New Year's Eve 2026 (a business day): its last 2 hours, Jan 4–7, 22 hours of Jan 8.
        (chicago(2026, 12, 31, 22), chicago(2027, 1, 8, 22), chicago(2027, 1, 12, 22)),
    ],
)
def test_year_boundaries_and_observed_holidays(
    start: datetime, expected_target: datetime, expected_breach: datetime
) -> None:
    assert add_business_time(start, 5 * DAY) == expected_target
    assert add_business_time(start, 7 * DAY) == expected_breach


def test_observed_holidays_are_not_business_days() -> None:
    assert not is_business_day(date(2026, 7, 3))  # Independence Day (observed), a Friday
    assert not is_business_day(date(2027, 6, 18))  # Juneteenth (observed), a Friday
    assert not is_business_day(date(2027, 12, 31))  # New Year's Day 2028 (observed)
    assert not is_business_day(date(2028, 11, 10))  # Veterans Day (observed)
    assert is_business_day(date(2026, 11, 27))  # the Friday after Thanksgiving is a normal day
    assert not is_business_day(date(2026, 11, 28))  # Saturday
    assert not is_business_day(date(2026, 11, 29))  # Sunday


def test_a_deadline_keeps_its_local_time_across_the_spring_dst_change() -> None:
    # Chicago moves to CDT on Sunday 2026-03-08: the target stays at 10:00 local, an hour
    # earlier in UTC, since every business day counts 24 hours on the wall clock.
    submitted = chicago(2026, 3, 6, 10)
    target = add_business_time(submitted, 5 * DAY)
    assert target == chicago(2026, 3, 13, 10)
    assert submitted.astimezone(UTC).hour == 16
    assert target.astimezone(UTC).hour == 15
    assert business_seconds_between(submitted, target) == 5 * DAY


def test_a_deadline_keeps_its_local_time_across_the_autumn_dst_change() -> None:
    # Chicago returns to CST on Sunday 2026-11-01.
    submitted = chicago(2026, 10, 30, 10)
    target = add_business_time(submitted, 5 * DAY)
    assert target == chicago(2026, 11, 6, 10)
    assert (submitted.astimezone(UTC).hour, target.astimezone(UTC).hour) == (15, 16)
    # From the Saturday before the change of 2027-11-07: Mon 8, Tue 9, Wed 10, (Veterans Day on
    # Thu 11), Fri 12 and Mon 15 end at 00:00 CST on Tuesday 16.
    deadline = add_business_time(chicago(2027, 11, 6, 12), 5 * DAY)
    assert deadline == chicago(2027, 11, 16)
    assert deadline.utcoffset() == timedelta(hours=-6)
    assert chicago(2027, 11, 6, 12).utcoffset() == timedelta(hours=-5)


def test_an_instant_in_another_time_zone_is_read_on_the_sla_clock() -> None:
    # 16:00 UTC on 2026-11-25 is 10:00 in Chicago: the same deadline as the issue's example.
    assert add_business_time(datetime(2026, 11, 25, 16, tzinfo=UTC), 5 * DAY) == chicago(2026, 12, 3, 10)
    # 03:00 UTC on Saturday 2026-11-28 is still Friday 21:00 in Chicago: Friday's 3 hours count.
    assert add_business_time(datetime(2026, 11, 28, 3, tzinfo=UTC), 3 * HOUR) == chicago(2026, 11, 28)


def test_a_naive_datetime_is_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        add_business_time(datetime(2026, 11, 25, 10), DAY)
    with pytest.raises(ValueError, match="aware"):
        business_seconds_between(datetime(2026, 11, 25, 10), chicago(2026, 11, 26))


def test_zero_business_time_is_the_start_itself_even_on_a_day_off() -> None:
    saturday = chicago(2026, 11, 28, 15)
    assert add_business_time(saturday, 0) == saturday
    assert add_business_time(chicago(2026, 11, 25, 10), 0) == chicago(2026, 11, 25, 10)


def test_fractions_of_a_day_land_inside_business_hours_of_the_right_day() -> None:
    # Friday 20:00 + 6 hours: 4 hours of Friday, then Monday 02:00.
    assert add_business_time(chicago(2026, 12, 4, 20), 6 * HOUR) == chicago(2026, 12, 7, 2)
    # Exactly Friday's remaining 4 hours: the end of Friday, not Monday 00:00.
    assert add_business_time(chicago(2026, 12, 4, 20), 4 * HOUR) == chicago(2026, 12, 5)
    assert add_business_time(chicago(2026, 12, 4, 20), 4 * HOUR + 1) == chicago(2026, 12, 7, 0, 0, 1)


def test_walking_backwards_skips_days_off() -> None:
    # Monday 02:00 minus 6 business hours: Monday's 2 hours, then 4 hours of Friday.
    assert add_business_time(chicago(2026, 12, 7, 2), -6 * HOUR) == chicago(2026, 12, 4, 20)
    # From Saturday 00:00 (the end of Friday) one business day back is Friday 00:00.
    assert add_business_time(chicago(2026, 12, 5), -DAY) == chicago(2026, 12, 4)
    # The day after Thanksgiving 10:00 minus one business day: Wednesday 10:00.
    assert add_business_time(chicago(2026, 11, 27, 10), -DAY) == chicago(2026, 11, 25, 10)


def test_business_seconds_between_counts_only_business_days() -> None:
    assert business_seconds_between(chicago(2026, 11, 25, 10), chicago(2026, 12, 3, 10)) == 5 * DAY
    # A whole weekend (Friday 00:00 Saturday to Monday 00:00) is worth nothing.
    assert business_seconds_between(chicago(2026, 12, 5), chicago(2026, 12, 7)) == 0
    assert business_seconds_between(chicago(2026, 11, 26, 1), chicago(2026, 11, 26, 23)) == 0  # Thanksgiving
    assert business_seconds_between(chicago(2026, 12, 3, 10), chicago(2026, 11, 25, 10)) == -5 * DAY


def test_settings_choose_the_country_subdivision_and_time_zone(settings) -> None:
    # Texas also closes on the Friday after Thanksgiving: one more day off before the target.
    settings.SLA_HOLIDAYS_SUBDIV = "TX"
    assert add_business_time(chicago(2026, 11, 25, 10), 5 * DAY) == chicago(2026, 12, 4, 10)
    settings.SLA_HOLIDAYS_SUBDIV = None
    settings.SLA_HOLIDAYS_COUNTRY = "GB"
    settings.SLA_TIMEZONE = "Europe/London"
    london = ZoneInfo("Europe/London")
    # Christmas, Boxing Day (Saturday) observed on Monday 28, and New Year's Day 2027.
    start = datetime(2026, 12, 23, 10, tzinfo=london)
    assert add_business_time(start, 5 * DAY) == datetime(2027, 1, 4, 10, tzinfo=london)


# --- the oracle: every day of 2026–2028 ------------------------------------------------------------------


@pytest.mark.parametrize("days", [1, 5, 7])
def test_whole_business_days_agree_with_numpy_for_every_start_in_2026_to_2028(days: int) -> None:
    times = [time(0), time(0, 0, 1), time(1, 30), time(10), time(23, 59, 59)]
    mismatches = []
    for day in every_day(date(2026, 1, 1), date(2028, 12, 31)):
        for clock in times:
            start = datetime.combine(day, clock)
            expected = ORACLE.add_days(start, days)
            got = local(add_business_time(start.replace(tzinfo=CHICAGO), days * DAY))
            if got != expected:
                mismatches.append((start, expected, got))
    assert mismatches == []


def test_business_seconds_between_agrees_with_numpy_busday_count() -> None:
    rng = random.Random(20261125)
    first = datetime(2026, 1, 1)
    span = int((datetime(2029, 1, 1) - first).total_seconds())
    mismatches = []
    for _ in range(3000):
        a = first + timedelta(seconds=rng.randrange(span))
        b = a + timedelta(seconds=rng.randrange(40 * DAY))
        for start, end in ((a, b), (a, a + timedelta(seconds=rng.randrange(2 * DAY)))):
            expected = ORACLE.seconds_between(start, end)
            got = business_seconds_between(start.replace(tzinfo=CHICAGO), end.replace(tzinfo=CHICAGO))
            if got != expected:
                mismatches.append((start, end, expected, got))
    assert mismatches == []


def test_adding_then_measuring_gives_back_the_amount_and_the_earliest_instant() -> None:
    rng = random.Random(7)
    first = chicago(2026, 1, 1)
    for _ in range(1500):
        start = first + timedelta(seconds=rng.randrange(3 * 365 * DAY))
        amount = rng.choice([rng.randrange(1, 10 * DAY), rng.randrange(1, 8) * DAY, rng.randrange(1, 48) * HOUR])
        end = add_business_time(start, amount)
        assert business_seconds_between(start, end) == amount, (start, amount)
        # The earliest such instant: one second earlier, a second of business time is missing.
        assert business_seconds_between(start, end - timedelta(seconds=1)) == amount - 1, (start, amount)
        back = add_business_time(end, -amount)
        assert business_seconds_between(back, end) == amount, (end, amount)
        assert back >= start


def test_at_risk_target_and_breach_are_ordered_from_any_start() -> None:
    for day in every_day(date(2026, 11, 20), date(2027, 1, 10)):
        start = datetime.combine(day, time(13, 45), tzinfo=CHICAGO)
        at_risk, target, breach = sla._deadlines(start, 0.0)
        assert start < at_risk < target < breach
        assert business_seconds_between(at_risk, target) == 24 * HOUR
