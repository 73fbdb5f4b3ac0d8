"""The outbox (STYLE: side effects): a row in the causing transaction, delivered after commit,
claimed with a lease so it is sent once, re-tried with back-off, recovered by the sweep."""

from __future__ import annotations

import smtplib
import time
from datetime import timedelta

import pytest
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.utils import timezone

from tickets import notifications, tasks
from tickets.models import Notification
from tickets.notifications import deliver, deliver_pending, notify, retry_delay
from tickets.sweep import run_sweep

pytestmark = pytest.mark.django_db


class WorkerKilled(BaseException):
    """Stands for the process dying mid-send: not an Exception, so nothing catches it."""


def write(to: list[str] | None = None, dedupe_key: str | None = None, **kwargs) -> Notification | None:
    return notify("sla_breach_customer", to=to or ["carla@acme.example"], dedupe_key=dedupe_key, **kwargs)


def test_a_notification_is_a_row_first_and_is_sent_after_commit_with_a_stable_message_id(
    submitted_request, mailoutbox, django_capture_on_commit_callbacks
) -> None:
    mailoutbox.clear()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        row = write(request=submitted_request)
    assert mailoutbox == []  # nothing leaves before the commit
    assert Notification.objects.get(pk=row.pk).sent_at is None
    for callback in callbacks:
        callback()
    [mail] = mailoutbox
    assert mail.to == ["carla@acme.example"]
    assert mail.extra_headers["Message-ID"] == row.message_id == f"<notification-{row.pk}@casemgr>"
    assert mail.alternatives and mail.alternatives[0][1] == "text/html"
    row.refresh_from_db()
    assert (row.attempts, row.claimed_until, row.last_error) == (1, None, "")
    assert row.sent_at is not None
    assert deliver(row.pk) is False  # a sent row is never sent again
    assert len(mailoutbox) == 1


def test_a_rolled_back_transaction_sends_nothing(
    submitted_request, mailoutbox, django_capture_on_commit_callbacks
) -> None:
    mailoutbox.clear()
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError):
        with transaction.atomic():
            write(request=submitted_request, dedupe_key="rolled-back")
            raise RuntimeError("the use case failed")
    assert not Notification.objects.filter(dedupe_key="rolled-back").exists()
    assert mailoutbox == []


def test_a_dedupe_key_queues_an_email_once(submitted_request) -> None:
    assert write(request=submitted_request, dedupe_key="once") is not None
    assert write(request=submitted_request, dedupe_key="once") is None
    assert Notification.objects.filter(dedupe_key="once").count() == 1


def test_nobody_to_send_to_writes_nothing() -> None:
    assert notify("sla_breach_customer", to=[]) is None
    assert Notification.objects.count() == 0


def test_a_held_lease_keeps_a_second_delivery_away(mailoutbox) -> None:
    row = write()
    assert notifications._claim(row.pk) is True
    assert deliver(row.pk) is False
    assert mailoutbox == []


def test_a_worker_killed_while_sending_is_replaced_after_its_lease_expires_with_the_same_message_id(
    mailoutbox, monkeypatch
) -> None:
    monkeypatch.setattr(notifications, "DELIVERY_LEASE", timedelta(seconds=0.3))
    row = write()
    real_send = EmailMultiAlternatives.send

    def killed(self, fail_silently=False):
        raise WorkerKilled

    monkeypatch.setattr(EmailMultiAlternatives, "send", killed)
    with pytest.raises(WorkerKilled):
        deliver(row.pk)
    monkeypatch.setattr(EmailMultiAlternatives, "send", real_send)
    row.refresh_from_db()
    assert (row.sent_at, row.attempts) == (None, 1)
    assert deliver(row.pk) is False  # the lease of the dead worker still holds
    assert deliver_pending(grace=timedelta(0)) == 0
    time.sleep(0.4)
    assert deliver_pending(grace=timedelta(0)) == 1
    assert deliver_pending(grace=timedelta(0)) == 0
    [mail] = mailoutbox
    assert mail.extra_headers["Message-ID"] == f"<notification-{row.pk}@casemgr>"
    row.refresh_from_db()
    assert row.attempts == 2 and row.sent_at is not None


