from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from tickets.demo import bulk_requests, seed_demo


class Command(BaseCommand):
    help = "Create demo users for every role, accounts, and requests in every state (idempotent)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--requests", type=int, default=0, help="Also bulk-insert this many requests.")
        parser.add_argument("--batch-size", type=int, default=5000)

    def handle(self, *args: Any, requests: int, batch_size: int, **options: Any) -> None:
        if requests < 0:
            self.stderr.write("--requests must be 0 or more.")
            raise SystemExit(2)
        seed_demo(write=self.stdout.write)
        if requests:
            started = time.perf_counter()
            made = bulk_requests(requests, batch_size=batch_size, write=self.stdout.write)
            elapsed = time.perf_counter() - started
            self.stdout.write(f"Inserted {made:,} requests in {elapsed:.1f} s ({made / elapsed:,.0f}/s).")
