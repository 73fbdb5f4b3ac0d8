from __future__ import annotations

from django.apps import AppConfig


class TicketsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "tickets"
    verbose_name = "Reassessment requests"

    def ready(self) -> None:
        from . import signals  # noqa: F401
