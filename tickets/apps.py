from __future__ import annotations

from django.apps import AppConfig


class TicketsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "tickets"
    verbose_name = "Reassessment requests"

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from . import signals  # noqa: F401
        from .screening_defaults import ensure_default_rules

        # Data that a flush (TransactionTestCase, live-server tests) removes comes back here.
        post_migrate.connect(ensure_default_rules, sender=self, dispatch_uid="tickets.default_screening_rules")
