from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from tickets.sweep import run_sweep


class Command(BaseCommand):
    help = "Run one SLA sweep inline: fire due SLA events, expire info requests, close re-evaluation windows."

    def handle(self, *args: Any, **options: Any) -> None:
        result = run_sweep()
        self.stdout.write(", ".join(f"{key}={value}" for key, value in result.as_dict().items()))
