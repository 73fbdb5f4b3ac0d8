from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from tickets.evidence import evidence_remove_orphans


class Command(BaseCommand):
    help = (
        "Delete stored evidence objects that no evidence row refers to (left by a crash between storing "
        "and recording, or by a caller's rolled-back transaction). Safe to run at any time."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--older-than-minutes",
            type=int,
            default=60,
            help="Only objects at least this old (younger ones may be uploads being recorded right now).",
        )

    def handle(self, *args: Any, older_than_minutes: int, **options: Any) -> None:
        if older_than_minutes < 1:
            self.stderr.write("--older-than-minutes must be at least 1.")
            raise SystemExit(2)
        removed = evidence_remove_orphans(older_than=timedelta(minutes=older_than_minutes))
        for key in removed:
            self.stdout.write(f"removed {key}")
        self.stdout.write(f"Removed {len(removed)} orphaned evidence object(s).")
