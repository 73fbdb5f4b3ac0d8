from __future__ import annotations

import os
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from tickets.bench import BenchError, run_bench


class Command(BaseCommand):
    help = (
        "Seed PostgreSQL up to 1,000,000 requests and print the benchmark table: HTTP submissions, "
        "staff queue, SLA sweeps, SLA report (each a median of several runs). Not part of make test."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--requests", type=int, default=1_000_000, help="Seed up to this many requests.")
        parser.add_argument("--runs", type=int, default=5, help="Runs per in-process figure.")
        parser.add_argument("--http-runs", type=int, default=3)
        parser.add_argument("--http-submissions", type=int, default=60, help="Submission flows per HTTP run.")
        parser.add_argument("--http-clients", type=int, default=4, help="Concurrent HTTP clients.")
        parser.add_argument(
            "--workers", type=int, default=(os.cpu_count() or 1) * 2 + 1, help="gunicorn worker processes."
        )
        parser.add_argument("--busy-events", type=int, default=10_000, help="Events the busy sweep fires.")
        parser.add_argument("--busy-runs", type=int, default=3)
        parser.add_argument("--skip-http", action="store_true", help="Leave out the gunicorn part.")

    def handle(self, *args: Any, **options: Any) -> None:
        for name in ("requests", "runs", "http_runs", "http_submissions", "http_clients", "workers", "busy_runs"):
            if options[name] < 1:
                raise CommandError(f"--{name.replace('_', '-')} must be at least 1.")
        try:
            report = run_bench(
                target=options["requests"],
                runs=options["runs"],
                http_runs=options["http_runs"],
                http_submissions=options["http_submissions"],
                http_clients=options["http_clients"],
                workers=options["workers"],
                busy_events=options["busy_events"],
                busy_runs=options["busy_runs"],
                skip_http=options["skip_http"],
                write=self.stdout.write,
            )
        except BenchError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write("")
        for line in report.machine:
            self.stdout.write(line)
        self.stdout.write("")
        self.stdout.write(report.table())
