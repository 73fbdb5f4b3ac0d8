"""Use cases of compliance and risk: restrictions and zero-tolerance risk signals."""

from __future__ import annotations

from typing import Any

from django.db import models, transaction
from django.db.models import Q
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


# --- the ISV violation ladder (seed 003: ISV compliance rules) ---------------------------------


class ViolationLevel(models.TextChoices):
    SINGLE = "single", "Single violation: suspend one sender ID or campaign"
    SERIOUS = "serious", "Serious violation: suspend all sender IDs and campaigns of the sub-account"
    REPEATED = "repeated", "Repeated or multiple violations: suspend the account"


LADDER_TARGET_KINDS = (Restriction.Kind.SENDER_ID_SUSPENDED, Restriction.Kind.CAMPAIGN_SUSPENDED)
ALL_SENDER_IDS = "All sender IDs of this sub-account"
ALL_CAMPAIGNS = "All campaigns of this sub-account"


class ComplianceError(ValueError):
    """A compliance action that does not fit the account; nothing was applied."""


def isv_main_account(account: Account) -> Account | None:
    """The ISV's main account for an ISV account or one of its sub-accounts; None otherwise."""
    if account.is_isv:
        return account
    if account.parent_id is not None and account.parent.is_isv:
        return account.parent
    return None


def compliance_violation_count(account: Account) -> int:
    """Restrictions applied for compliance violations across the ISV (main account and every
    sub-account): what the next step of the ladder is judged against."""
    main = isv_main_account(account) or account
    return Restriction.objects.filter(
        Q(account=main) | Q(account__parent=main), source=Restriction.Source.COMPLIANCE_VIOLATION
    ).count()


def _apply_once(*, account: Account, kind: str, detail: str, actor: Any, notify_owner: bool = True) -> Restriction:
    """Apply unless the same restriction is already in force (re-running a ladder step is a no-op)."""
    detail = detail.strip()[:500]
    existing = (
        Restriction.objects.filter(account=account, kind=kind, detail=detail)
        .exclude(status=Restriction.Status.LIFTED)
        .first()
    )
    if existing is not None:
        return existing
    return restriction_apply(
        account=account,
        kind=kind,
        source=Restriction.Source.COMPLIANCE_VIOLATION,
        detail=detail,
        actor=actor,
        notify_owner=notify_owner,
    )


@transaction.atomic
def violation_ladder_apply(
    *,
    account: Account,
    level: str,
    target_kind: str = "",
    target: str = "",
    note: str = "",
    actor: Any = None,
) -> list[Restriction]:
    """Apply the ISV rules' response to a violation, as restrictions (source compliance_violation),
    each emailing its account's owner:

    - single: suspend the one sender ID or campaign named (`target_kind`, `target`);
    - serious: suspend all sender IDs and campaigns of the sub-account (`account` must be one);
    - repeated: suspend the ISV's main account and every sub-account (one email per owner).

    Raises ComplianceError (nothing applied) when the account is not an ISV's or the input does
    not fit the level. Returns the restrictions in force for this step.
    """
    main = isv_main_account(account)
    if main is None:
        raise ComplianceError(
            f"{account.name} is neither an ISV nor an ISV's sub-account; apply a restriction instead."
        )
    note = (note or "").strip()
    suffix = f" — {note}" if note else ""
    if level == ViolationLevel.SINGLE:
        if target_kind not in LADDER_TARGET_KINDS:
            raise ComplianceError("A single violation suspends a sender ID or a campaign: choose which.")
        target = (target or "").strip()
        if not target:
            raise ComplianceError("Name the sender ID or campaign to suspend.")
        return [_apply_once(account=account, kind=target_kind, detail=f"{target}{suffix}", actor=actor)]
    if level == ViolationLevel.SERIOUS:
        if account.parent_id is None:
            raise ComplianceError(
                f"{account.name} is the ISV's main account: a serious violation suspends one end brand's "
                "sub-account; choose that sub-account."
            )
        return [
            _apply_once(
                account=account, kind=Restriction.Kind.SENDER_ID_SUSPENDED, detail=ALL_SENDER_IDS + suffix, actor=actor
            ),
            _apply_once(
                account=account,
                kind=Restriction.Kind.CAMPAIGN_SUSPENDED,
                detail=ALL_CAMPAIGNS + suffix,
                actor=actor,
                notify_owner=False,  # the owner already gets the sender-ID email for the same violation
            ),
        ]
    if level == ViolationLevel.REPEATED:
        applied: list[Restriction] = []
        notified: set[int] = set()
        for target_account in [main, *main.sub_accounts.select_related("owner").order_by("pk")]:
            detail = "Repeated compliance violations" + ("" if target_account == main else f" (ISV {main.name})")
            applied.append(
                _apply_once(
                    account=target_account,
                    kind=Restriction.Kind.ACCOUNT_SUSPENDED,
                    detail=detail + suffix,
                    actor=actor,
                    notify_owner=target_account.owner_id not in notified,
                )
            )
            notified.add(target_account.owner_id)
        return applied
    raise ComplianceError(f"Unknown violation level {level!r}.")


@transaction.atomic
def restrictions_lift(
    *, restrictions: list[Restriction], actor: Any = None, status: str = Restriction.Status.LIFTED
) -> list[Restriction]:
    """Lift (or limit) several restrictions outside a reassessment decision; already lifted ones
    are left as they are."""
    done = []
    for restriction in restrictions:
        if restriction.status == Restriction.Status.LIFTED:
            continue
        done.append(restriction_lift(restriction=restriction, actor=actor, status=status))
    return done
