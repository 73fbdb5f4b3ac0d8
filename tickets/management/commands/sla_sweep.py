"""`manage.py sla_sweep`: one SLA sweep inline, for operators and for `make run` without a broker."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from tickets.sweep import run_sweep


class Command(BaseCommand):
    help = (
        "Run one SLA sweep inline: fire due SLA events, expire information requests, close "
        "re-evaluation windows, send reminders, screen lost submissions and re-try unsent emails. "
        "Safe to run while the beat sweep runs too."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--batch-size", type=int, default=None, help="Requests per transaction (default SLA_SWEEP_BATCH_SIZE)."
        )
        parser.add_argument(
            "--no-deliver", action="store_true", help="Leave unsent emails to the workers instead of sending them here."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        started = time.monotonic()
        result = run_sweep(batch_size=options["batch_size"], deliver=not options["no_deliver"])
        elapsed = time.monotonic() - started
        for reference, cycle, kind in result.fired:
            self.stdout.write(f"{reference}: {kind} (cycle {cycle})")
        summary = ", ".join(f"{key}={value}" for key, value in result.as_dict().items())
        self.stdout.write(f"{summary} in {elapsed:.2f}s")
        if result.failures:
            self.stderr.write(f"{result.failures} item(s) failed; see the log. The next sweep retries them.")
