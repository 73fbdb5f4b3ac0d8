"""The ORM half of finality: refuse to delete a final request (PostgreSQL also has a trigger;
SQLite has none because it would break the test runner's table flush)."""

from __future__ import annotations

from typing import Any

from django.db.models.signals import pre_delete
from django.dispatch import receiver

from .models import FINAL_STATES, FinalRequestError, ReassessmentRequest


@receiver(pre_delete, sender=ReassessmentRequest, dispatch_uid="tickets.refuse_final_delete")
def refuse_final_delete(sender: type, instance: ReassessmentRequest, **kwargs: Any) -> None:
    if instance.state in FINAL_STATES:
        raise FinalRequestError(f"{instance.reference} is final and cannot be deleted.")
