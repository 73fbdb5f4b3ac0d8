"""SLA cycles on requests (DESIGN §5): deadlines at submit, pauses and resumes with exact
deadlines, stops and their results, cycle 2, figures, and every status in Python and in SQL."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from tickets import services, sla
from tickets.models import ReassessmentRequest, SlaCycle, SlaStatus, State
from tickets.sla import sla_status_of, sla_status_q

from .sla_helpers import (
    approve_at,
    fresh,
    in_review_at,
    provide_info_at,
    reevaluate_at,
    reject_at,
    request_info_at,
    submit_at,
    withdraw_at,
)
from .sla_oracle import DAY, chicago

HOUR = 3600
pytestmark = pytest.mark.django_db


def test_submit_starts_cycle_1_with_the_deadlines_of_the_issue(account, customer) -> None:
    req = fresh(submit_at(chicago(2026, 11, 25, 10), account, customer))
    assert req.sla_cycle == 1
    assert req.sla_clock_started_at == chicago(2026, 11, 25, 10)
    assert req.sla_target_at == chicago(2026, 12, 3, 10)
    assert req.sla_breach_at == chicago(2026, 12, 7, 10)
    assert req.sla_at_risk_at == chicago(2026, 12, 2, 10)
    assert (req.sla_next_event, req.sla_next_event_at) == ("at_risk", chicago(2026, 12, 2, 10))
    cycle = SlaCycle.objects.get(request=req)
    assert (cycle.number, cycle.started_at, cycle.target_at, cycle.breach_at) == (
        1,
        chicago(2026, 11, 25, 10),
        chicago(2026, 12, 3, 10),
        chicago(2026, 12, 7, 10),
    )
    assert sla_status_of(req, chicago(2026, 11, 25, 11)) == SlaStatus.RUNNING


def test_a_saturday_submission_is_due_at_00_00_of_the_following_saturday(account, customer) -> None:
    req = fresh(submit_at(chicago(2026, 11, 28, 9, 30), account, customer))
    assert req.sla_target_at == chicago(2026, 12, 5)
    assert req.sla_breach_at == chicago(2026, 12, 9)


def test_request_info_pauses_the_clock_and_empties_the_deadlines(account, customer, agent) -> None:
    req = in_review_at(chicago(2026, 11, 30, 10), chicago(2026, 11, 30, 11), account, customer, agent)
    request_info_at(chicago(2026, 12, 2, 10), req, agent)
    req = fresh(req)
    assert req.state == State.AWAITING_CUSTOMER
    assert req.sla_paused_at == chicago(2026, 12, 2, 10)
    assert req.sla_used_before_pause == 2 * DAY
    assert (req.sla_at_risk_at, req.sla_target_at, req.sla_breach_at) == (None, None, None)
    assert (req.sla_next_event, req.sla_next_event_at) == ("", None)
    # Paused is paused, however late it gets: the clock does not run while the customer owes us.
    assert sla_status_of(req, chicago(2026, 12, 31)) == SlaStatus.PAUSED
    assert sla.business_time_left(req, chicago(2026, 12, 3)) is None
    assert sla.business_seconds_used(req, chicago(2026, 12, 31)) == 2 * DAY


def test_provide_info_resumes_and_pushes_both_deadlines_out_by_the_paused_business_time(
    account, customer, agent
) -> None:
    # Submitted Mon 30 Nov 10:00: target Mon 7 Dec 10:00, breach Wed 9 Dec 10:00.
    req = in_review_at(chicago(2026, 11, 30, 10), chicago(2026, 11, 30, 11), account, customer, agent)
    request_info_at(chicago(2026, 12, 2, 10), req, agent)  # 2 business days used
    # Answered Mon 7 Dec 16:00: paused Wed 14h + Thu 24h + Fri 24h + Mon 16h = 78 business hours.
    provide_info_at(chicago(2026, 12, 7, 16), req, customer)
    req = fresh(req)
    assert req.state == State.IN_REVIEW
    assert req.sla_paused_at is None
    assert req.sla_clock_started_at == chicago(2026, 12, 7, 16)
    # 3 business days left from Mon 16:00: Mon 8h, Tue, Wed, Thu 16h.
    assert req.sla_target_at == chicago(2026, 12, 10, 16)
    # The same as the old target pushed out by the 78 paused business hours.
    assert req.sla_target_at == sla.add_business_time(chicago(2026, 12, 7, 10), 78 * HOUR)
    assert req.sla_breach_at == chicago(2026, 12, 14, 16)
    assert req.sla_at_risk_at == chicago(2026, 12, 9, 16)
    assert (req.sla_next_event, req.sla_next_event_at) == ("at_risk", chicago(2026, 12, 9, 16))
    cycle = SlaCycle.objects.get(request=req, number=1)
    assert cycle.paused_seconds == (chicago(2026, 12, 7, 16) - chicago(2026, 12, 2, 10)).total_seconds()
    assert cycle.paused_business_seconds == 78 * HOUR
    assert (cycle.target_at, cycle.breach_at, cycle.paused_at) == (req.sla_target_at, req.sla_breach_at, None)
    assert sla_status_of(req, chicago(2026, 12, 8, 12)) == SlaStatus.RUNNING
    assert sla.business_seconds_used(req, chicago(2026, 12, 8)) == 2 * DAY + 8 * HOUR


def test_a_pause_over_a_weekend_costs_only_the_business_hours_in_it(account, customer, agent) -> None:
    # Submitted Mon 30 Nov 10:00; paused Fri 4 Dec 20:00 (4 business hours left that day),
    # answered Sun 6 Dec: the deadlines move out by 4 hours only.
    req = in_review_at(chicago(2026, 11, 30, 10), chicago(2026, 11, 30, 11), account, customer, agent)
    request_info_at(chicago(2026, 12, 4, 20), req, agent)
    provide_info_at(chicago(2026, 12, 6, 12), req, customer)
    req = fresh(req)
    # Used: Mon 14h + Tue-Thu 72h + Fri 20h = 106h; 14h left from Monday 00:00.
    assert req.sla_used_before_pause == 106 * HOUR
    assert req.sla_target_at == chicago(2026, 12, 7, 14)
    assert req.sla_breach_at == chicago(2026, 12, 9, 14)
    assert SlaCycle.objects.get(request=req).paused_business_seconds == 4 * HOUR


def test_two_pauses_in_one_cycle_add_up(account, customer, agent) -> None:
    req = in_review_at(chicago(2026, 11, 30, 10), chicago(2026, 11, 30, 11), account, customer, agent)
    request_info_at(chicago(2026, 11, 30, 12), req, agent)  # 2h used
    provide_info_at(chicago(2026, 12, 1, 12), req, customer)  # 24 business hours paused
    request_info_at(chicago(2026, 12, 1, 18), req, agent)  # 8h used in all
    provide_info_at(chicago(2026, 12, 2, 0), req, customer)  # 6 business hours paused
    req = fresh(req)
    assert req.sla_used_before_pause == 8 * HOUR
    # 112 hours left from Wed 00:00: Wed, Thu, Fri, Mon 96h, then 16h of Tuesday 8 Dec.
    assert req.sla_target_at == chicago(2026, 12, 8, 16)
    assert req.sla_target_at == sla.add_business_time(chicago(2026, 12, 7, 10), 30 * HOUR)
    assert SlaCycle.objects.get(request=req).paused_business_seconds == 30 * HOUR


def test_resuming_a_cycle_that_was_already_overdue_keeps_it_overdue(account, customer, agent) -> None:
    # Submitted Mon 30 Nov 10:00 (target Mon 7 Dec 10:00); paused Tue 8 Dec 10:00 with 6 business
    # days used; answered a week later. The target was passed before the pause, at the very
    # instant it was due, and the breach is one business day after the resume.
    req = in_review_at(chicago(2026, 11, 30, 10), chicago(2026, 11, 30, 11), account, customer, agent)
    request_info_at(chicago(2026, 12, 8, 10), req, agent)
    provide_info_at(chicago(2026, 12, 15, 10), req, customer)
    req = fresh(req)
    assert req.sla_target_at == chicago(2026, 12, 7, 10)
    assert req.sla_at_risk_at == chicago(2026, 12, 4, 10)
    assert req.sla_breach_at == chicago(2026, 12, 16, 10)
    assert sla_status_of(req, chicago(2026, 12, 15, 10, 1)) == SlaStatus.OVERDUE
    assert sla_status_of(req, chicago(2026, 12, 16, 10, 1)) == SlaStatus.BREACHED


@pytest.mark.parametrize(
    ("decided", "result"),
    [
        (chicago(2026, 12, 2, 15), SlaStatus.MET),
        (chicago(2026, 12, 3, 10), SlaStatus.MET),  # at the target itself
        (chicago(2026, 12, 3, 10, 0, 1), SlaStatus.LATE),
        (chicago(2026, 12, 7, 10), SlaStatus.LATE),  # at the breach itself
        (chicago(2026, 12, 7, 10, 0, 1), SlaStatus.MISSED),
    ],
)
def test_a_decision_stops_the_cycle_and_records_met_late_or_missed(
    account, customer, agent, decided: datetime, result: str
) -> None:
    req = in_review_at(chicago(2026, 11, 25, 10), chicago(2026, 11, 25, 11), account, customer, agent)
    approve_at(decided, req, agent)
    req = fresh(req)
    assert req.sla_stopped_at == decided
    assert (req.sla_next_event, req.sla_next_event_at) == ("", None)
    assert sla_status_of(req, decided + timedelta(days=90)) == result
    cycle = SlaCycle.objects.get(request=req)
    assert (cycle.stopped_at, cycle.stop_transition, cycle.result) == (decided, "approve", result)
    assert cycle.business_seconds_used == sla.business_seconds_between(chicago(2026, 11, 25, 10), decided)
    assert req.decided_at == decided
    assert req.first_response_at == decided


def test_withdrawing_while_paused_judges_the_cycle_on_the_business_time_it_used(account, customer, agent) -> None:
    req = in_review_at(chicago(2026, 11, 30, 10), chicago(2026, 11, 30, 11), account, customer, agent)
    request_info_at(chicago(2026, 12, 2, 10), req, agent)
    # Weeks later in wall time, but only 2 business days used: met.
    withdraw_at(chicago(2026, 12, 28, 9), req, customer)
    req = fresh(req)
    cycle = SlaCycle.objects.get(request=req)
    assert (cycle.result, cycle.stop_transition, cycle.business_seconds_used) == ("met", "withdraw", 2 * DAY)
    assert cycle.paused_business_seconds == sla.business_seconds_between(
        chicago(2026, 12, 2, 10), chicago(2026, 12, 28, 9)
    )
    assert sla_status_of(req, chicago(2027, 1, 5)) == SlaStatus.MET


def test_cycle_2_starts_at_request_reevaluation_with_fresh_deadlines(account, customer, agent) -> None:
    req = in_review_at(chicago(2026, 11, 25, 10), chicago(2026, 11, 25, 11), account, customer, agent)
    reject_at(chicago(2026, 12, 4, 12), req, agent)  # late: after the target of Dec 3 10:00
    reevaluate_at(chicago(2026, 12, 10, 9), req, customer)
    req = fresh(req)
    assert req.sla_cycle == 2
    assert (req.sla_target_at, req.sla_breach_at) == (chicago(2026, 12, 17, 9), chicago(2026, 12, 21, 9))
    assert req.sla_stopped_at is None
    assert (req.sla_next_event, req.sla_next_event_at) == ("at_risk", chicago(2026, 12, 16, 9))
    assert sla_status_of(req, chicago(2026, 12, 10, 10)) == SlaStatus.RUNNING
    cycles = list(SlaCycle.objects.filter(request=req).values_list("number", "result", "stop_transition"))
    assert cycles == [(1, "late", "reject"), (2, "", "")]


def test_first_response_is_the_first_public_staff_action_of_each_cycle(account, customer, agent, senior) -> None:
    req = in_review_at(chicago(2026, 11, 25, 10), chicago(2026, 11, 25, 11), account, customer, agent)
    request_info_at(chicago(2026, 11, 25, 12), req, agent)
    provide_info_at(chicago(2026, 11, 27, 9), req, customer)
    reject_at(chicago(2026, 11, 30, 9), req, agent)
    reevaluate_at(chicago(2026, 12, 1, 9), req, customer)
    from tickets import clock

    with clock.frozen(chicago(2026, 12, 1, 10)):
        services.request_claim_reevaluation(request_id=req.pk, actor=senior)
        services.message_post(request_id=req.pk, actor=senior, body="Looking at it now.")
    req = fresh(req)
    assert req.first_response_at == chicago(2026, 11, 25, 12)
    first = dict(SlaCycle.objects.filter(request=req).values_list("number", "first_response_at"))
    assert first == {1: chicago(2026, 11, 25, 12), 2: chicago(2026, 12, 1, 10)}


# --- every status, in Python and in SQL ---------------------------------------------------------------

NOW = chicago(2026, 12, 14, 12)  # a Monday


@pytest.fixture
def one_request_per_status(account, customer, agent) -> dict[str, ReassessmentRequest]:
    made = {
        # 3 business hours used.
        SlaStatus.RUNNING: submit_at(chicago(2026, 12, 14, 9), account, customer),
        # Tue 8 Dec 06:00: 102 business hours used (between 96 and 120).
        SlaStatus.AT_RISK: submit_at(chicago(2026, 12, 8, 6), account, customer),
        # Fri 4 Dec 12:00: 144 business hours used (between 120 and 168).
        SlaStatus.OVERDUE: submit_at(chicago(2026, 12, 4, 12), account, customer),
        SlaStatus.BREACHED: submit_at(chicago(2026, 11, 30, 12), account, customer),
    }
    paused = in_review_at(chicago(2026, 11, 2, 10), chicago(2026, 11, 2, 11), account, customer, agent)
    made[SlaStatus.PAUSED] = request_info_at(chicago(2026, 11, 3, 10), paused, agent)
    for status, decided in (
        (SlaStatus.MET, chicago(2026, 12, 4)),
        (SlaStatus.LATE, chicago(2026, 12, 8, 10)),
        (SlaStatus.MISSED, chicago(2026, 12, 10)),
    ):
        # Submitted Mon 30 Nov 10:00: target Mon 7 Dec 10:00, breach Wed 9 Dec 10:00.
        made[status] = approve_at(
            decided,
            in_review_at(chicago(2026, 11, 30, 10), chicago(2026, 11, 30, 10, 5), account, customer, agent),
            agent,
        )
    return made


def test_every_status_reads_the_same_in_python_in_a_filter_and_in_an_annotation(
    one_request_per_status, account, customer
) -> None:
    draft = services.request_create_draft(actor=customer, account=account, details={})
    assert {str(s) for s in one_request_per_status} == set(SlaStatus.values)
    rows = {r.pk: r for r in ReassessmentRequest.objects.with_sla_status(NOW)}
    assert rows[draft.pk].sla_status_now == ""
    assert sla_status_of(rows[draft.pk], NOW) == ""
    for status, req in one_request_per_status.items():
        row = rows[req.pk]
        assert sla_status_of(row, NOW) == status, status
        assert row.sla_status_now == status, status
        matching = set(ReassessmentRequest.objects.filter(sla_status_q(status, NOW)).values_list("pk", flat=True))
        assert matching == {req.pk}, status
        assert set(ReassessmentRequest.objects.filter_sla_status(status, NOW).values_list("pk", flat=True)) == {req.pk}


def test_status_changes_at_the_exact_deadlines(account, customer) -> None:
    req = fresh(submit_at(chicago(2026, 11, 25, 10), account, customer))
    second = timedelta(seconds=1)
    expectations = [
        (req.sla_at_risk_at, SlaStatus.RUNNING),
        (req.sla_at_risk_at + second, SlaStatus.AT_RISK),
        (req.sla_target_at, SlaStatus.AT_RISK),
        (req.sla_target_at + second, SlaStatus.OVERDUE),
        (req.sla_breach_at, SlaStatus.OVERDUE),
        (req.sla_breach_at + second, SlaStatus.BREACHED),
    ]
    for now, status in expectations:
        assert sla_status_of(req, now) == status, now
        assert list(ReassessmentRequest.objects.filter(sla_status_q(status, now)).values_list("pk", flat=True)) == [
            req.pk
        ], now


def test_an_unknown_status_is_refused() -> None:
    with pytest.raises(ValueError, match="Unknown SLA status"):
        sla_status_q("late-ish", NOW)


def test_business_time_left_counts_down_to_the_target_in_business_time(account, customer) -> None:
    req = fresh(submit_at(chicago(2026, 11, 25, 10), account, customer))
    assert sla.business_time_left(req, chicago(2026, 11, 25, 10)) == 5 * DAY
    assert sla.business_time_left(req, chicago(2026, 11, 26, 12)) == 4 * DAY + 10 * HOUR  # Thanksgiving
    assert sla.business_time_left(req, chicago(2026, 12, 4, 10)) == -DAY


@pytest.mark.postgres
def test_the_running_status_filters_use_the_running_cycles_index(account, customer) -> None:
    from django.db import connection

    submit_at(chicago(2026, 11, 25, 10), account, customer)
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        for status in (SlaStatus.RUNNING, SlaStatus.AT_RISK, SlaStatus.OVERDUE, SlaStatus.BREACHED):
            sql, params = (
                ReassessmentRequest.objects.filter(sla_status_q(status, NOW)).values("pk").query.sql_with_params()
            )
            cursor.execute("EXPLAIN " + sql, params)
            plan = "\n".join(row[0] for row in cursor.fetchall())
            assert "rr_sla_running" in plan, (status, plan)


def test_business_time_used_stops_growing_when_the_cycle_stops(account, customer, agent) -> None:
    req = in_review_at(chicago(2026, 11, 30, 10), chicago(2026, 11, 30, 11), account, customer, agent)
    approve_at(chicago(2026, 12, 1, 10), req, agent)
    req = fresh(req)
    assert sla.business_seconds_used(req, chicago(2027, 3, 1)) == DAY
    assert sla.business_seconds_used(req, chicago(2026, 11, 30, 22)) == 12 * HOUR
