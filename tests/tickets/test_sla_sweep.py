"""The SLA sweep (DESIGN §5): events once per cycle with the right recipients, the system
transitions, reminders, lost screenings, crash and poison-row behaviour, and query counts that
do not grow with the number of rows."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests import factories
from tickets import clock, notifications, services, sweep
from tickets.models import (
    Notification,
    ReasonCode,
    ReassessmentRequest,
    RequestTransition,
    SlaCycle,
    SlaEvent,
    State,
)
from tickets.sweep import run_sweep

from .sla_helpers import (
    approve_at,
    fresh,
    in_review_at,
    provide_info_at,
    reevaluate_at,
    reject_at,
    request_info_at,
    submit_at,
)
from .sla_oracle import chicago

pytestmark = pytest.mark.django_db
SECOND = timedelta(seconds=1)


class WorkerKilled(BaseException):
    """Stands for the process dying: not an Exception, so nothing in the sweep catches it."""


@pytest.fixture
def sweep_now(django_capture_on_commit_callbacks):
    """Run a sweep at an instant and deliver what it queued, as the worker would after commit."""

    def run(now, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return run_sweep(now=now, **kwargs)

    return run


def events_of(req: ReassessmentRequest) -> list[tuple[int, str]]:
    return list(SlaEvent.objects.filter(request=req).order_by("cycle", "due_at").values_list("cycle", "kind"))


def sent(mailoutbox, kind_subject: str) -> list:
    return [m for m in mailoutbox if kind_subject in m.subject]


# --- events and recipients -------------------------------------------------------------------------------


def test_each_event_fires_once_at_its_deadline_to_the_right_people(
    account, customer, agent, agent2, manager, mailoutbox, sweep_now
) -> None:
    req = fresh(in_review_at(chicago(2026, 11, 25, 10), chicago(2026, 11, 25, 11), account, customer, agent))
    mailoutbox.clear()

    assert sweep_now(req.sla_at_risk_at).fired == []  # due means strictly past the deadline
    assert sweep_now(req.sla_at_risk_at + SECOND).fired == [(req.reference, 1, "at_risk")]
    assert sweep_now(req.sla_at_risk_at + 2 * SECOND).fired == []
    [at_risk] = mailoutbox
    assert at_risk.to == ["alice@desk.example"]  # the assignee only, not the whole team
    assert at_risk.subject == f"[{req.reference}] SLA at risk: less than a business day to target"
    assert "Thursday 3 December 2026, 10 a.m. CST" in at_risk.body  # the target, on the desk's clock

    assert sweep_now(req.sla_target_at + SECOND).fired == [(req.reference, 1, "overdue")]
    [overdue] = sent(mailoutbox, "SLA overdue")
    assert overdue.to == ["maria@desk.example"]

    assert sweep_now(req.sla_breach_at + SECOND).fired == [(req.reference, 1, "breached")]
    [breached] = sent(mailoutbox, "SLA breached")
    assert breached.to == ["maria@desk.example"]
    [customer_mail] = sent(mailoutbox, "is taking longer than usual")
    assert customer_mail.to == ["carla@acme.example"]
    assert customer_mail.subject == f"Your request {req.reference} is taking longer than usual"
    assert "unverifiable" not in customer_mail.body and "reason" not in customer_mail.body.lower()

    assert sweep_now(req.sla_breach_at + timedelta(days=30)).fired == []
    assert len(mailoutbox) == 4
    assert events_of(req) == [(1, "at_risk"), (1, "overdue"), (1, "breached")]
    event = SlaEvent.objects.get(request=req, kind="at_risk")
    assert (event.due_at, event.fired_at) == (req.sla_at_risk_at, req.sla_at_risk_at + SECOND)
    assert fresh(req).sla_next_event_at is None


def test_an_unassigned_request_at_risk_alerts_the_whole_team(
    account, customer, agent, agent2, senior, manager, settings, mailoutbox, sweep_now
) -> None:
    settings.SLA_TEAM_EMAIL = "desk@casemgr.example"
    req = fresh(submit_at(chicago(2026, 11, 25, 10), account, customer))
    mailoutbox.clear()
    sweep_now(req.sla_at_risk_at + SECOND)
    [at_risk] = mailoutbox
    assert sorted(at_risk.to) == sorted(
        ["alice@desk.example", "arthur@desk.example", "sam@desk.example", "desk@casemgr.example"]
    )


def test_a_sweep_that_was_down_fires_every_missed_event_in_order(
    account, customer, agent, manager, mailoutbox, sweep_now
) -> None:
    req = fresh(in_review_at(chicago(2026, 11, 25, 10), chicago(2026, 11, 25, 11), account, customer, agent))
    mailoutbox.clear()
    result = sweep_now(chicago(2026, 12, 20))
    assert result.fired == [
        (req.reference, 1, "at_risk"),
        (req.reference, 1, "overdue"),
        (req.reference, 1, "breached"),
    ]
    assert (result.events, result.notifications) == (3, 4)
    assert len(mailoutbox) == 4
    assert sweep_now(chicago(2026, 12, 21)).fired == []


def test_a_paused_cycle_fires_nothing_and_a_resumed_one_does_not_repeat_its_events(
    account, customer, agent, manager, mailoutbox, sweep_now
) -> None:
    req = fresh(in_review_at(chicago(2026, 11, 30, 10), chicago(2026, 11, 30, 11), account, customer, agent))
    sweep_now(req.sla_at_risk_at + SECOND)  # at_risk fires on Fri 4 Dec 10:00:01
    request_info_at(chicago(2026, 12, 4, 12), req, agent)
    assert sweep_now(chicago(2026, 12, 15)).fired == []  # paused past every deadline: nothing is due
    provide_info_at(chicago(2026, 12, 16, 9), req, customer)
    req = fresh(req)
    # 4 days 2 hours were used; the target is 22 business hours after the resume.
    assert req.sla_target_at == chicago(2026, 12, 17, 7)
    assert (req.sla_next_event, req.sla_next_event_at) == ("overdue", req.sla_target_at)
    assert sweep_now(chicago(2026, 12, 17, 6)).fired == []
    assert sweep_now(chicago(2026, 12, 17, 8)).fired == [(req.reference, 1, "overdue")]
    assert events_of(req) == [(1, "at_risk"), (1, "overdue")]
    assert len(sent(mailoutbox, "SLA at risk")) == 1


def test_a_stopped_cycle_fires_nothing(account, customer, agent, manager, mailoutbox, sweep_now) -> None:
    req = in_review_at(chicago(2026, 11, 25, 10), chicago(2026, 11, 25, 11), account, customer, agent)
    approve_at(chicago(2026, 11, 30, 10), req, agent)
    mailoutbox.clear()
    assert sweep_now(chicago(2026, 12, 31)).fired == []
    assert mailoutbox == []


def test_cycle_2_fires_its_own_events_independently_of_cycle_1(
    account, customer, agent, manager, mailoutbox, sweep_now
) -> None:
    req = fresh(in_review_at(chicago(2026, 11, 25, 10), chicago(2026, 11, 25, 11), account, customer, agent))
    sweep_now(chicago(2026, 12, 8))  # all three events of cycle 1
    reject_at(chicago(2026, 12, 8, 9), req, agent)
    reevaluate_at(chicago(2026, 12, 9, 9), req, customer)
    req = fresh(req)
    assert (req.sla_next_event, req.sla_next_event_at) == ("at_risk", chicago(2026, 12, 15, 9))
    mailoutbox.clear()
    result = sweep_now(chicago(2026, 12, 31))
    assert result.fired == [
        (req.reference, 2, "at_risk"),
        (req.reference, 2, "overdue"),
        (req.reference, 2, "breached"),
    ]
    assert events_of(req) == [
        (1, "at_risk"),
        (1, "overdue"),
        (1, "breached"),
        (2, "at_risk"),
        (2, "overdue"),
        (2, "breached"),
    ]
    # Nobody is assigned in cycle 2 yet: the team hears about the risk; the customer hears once more.
    assert sent(mailoutbox, "SLA at risk")[0].to == ["alice@desk.example"]
    assert len(sent(mailoutbox, "is taking longer than usual")) == 1
    keys = set(Notification.objects.filter(request=req).values_list("dedupe_key", flat=True))
    assert {f"sla:{req.pk}:1:breached:customer", f"sla:{req.pk}:2:breached:customer"} <= keys


# --- system transitions, reminders, lost screening ----------------------------------------------------------


def test_an_unanswered_information_request_expires_after_14_days_and_the_window_closes_after_30(
    account, customer, agent, mailoutbox, sweep_now
) -> None:
    req = in_review_at(chicago(2026, 11, 2, 10), chicago(2026, 11, 2, 11), account, customer, agent)
    asked = chicago(2026, 11, 3, 10)
    request_info_at(asked, req, agent)
    expires = asked + timedelta(days=14)
    assert fresh(req).info_due_at == expires

    assert sweep_now(expires - SECOND).expired_info_requests == 0
    assert fresh(req).state == State.AWAITING_CUSTOMER
    mailoutbox.clear()
    assert sweep_now(expires).expired_info_requests == 1
    req = fresh(req)
    assert (req.state, req.reason_code, req.decided_at, req.decided_by) == (
        State.REJECTED,
        ReasonCode.INSUFFICIENT_DETAILS,
        expires,
        None,
    )
    audit = RequestTransition.objects.get(request=req, transition="expire_info_request")
    assert (audit.actor, audit.created_at, audit.from_state) == (None, expires, State.AWAITING_CUSTOMER)
    cycle = SlaCycle.objects.get(request=req)
    assert (cycle.stop_transition, cycle.stopped_at, cycle.result) == ("expire_info_request", expires, "met")
    [rejected_mail] = mailoutbox
    assert rejected_mail.to == ["carla@acme.example"]
    assert "insufficient" not in rejected_mail.body.lower()
    assert sweep_now(expires + timedelta(days=1)).expired_info_requests == 0

    closes = expires + timedelta(days=30)
    assert req.reevaluation_due_at == closes
    assert sweep_now(closes - SECOND).closed_reevaluation_windows == 0
    assert sweep_now(closes).closed_reevaluation_windows == 1
    req = fresh(req)
    assert req.state == State.REJECTED_FINAL
    assert RequestTransition.objects.get(request=req, transition="close_reevaluation_window").actor is None
    assert sweep_now(closes + timedelta(days=1)).closed_reevaluation_windows == 0


def test_a_request_reevaluated_in_time_is_not_closed(account, customer, agent, sweep_now) -> None:
    req = in_review_at(chicago(2026, 11, 2, 10), chicago(2026, 11, 2, 11), account, customer, agent)
    reject_at(chicago(2026, 11, 3, 10), req, agent)
    reevaluate_at(chicago(2026, 12, 3, 9), req, customer)  # day 29 of 30
    assert sweep_now(chicago(2026, 12, 10)).closed_reevaluation_windows == 0
    assert fresh(req).state == State.REEVALUATION_REQUESTED


def test_the_customer_is_reminded_once_three_days_before_the_information_request_expires(
    account, customer, agent, mailoutbox, sweep_now
) -> None:
    req = in_review_at(chicago(2026, 11, 2, 10), chicago(2026, 11, 2, 11), account, customer, agent)
    request_info_at(chicago(2026, 11, 3, 10), req, agent)
    mailoutbox.clear()
    assert sweep_now(chicago(2026, 11, 14, 9)).info_reminders == 0
    assert sweep_now(chicago(2026, 11, 14, 11)).info_reminders == 1
    assert sweep_now(chicago(2026, 11, 15, 11)).info_reminders == 0
    [reminder] = mailoutbox
    assert reminder.to == ["carla@acme.example"]
    assert reminder.subject == f"Reminder: we are waiting for your answer on {req.reference}"
    assert "Tuesday 17 November 2026" in reminder.body


def test_a_submission_whose_screening_task_was_lost_is_screened_by_the_sweep(account, customer) -> None:
    factories.RiskSignalFactory(account=account, kind="phishing_or_spam")
    req = submit_at(chicago(2026, 11, 25, 10), account, customer)  # on-commit screening never ran
    assert run_sweep(now=chicago(2026, 11, 25, 10, 1)).screened == 0  # still within its grace
    assert run_sweep(now=chicago(2026, 11, 25, 10, 3)).screened == 1
    req = fresh(req)
    assert (req.state, req.reason_code, req.auto_rejected) == (State.REJECTED_FINAL, "zt_phishing_or_spam", True)
    assert run_sweep(now=chicago(2026, 11, 25, 10, 5)).screened == 0


# --- robustness ---------------------------------------------------------------------------------------------


def test_a_crash_mid_batch_rolls_the_batch_back_and_the_next_sweep_fires_each_event_once(
    account, customer, agent, manager, mailoutbox, monkeypatch, sweep_now
) -> None:
    requests = [submit_at(chicago(2026, 11, 25, 10, minute), account, customer) for minute in range(5)]
    mailoutbox.clear()
    real_save = notifications.save_and_queue
    calls = {"n": 0}

    def dies_in_the_second_batch(rows):
        calls["n"] += 1
        if calls["n"] == 2:
            raise WorkerKilled  # after the batch's SlaEvent rows were inserted, before its emails
        return real_save(rows)

    monkeypatch.setattr(notifications, "save_and_queue", dies_in_the_second_batch)
    with pytest.raises(WorkerKilled):
        sweep_now(chicago(2026, 12, 20), batch_size=2)
    # Batch 1 (two requests) committed; batch 2 rolled back whole; batch 3 never ran.
    assert SlaEvent.objects.count() == 6
    monkeypatch.setattr(notifications, "save_and_queue", real_save)
    result = sweep_now(chicago(2026, 12, 20), batch_size=2)
    assert result.events == 9
    for req in requests:
        assert events_of(req) == [(1, "at_risk"), (1, "overdue"), (1, "breached")]
    assert Notification.objects.filter(kind__startswith="sla_").count() == 5 * 4
    message_ids = [m.extra_headers["Message-ID"] for m in mailoutbox]
    assert len(message_ids) == 5 * 4 == len(set(message_ids))


def test_one_broken_request_does_not_hold_up_the_others(
    account, customer, agent, manager, mailoutbox, monkeypatch, sweep_now, caplog
) -> None:
    good = [submit_at(chicago(2026, 11, 25, 10, minute), account, customer) for minute in range(3)]
    broken = submit_at(chicago(2026, 11, 25, 9), account, customer)  # first in the batch order
    real = sweep.event_notifications

    def fails_for_one(req, kind, recipients):
        if req.pk == broken.pk:
            raise RuntimeError("template exploded")
        return real(req, kind, recipients)

    monkeypatch.setattr(sweep, "event_notifications", fails_for_one)
    result = sweep_now(chicago(2026, 12, 2, 12))
    assert result.failures == 1
    assert [kind for _, _, kind in result.fired] == ["at_risk"] * 3
    assert all(events_of(req) == [(1, "at_risk")] for req in good)
    assert events_of(broken) == []
    assert "template exploded" in caplog.text
    monkeypatch.setattr(sweep, "event_notifications", real)
    assert sweep_now(chicago(2026, 12, 2, 12)).fired == [(broken.reference, 1, "at_risk")]


def test_replaying_an_event_that_was_already_recorded_sends_nothing_twice(
    account, customer, agent, manager, mailoutbox, sweep_now
) -> None:
    req = fresh(in_review_at(chicago(2026, 11, 25, 10), chicago(2026, 11, 25, 11), account, customer, agent))
    mailoutbox.clear()
    sweep_now(req.sla_at_risk_at + SECOND)
    # Put the cursor back, as a restored backup or a hand edit might: the constraints hold.
    ReassessmentRequest.objects.filter(pk=req.pk).update(sla_next_event="at_risk", sla_next_event_at=req.sla_at_risk_at)
    sweep_now(req.sla_at_risk_at + 2 * SECOND)
    assert events_of(req) == [(1, "at_risk")]
    assert len(mailoutbox) == 1


# --- cost ----------------------------------------------------------------------------------------------------


def _queries(**kwargs) -> tuple[int, list[str]]:
    with CaptureQueriesContext(connection) as ctx:
        run_sweep(deliver=False, **kwargs)
    return len(ctx.captured_queries), [q["sql"] for q in ctx.captured_queries]


def test_the_sweep_costs_a_fixed_number_of_queries_per_batch_not_per_row(account, customer, manager) -> None:
    def due_group(size: int, day: int) -> list[ReassessmentRequest]:
        return [submit_at(chicago(2026, 11, day, 10, minute), account, customer) for minute in range(size)]

    def stop(group: list[ReassessmentRequest]) -> None:
        with clock.frozen(chicago(2027, 2, 1)):
            for req in group:
                services.request_withdraw(request_id=req.pk, actor=customer)

    idle, idle_sql = _queries(now=chicago(2026, 11, 1))
    counts = {}
    for label, size, batch in (
        ("2 rows", 2, 500),
        ("8 rows", 8, 500),
        ("8 rows, 2 batches", 8, 4),
        ("8 rows, 4 batches", 8, 2),
    ):
        group = due_group(size, 2)
        run_sweep(now=chicago(2026, 11, 2, 11), deliver=False)  # screens them: nothing else is due yet
        counts[label], _ = _queries(now=chicago(2026, 11, 9, 11), batch_size=batch)
        assert SlaEvent.objects.filter(request__in=group, kind="at_risk").count() == size
        stop(group)
    print(f"\nsweep queries: idle {idle}, " + ", ".join(f"{k}: {v}" for k, v in counts.items()))
    assert counts["2 rows"] == counts["8 rows"]
    per_batch = counts["8 rows, 2 batches"] - counts["8 rows"]
    assert 0 < per_batch <= 8
    assert counts["8 rows, 4 batches"] - counts["8 rows"] == 3 * per_batch
    # Idle: one query per kind of work (events, expiries, windows, reminders, screening), plus the
    # savepoints of the test's transaction (BEGIN/COMMIT outside tests).
    assert sum("SAVEPOINT" not in sql and "RELEASE" not in sql for sql in idle_sql) == 5


@pytest.mark.postgres
def test_an_idle_sweep_looks_only_at_due_rows_through_indexes(account, customer) -> None:
    submit_at(chicago(2026, 11, 25, 10), account, customer)
    _, statements = _queries(now=chicago(2026, 11, 1))
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        for sql in statements:
            if sql.startswith("SELECT"):
                cursor.execute("EXPLAIN " + sql)
                plan = "\n".join(row[0] for row in cursor.fetchall())
                assert "Seq Scan" not in plan, plan


def test_the_management_command_runs_one_sweep_and_reports_it(account, customer, manager, capsys) -> None:
    req = submit_at(chicago(2026, 11, 25, 10), account, customer)
    with clock.frozen(chicago(2026, 12, 2, 11)):
        call_command("sla_sweep", "--no-deliver")
    out = capsys.readouterr().out
    assert f"{req.reference}: at_risk (cycle 1)" in out
    assert "events=1" in out