def test_a_mail_server_error_backs_off_and_the_sweep_retries_later(mailoutbox, monkeypatch) -> None:
    row = write()
    real_send = EmailMultiAlternatives.send

    def refused(self, fail_silently=False):
        raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")

    monkeypatch.setattr(EmailMultiAlternatives, "send", refused)
    before = timezone.now()
    assert deliver(row.pk) is False
    row.refresh_from_db()
    assert row.sent_at is None
    assert row.last_error == "Connection unexpectedly closed"
    assert before + timedelta(minutes=2) <= row.claimed_until <= timezone.now() + timedelta(minutes=2)
    monkeypatch.setattr(EmailMultiAlternatives, "send", real_send)
    assert deliver_pending(grace=timedelta(0)) == 0  # still backing off
    Notification.objects.filter(pk=row.pk).update(claimed_until=timezone.now() - timedelta(seconds=1))
    assert run_sweep().delivered == 0  # fresh rows are left to their own task for SWEEP_GRACE
    Notification.objects.filter(pk=row.pk).update(created_at=timezone.now() - timedelta(minutes=1))
    assert run_sweep().delivered == 1
    assert len(mailoutbox) == 1
    row.refresh_from_db()
    assert (row.attempts, row.last_error) == (2, "")


def test_retries_back_off_exponentially_up_to_an_hour() -> None:
    minutes = [retry_delay(n) / timedelta(minutes=1) for n in range(1, 10)]
    assert minutes == [2, 4, 8, 16, 32, 60, 60, 60, 60]


def test_a_row_out_of_attempts_is_left_alone(mailoutbox) -> None:
    row = write()
    Notification.objects.filter(pk=row.pk).update(attempts=notifications.MAX_ATTEMPTS)
    assert deliver(row.pk) is False
    assert deliver_pending(grace=timedelta(0)) == 0
    assert mailoutbox == []


def test_a_broker_outage_at_enqueue_only_delays_the_email(mailoutbox, monkeypatch, caplog) -> None:
    def broker_down(*args, **kwargs):
        raise ConnectionRefusedError("redis is down")

    monkeypatch.setattr(tasks.deliver_notification, "delay", broker_down)
    row = write()
    notifications.enqueue_delivery(row.pk)  # what the on-commit hook does: logs, does not raise
    assert "the sweep will deliver it" in caplog.text
    assert mailoutbox == []
    Notification.objects.filter(pk=row.pk).update(created_at=timezone.now() - timedelta(minutes=1))
    assert deliver_pending() == 1
    assert len(mailoutbox) == 1


def test_save_and_queue_writes_many_rows_skips_known_keys_and_queues_one_task(
    django_capture_on_commit_callbacks, mailoutbox
) -> None:
    write(dedupe_key="k1")
    rows = [notifications.render("sla_breach_customer", to=["a@x.example"], dedupe_key=f"k{n}") for n in (1, 2, 3)]
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        ids = notifications.save_and_queue(rows)
    assert len(callbacks) == 1
    assert Notification.objects.count() == 3
    assert len(ids) == 3  # k1 was never sent: it is handed to the worker with the new ones
    assert len(mailoutbox) == 3
    with pytest.raises(ValueError, match="dedupe key"):
        notifications.save_and_queue([notifications.render("sla_breach_customer", to=["a@x.example"])])


def test_delivery_stops_when_its_time_budget_is_spent(mailoutbox) -> None:
    for n in range(3):
        write(dedupe_key=f"budget-{n}")
    assert deliver_pending(grace=timedelta(0), time_budget=-1) == 0
    assert deliver_pending(grace=timedelta(0), time_budget=60) == 3
