"""Use cases of compliance and risk: restrictions and zero-tolerance risk signals."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from .models import Account, Restriction, RiskSignal


@transaction.atomic
def restriction_apply(
    *, account: Account, kind: str, source: str, detail: str = "", actor: Any = None, notify_owner: bool = True
) -> Restriction:
    """Apply a restriction; emails the account owner what was restricted and how to ask for a
    reassessment (through the outbox, after commit)."""
    from tickets import notifications

    if kind not in Restriction.Kind.values:
        raise ValueError(f"Unknown restriction kind {kind!r}.")
    if source not in Restriction.Source.values:
        raise ValueError(f"Unknown restriction source {source!r}.")
    restriction = Restriction.objects.create(
        account=account, kind=kind, source=source, detail=detail.strip(), applied_by=actor, applied_at=timezone.now()
    )
    if notify_owner:
        notifications.notify(
            "restriction_applied",
            to=notifications.user_recipients(account.owner),
            context={"account": account, "restriction": restriction},
            dedupe_key=f"restriction_applied:{restriction.pk}",
        )
    return restriction


@transaction.atomic
def restriction_lift(
    *, restriction: Restriction, actor: Any = None, status: str = Restriction.Status.LIFTED
) -> Restriction:
    """Lift (or limit) a restriction outside a reassessment decision."""
    if status not in (Restriction.Status.LIFTED, Restriction.Status.LIMITED):
        raise ValueError("A restriction is lifted or limited.")
    restriction = Restriction.objects.select_for_update().get(pk=restriction.pk)
    restriction.status = status
    if status == Restriction.Status.LIFTED:
        restriction.lifted_at = timezone.now()
        restriction.lifted_by = actor
    restriction.save(update_fields=["status", "lifted_at", "lifted_by"])
    return restriction


@transaction.atomic
def risk_signal_record(*, account: Account, kind: str, note: str = "", actor: Any = None) -> RiskSignal:
    """Record a zero-tolerance practice. Requests submitted from now on are auto-rejected."""
    if kind not in RiskSignal.Kind.values:
        raise ValueError(f"Unknown risk signal kind {kind!r}.")
    return RiskSignal.objects.create(account=account, kind=kind, note=note.strip(), recorded_by=actor)
