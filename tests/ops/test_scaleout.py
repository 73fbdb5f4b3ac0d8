"""Scale-out: two beat instances by accident (two `manage.py sla_sweep` processes at once against
the same PostgreSQL database) fire every SLA event exactly once and send each email once."""

from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
from django.db import connection
from django.utils import timezone

from tests.ops.conftest import make_due_requests
from tickets.models import Notification, SlaEvent

ROOT = Path(__file__).resolve().parents[2]


def _database_url() -> str:
    s = connection.settings_dict
    password = f":{s['PASSWORD']}" if s["PASSWORD"] else ""
    return f"postgres://{s['USER']}{password}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


@pytest.mark.postgres
@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_two_sweep_processes_at_once_fire_each_event_and_send_each_email_once(agent, tmp_path) -> None:
    # Due a little in the past, so both processes (using the real clock) see every event due.
    ids = make_due_requests(400, now=timezone.now() - timedelta(seconds=5))
    mail_dir = tmp_path / "mail"
    env = {
        **os.environ,
        "DATABASE_URL": _database_url(),
        "CASEMGR_VAR_DIR": str(tmp_path / "var"),
        "EMAIL_URL": f"file://{mail_dir}",
        # Small batches, so the two processes interleave on many row locks.
        "SLA_SWEEP_BATCH_SIZE": "20",
        # Delivery inline after commit (no broker): both processes race for the outbox rows too.
        "CELERY_TASK_ALWAYS_EAGER": "true",
    }
    env.pop("REDIS_URL", None)
    sweeps = [
        subprocess.Popen(
            [sys.executable, "manage.py", "sla_sweep"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for _ in range(2)
    ]
    outputs = [process.communicate(timeout=300) for process in sweeps]
    for process, (_, stderr) in zip(sweeps, outputs, strict=True):
        assert process.returncode == 0, stderr.decode()[-3000:]
    fired = [int(out.decode().split("events=")[1].split(",")[0]) for out, _ in outputs]
    assert sum(fired) == 400  # split between the two, none twice

    events = Counter(SlaEvent.objects.filter(request_id__in=ids).values_list("request_id", "cycle", "kind"))
    assert len(events) == 400 and set(events.values()) == {1}
    outbox = Notification.objects.filter(request_id__in=ids)
    assert outbox.count() == 400
    assert outbox.filter(sent_at__isnull=True).count() == 0

    # Every email went out once: count Message-IDs across the file backend's output.
    message_ids = [
        line.split(":", 1)[1].strip()
        for path in mail_dir.glob("*.log")
        for line in path.read_text().splitlines()
        if line.startswith("Message-ID:")
    ]
    assert len(message_ids) == 400
    assert len(set(message_ids)) == 400
