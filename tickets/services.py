"""Every use case of a reassessment request: one function each.

Each function locks the request row, checks state + role + assignee + the policy rules, applies
the transition (fields only), saves, writes the audit row and queues its emails in the same
transaction. A refusal raises a TransitionRefused subclass (tickets/errors.py) and changes
nothing. Views, the admin, the API, commands and tasks call these; none of them changes a request
on its own.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django_fsm import can_proceed

from accounts.models import Account, Restriction, accounts_for_user
from accounts.roles import MANAGERS, is_agent, is_senior, is_staff_member

from . import clock, notifications, sla
from .errors import ActorNotAllowed, InvalidInput, RequestNotFound, StateConflict
from .models import (
    ZERO_TOLERANCE_REASONS,
    Message,
    Outcome,
    ReasonCode,
    ReassessmentRequest,
    ReferenceCounter,
    RequestTransition,
    State,
)
from .validation import DETAIL_FIELDS, clean_details, validate_for_submit

MAX_MESSAGE_LENGTH = 10_000

# Who may take each transition. "assignee": the agent the request is assigned to.
CUSTOMER, AGENT, ASSIGNEE, SENIOR, SYSTEM = "customer", "agent", "assignee", "senior", "system"
TRANSITION_ACTORS = {
    "submit": CUSTOMER,
    "auto_reject": SYSTEM,
    "claim": AGENT,
    "request_info": ASSIGNEE,
    "provide_info": CUSTOMER,
    "expire_info_request": SYSTEM,
    "approve": ASSIGNEE,
    "reject": ASSIGNEE,
    "request_reevaluation": CUSTOMER,
    "close_reevaluation_window": SYSTEM,
    "claim_reevaluation": SENIOR,
    "reject_final": ASSIGNEE,
    "withdraw": CUSTOMER,
}

# Why a transition whose state is right is still refused: its time condition (tickets/models.py).
CONDITION_REFUSALS = {
    # Once a re-evaluation was asked for, the request has left `rejected`: only the window remains.
    "request_reevaluation": "The window to ask for a re-evaluation has closed.",
    "close_reevaluation_window": "The re-evaluation window is still open.",
    "expire_info_request": "The information request has not expired yet.",
}

TRANSITION_LABELS = {
    "submit": "Submit",
    "auto_reject": "Reject automatically",
    "claim": "Claim",
    "request_info": "Request information",
    "provide_info": "Provide information",
    "expire_info_request": "Expire the information request",
    "approve": "Approve",
    "reject": "Reject",
    "request_reevaluation": "Request a re-evaluation",
    "close_reevaluation_window": "Close the re-evaluation window",
    "claim_reevaluation": "Claim the re-evaluation",
    "reject_final": "Reject (final)",
    "withdraw": "Withdraw",
}


now = clock.now


# --- checks -------------------------------------------------------------------------------------


def is_customer_of(user: Any, req: ReassessmentRequest) -> bool:
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    # Asked once per transition by `available_transitions`: remember the answer on this instance.
    known = req.__dict__.setdefault("_casemgr_customer_of", {})
    if user.pk not in known:
        known[user.pk] = req.account.owner_id == user.pk or req.account.members.filter(pk=user.pk).exists()
    return known[user.pk]


def actor_may(req: ReassessmentRequest, name: str, actor: Any) -> bool:
    """True when `actor` may take transition `name` now (for buttons and links)."""
    try:
        ensure_allowed(req, name, actor)
    except (StateConflict, ActorNotAllowed, RequestNotFound):
        return False
    return True


def available_transitions(req: ReassessmentRequest, actor: Any) -> list[str]:
    return [name for name in TRANSITION_ACTORS if actor_may(req, name, actor)]


def ensure_allowed(req: ReassessmentRequest, name: str, actor: Any) -> None:
    """Role first (403, or 404 for someone outside the account), then state (409), then the
    actor-specific rules: assignee, senior, not the cycle-1 decider (403)."""
    who = TRANSITION_ACTORS[name]
    label = TRANSITION_LABELS[name]
    if who == SYSTEM:
        if actor is not None:
            raise ActorNotAllowed(f"{label} is done by the system only.")
    elif who == CUSTOMER:
        if not is_customer_of(actor, req):
            if is_staff_member(actor):
                raise ActorNotAllowed(f"{label} is done by the customer, not by staff.")
            raise RequestNotFound("No such request.")
    elif who == SENIOR:
        if not is_senior(actor):
            raise ActorNotAllowed(f"{label} needs a senior reviewer.")
    elif not is_agent(actor):
        raise ActorNotAllowed(f"{label} needs a member of the accounts team.")

    if not can_proceed(getattr(req, name), check_conditions=False):
        raise StateConflict(f"{label} is not possible while the request is {req.get_state_display().lower()}.")
    if not can_proceed(getattr(req, name)):
        raise StateConflict(CONDITION_REFUSALS[name])

    if who == ASSIGNEE:
        if req.assignee_id != actor.pk:
            holder = _display_name(req.assignee) if req.assignee_id else "nobody"
            raise ActorNotAllowed(f"Only the assignee can do this; the request is assigned to {holder}.")
        if req.state == State.IN_REEVALUATION and not is_senior(actor):
            raise ActorNotAllowed("A re-evaluation is decided by a senior reviewer.")
    if name == "claim_reevaluation" and req.cycle1_decided_by_id == actor.pk:
        raise ActorNotAllowed("You decided this request; another senior reviewer must re-evaluate it.")


def _display_name(user: Any) -> str:
    if user is None:
        return "the accounts team"
    full = user.get_full_name() if hasattr(user, "get_full_name") else ""
    return full or user.get_username()


def _lock(request_id: int) -> ReassessmentRequest:
    try:
        return ReassessmentRequest.objects.select_for_update().select_related("account").get(pk=request_id)
    except ReassessmentRequest.DoesNotExist:
        raise RequestNotFound("No such request.") from None


def _audit(
    req: ReassessmentRequest,
    name: str,
    actor: Any,
    *,
    from_state: str,
    at: datetime,
    note: str = "",
    reason_code: str = "",
) -> RequestTransition:
    return RequestTransition.objects.create(
        request=req,
        transition=name,
        from_state=from_state,
        to_state=req.state,
        actor=actor,
        note=note,
        reason_code=reason_code,
        sla_cycle=req.sla_cycle,
        created_at=at,
    )


def _clean_text(value: Any, field: str, *, required: str, limit: int = MAX_MESSAGE_LENGTH) -> str:
    if value is None or (isinstance(value, str) and not value.strip()):
        raise InvalidInput({field: [required]})
    if not isinstance(value, str):
        raise InvalidInput({field: ["This must be text."]})
    value = value.strip()
    if "\x00" in value:
        raise InvalidInput({field: ["This contains a character that is not allowed."]})
    if len(value) > limit:
        raise InvalidInput({field: [f"This must be at most {limit} characters (it has {len(value)})."]})
    return value


def _clean_reason(reason_code: Any) -> str:
    if reason_code in (None, ""):
        raise InvalidInput({"reason_code": ["Choose a reason code (internal; the customer never sees it)."]})
    if reason_code not in ReasonCode.values:
        raise InvalidInput({"reason_code": [f"Unknown reason code; choose one of {', '.join(ReasonCode.values)}."]})
    return str(reason_code)


# --- references -------------------------------------------------------------------------------------


def reference_year(at: datetime) -> int:
    return at.astimezone(ZoneInfo(settings.SLA_TIMEZONE)).year


def next_references(year: int, count: int = 1) -> list[str]:
    """Reserve `count` consecutive references for `year` (RR-2026-000042). Call in a transaction."""
    ReferenceCounter.objects.get_or_create(year=year)
    counter = ReferenceCounter.objects.select_for_update().get(year=year)
    first = counter.last_number + 1
    ReferenceCounter.objects.filter(year=year).update(last_number=F("last_number") + count)
    return [f"RR-{year}-{number:06d}" for number in range(first, first + count)]


# --- drafts -------------------------------------------------------------------------------------


def _customer_account(actor: Any, account: Account | int | None) -> Account:
    accounts = accounts_for_user(actor)
    if account is None:
        mine = list(accounts[:2])
        if len(mine) == 1:
            return mine[0]
        if not mine:
            raise ActorNotAllowed("You are not a member of any customer account.")
        raise InvalidInput({"account": ["You belong to several accounts: choose which one this request is for."]})
    account_id = account.pk if isinstance(account, Account) else account
    found = accounts.filter(pk=account_id).first()
    if found is None:
        raise InvalidInput({"account": ["Choose one of your own accounts."]})
    return found


@transaction.atomic
def request_create_draft(
    *, actor: Any, account: Account | int | None = None, details: dict[str, Any] | None = None
) -> ReassessmentRequest:
    """Create a draft for one of the actor's accounts. Details may be incomplete; their format is
    checked. Raises InvalidInput / ActorNotAllowed."""
    target = _customer_account(actor, account)
    cleaned, errors = clean_details(details or {})
    if errors:
        raise InvalidInput(errors)
    at = now()
    (reference,) = next_references(reference_year(at))
    req = ReassessmentRequest(reference=reference, account=target, created_by=actor, created_at=at, **cleaned)
    req.save()
    RequestTransition.objects.create(
        request=req, transition="create", from_state="", to_state=req.state, actor=actor, created_at=at
    )
    return req


@transaction.atomic
def request_update_draft(*, request_id: int, actor: Any, details: dict[str, Any]) -> ReassessmentRequest:
    """Change details of a draft (only a draft). Raises InvalidInput / StateConflict."""
    req = _lock(request_id)
    if not is_customer_of(actor, req):
        raise RequestNotFound("No such request.")
    if req.state != State.DRAFT:
        raise StateConflict("Only a draft can be edited; this request was already submitted.")
    unknown = sorted(set(details) - set(DETAIL_FIELDS))
    if unknown:
        raise InvalidInput({field: ["This field cannot be changed."] for field in unknown})
    cleaned, errors = clean_details(details)
    if errors:
        raise InvalidInput(errors)
    for field, value in cleaned.items():
        setattr(req, field, value)
    req.save()
    return req


# --- transitions --------------------------------------------------------------------------------------


@transaction.atomic
def request_submit(*, request_id: int, actor: Any) -> ReassessmentRequest:
    """Submit a complete draft: starts SLA cycle 1, queues screening and the receipt email."""
    req = _lock(request_id)
    ensure_allowed(req, "submit", actor)
    errors = validate_for_submit(req)
    if errors:
        raise InvalidInput(errors, message="Some required details are missing or invalid.")
    at = now()
    from_state = req.state
    req.submit(at=at)
    sla.cycle_start(req, at=at)
    req.save()
    _audit(req, "submit", actor, from_state=from_state, at=at)
    notifications.notify("request_received", to=notifications.customer_recipients(req), request=req)
    _queue_screening(req.pk)
    return req


def _queue_screening(request_id: int) -> None:
    from .screening import enqueue_screening

    transaction.on_commit(lambda: enqueue_screening(request_id))


@transaction.atomic
def request_auto_reject(*, request_id: int, reason_code: str, note: str = "") -> ReassessmentRequest:
    """System: screening found a zero-tolerance risk signal. The decision is final."""
    req = _lock(request_id)
    ensure_allowed(req, "auto_reject", None)
    if reason_code not in ZERO_TOLERANCE_REASONS:
        raise InvalidInput({"reason_code": ["An automatic rejection needs a zero-tolerance reason."]})
    at = now()
    from_state = req.state
    req.auto_reject(at=at, reason_code=reason_code)
    sla.cycle_stop(req, at=at, transition="auto_reject")
    req.save()
    _audit(req, "auto_reject", None, from_state=from_state, at=at, note=note, reason_code=reason_code)
    notifications.notify("request_rejected_final", to=notifications.customer_recipients(req), request=req)
    return req


@transaction.atomic
def request_claim(*, request_id: int, actor: Any) -> ReassessmentRequest:
    """An agent takes a submitted request; they become its assignee."""
    req = _lock(request_id)
    ensure_allowed(req, "claim", actor)
    at = now()
    from_state = req.state
    req.claim(by=actor)
    req.save()
    _audit(req, "claim", actor, from_state=from_state, at=at)
    return req


@transaction.atomic
def request_request_info(*, request_id: int, actor: Any, message: str) -> ReassessmentRequest:
    """Ask the customer for more information (public message); pauses the SLA clock."""
    req = _lock(request_id)
    ensure_allowed(req, "request_info", actor)
    body = _clean_text(message, "message", required="Write the message the customer will see.")
    at = now()
    from_state = req.state
    req.request_info(at=at, due_at=at + timedelta(days=settings.INFO_REQUEST_DAYS))
    sla.cycle_pause(req, at=at)
    sla.record_first_response(req, at=at)
    req.save()
    Message.objects.create(request=req, author=actor, body=body, internal=False, created_at=at)
    _audit(req, "request_info", actor, from_state=from_state, at=at)
    notifications.notify(
        "info_requested",
        to=notifications.customer_recipients(req),
        request=req,
        context={"message": body, "due_at": req.info_due_at},
    )
    return req


@transaction.atomic
def request_provide_info(*, request_id: int, actor: Any, message: str) -> ReassessmentRequest:
    """The customer answers an information request; the SLA clock runs again, deadlines move out."""
    req = _lock(request_id)
    ensure_allowed(req, "provide_info", actor)
    body = _clean_text(message, "message", required="Write your answer to the accounts team.")
    at = now()
    from_state = req.state
    req.provide_info()
    sla.cycle_resume(req, at=at)
    req.save()
    Message.objects.create(request=req, author=actor, body=body, internal=False, created_at=at)
    _audit(req, "provide_info", actor, from_state=from_state, at=at)
    notifications.notify(
        "customer_replied", to=notifications.user_recipients(req.assignee), request=req, context={"message": body}
    )
    return req


@transaction.atomic
def request_expire_info_request(*, request_id: int) -> ReassessmentRequest:
    """System: no reply within INFO_REQUEST_DAYS; rejects with `insufficient_details`."""
    req = _lock(request_id)
    ensure_allowed(req, "expire_info_request", None)
    at = now()
    from_state = req.state
    req.expire_info_request(at=at, reevaluation_due_at=at + timedelta(days=settings.REEVALUATION_WINDOW_DAYS))
    sla.cycle_stop(req, at=at, transition="expire_info_request")
    req.save()
    _audit(req, "expire_info_request", None, from_state=from_state, at=at, reason_code=req.reason_code)
    notifications.notify("request_rejected", to=notifications.customer_recipients(req), request=req)
    return req


def _clean_lift(req: ReassessmentRequest, lift: Any) -> list[Restriction]:
    if lift in (None, ""):
        return []
    if not isinstance(lift, (list, tuple, set)) or not all(
        (isinstance(item, int) and not isinstance(item, bool)) or (isinstance(item, str) and item.isdigit())
        for item in lift
    ):
        raise InvalidInput({"lift": ["Give the ids of the restrictions to lift, as a list of numbers."]})
    ids = {int(item) for item in lift}
    out_of_range = sorted(i for i in ids if not 0 < i < 2**63)
    if out_of_range:
        # A number no id can have would overflow the database column: refuse it like any unknown id.
        raise InvalidInput({"lift": [f"Restriction {', '.join(map(str, out_of_range))} does not exist."]})
    found = list(
        Restriction.objects.select_for_update()
        .filter(pk__in=ids, account=req.account)
        .exclude(status=Restriction.Status.LIFTED)
        .order_by("pk")
    )
    missing = sorted(ids - {r.pk for r in found})
    if missing:
        raise InvalidInput(
            {"lift": [f"Restriction {', '.join(map(str, missing))} is not an active restriction of this account."]}
        )
    return found


@transaction.atomic
def request_approve(
    *, request_id: int, actor: Any, lift: Iterable[int] | None = None, message: str = ""
) -> ReassessmentRequest:
    """Approve; lifts the chosen restrictions in the same transaction (outcome `lifted` when none
    stays active, else `limited`). The optional message is shown to the customer."""
    req = _lock(request_id)
    ensure_allowed(req, "approve", actor)
    to_lift = _clean_lift(req, lift)
    body = message.strip() if isinstance(message, str) else ""
    if len(body) > MAX_MESSAGE_LENGTH:
        raise InvalidInput({"message": [f"This must be at most {MAX_MESSAGE_LENGTH} characters."]})
    at = now()
    for restriction in to_lift:
        restriction.status = Restriction.Status.LIFTED
        restriction.lifted_at = at
        restriction.lifted_by = actor
        restriction.save(update_fields=["status", "lifted_at", "lifted_by"])
    still_active = Restriction.objects.filter(account=req.account, status=Restriction.Status.ACTIVE).exists()
    outcome = Outcome.LIMITED if still_active else Outcome.LIFTED
    from_state = req.state
    req.approve(at=at, by=actor, outcome=outcome)
    sla.cycle_stop(req, at=at, transition="approve")
    sla.record_first_response(req, at=at)
    req.save()
    req.lifted_restrictions.add(*to_lift)
    if body:
        Message.objects.create(request=req, author=actor, body=body, internal=False, created_at=at)
    lifted_note = ", ".join(f"#{r.pk} {r}" for r in to_lift) or "none"
    _audit(req, "approve", actor, from_state=from_state, at=at, note=f"Lifted: {lifted_note}. {body}".strip())
    notifications.notify(
        "request_approved",
        to=notifications.customer_recipients(req),
        request=req,
        context={"lifted": to_lift, "message": body, "outcome": outcome},
    )
    return req


@transaction.atomic
def request_reject(*, request_id: int, actor: Any, reason_code: str, note: str = "") -> ReassessmentRequest:
    """Reject in cycle 1 with an internal reason code. A zero-tolerance reason makes it final;
    otherwise the customer may ask for one re-evaluation within REEVALUATION_WINDOW_DAYS."""
    req = _lock(request_id)
    ensure_allowed(req, "reject", actor)
    reason = _clean_reason(reason_code)
    internal_note = note.strip() if isinstance(note, str) else ""
    at = now()
    from_state = req.state
    req.reject(
        at=at, by=actor, reason_code=reason, reevaluation_due_at=at + timedelta(days=settings.REEVALUATION_WINDOW_DAYS)
    )
    sla.cycle_stop(req, at=at, transition="reject")
    sla.record_first_response(req, at=at)
    req.save()
    if internal_note:
        Message.objects.create(request=req, author=actor, body=internal_note, internal=True, created_at=at)
    _audit(req, "reject", actor, from_state=from_state, at=at, note=internal_note, reason_code=reason)
    kind = "request_rejected_final" if req.state == State.REJECTED_FINAL else "request_rejected"
    notifications.notify(kind, to=notifications.customer_recipients(req), request=req)
    return req


@transaction.atomic
def request_request_reevaluation(*, request_id: int, actor: Any, details: str) -> ReassessmentRequest:
    """The customer asks, once and within the window, for a re-evaluation with additional details.
    Starts SLA cycle 2."""
    req = _lock(request_id)
    ensure_allowed(req, "request_reevaluation", actor)
    text = _clean_text(details, "details", required="Tell us what we should know for the re-evaluation.")
    at = now()
    from_state = req.state
    req.request_reevaluation(at=at, details=text)
    sla.cycle_start(req, at=at)
    req.save()
    _audit(req, "request_reevaluation", actor, from_state=from_state, at=at)
    notifications.notify("reevaluation_received", to=notifications.customer_recipients(req), request=req)
    return req


@transaction.atomic
def request_close_reevaluation_window(*, request_id: int) -> ReassessmentRequest:
    """System: the re-evaluation window passed unused; the rejection becomes final."""
    req = _lock(request_id)
    ensure_allowed(req, "close_reevaluation_window", None)
    at = now()
    from_state = req.state
    req.close_reevaluation_window()
    req.save()
    _audit(req, "close_reevaluation_window", None, from_state=from_state, at=at)
    return req


@transaction.atomic
def request_claim_reevaluation(*, request_id: int, actor: Any) -> ReassessmentRequest:
    """A senior reviewer (not the one who decided cycle 1) takes the re-evaluation."""
    req = _lock(request_id)
    ensure_allowed(req, "claim_reevaluation", actor)
    at = now()
    from_state = req.state
    req.claim_reevaluation(by=actor)
    req.save()
    _audit(req, "claim_reevaluation", actor, from_state=from_state, at=at)
    return req


@transaction.atomic
def request_reject_final(*, request_id: int, actor: Any, reason_code: str, note: str = "") -> ReassessmentRequest:
    """The assigned senior reviewer rejects the re-evaluation: final and non-reversible."""
    req = _lock(request_id)
    ensure_allowed(req, "reject_final", actor)
    reason = _clean_reason(reason_code)
    internal_note = note.strip() if isinstance(note, str) else ""
    at = now()
    from_state = req.state
    req.reject_final(at=at, by=actor, reason_code=reason)
    sla.cycle_stop(req, at=at, transition="reject_final")
    sla.record_first_response(req, at=at)
    req.save()
    if internal_note:
        Message.objects.create(request=req, author=actor, body=internal_note, internal=True, created_at=at)
    _audit(req, "reject_final", actor, from_state=from_state, at=at, note=internal_note, reason_code=reason)
    notifications.notify("request_rejected_final", to=notifications.customer_recipients(req), request=req)
    return req


@transaction.atomic
def request_withdraw(*, request_id: int, actor: Any, note: str = "") -> ReassessmentRequest:
    """The customer withdraws the request (final). Stops the running SLA cycle."""
    req = _lock(request_id)
    ensure_allowed(req, "withdraw", actor)
    at = now()
    from_state = req.state
    req.withdraw()
    sla.cycle_stop(req, at=at, transition="withdraw")
    req.save()
    _audit(req, "withdraw", actor, from_state=from_state, at=at, note=note.strip() if isinstance(note, str) else "")
    if from_state != State.DRAFT:
        notifications.notify("request_withdrawn", to=notifications.customer_recipients(req), request=req)
    return req


# --- messages ------------------------------------------------------------------------------------


@transaction.atomic
def message_post(*, request_id: int, actor: Any, body: str, internal: bool = False) -> Message:
    """A customer's message, a staff reply (public) or a staff internal note.

    Members of the accounts team write as staff; account members write as the customer.
    """
    req = _lock(request_id)
    as_staff = is_agent(actor)
    if not as_staff and not is_customer_of(actor, req):
        if is_staff_member(actor):
            raise ActorNotAllowed("Only the accounts team writes on requests.")
        raise RequestNotFound("No such request.")
    if internal and not as_staff:
        raise ActorNotAllowed("Only the accounts team writes internal notes.")
    text = _clean_text(body, "body", required="Write a message.")
    if not internal:
        if req.state == State.DRAFT:
            raise StateConflict("Messages can be sent once the request is submitted.")
        if req.is_final and not as_staff:
            raise StateConflict("This request is closed; messages can no longer be added.")
    at = now()
    message = Message.objects.create(request=req, author=actor, body=text, internal=internal, created_at=at)
    if as_staff and not internal:
        if not req.is_final:
            # The first-response figure lives on the request row, which is read-only once final.
            sla.record_first_response(req, at=at)
            req.save(update_fields=["first_response_at", "updated_at"])
        notifications.notify(
            "staff_message", to=notifications.customer_recipients(req), request=req, context={"message": text}
        )
    elif not as_staff and req.assignee_id:
        notifications.notify(
            "customer_replied", to=notifications.user_recipients(req.assignee), request=req, context={"message": text}
        )
    return message


# --- SLA events (called by the sweep) ---------------------------------------------------------------


def sla_event_recipients(req: ReassessmentRequest, kind: str) -> list[str]:
    from accounts.roles import ACCOUNTS_TEAM

    if kind == "at_risk":
        if req.assignee_id:
            return notifications.user_recipients(req.assignee)
        team = notifications.group_recipients(ACCOUNTS_TEAM)
        return team + ([settings.SLA_TEAM_EMAIL] if settings.SLA_TEAM_EMAIL else [])
    return notifications.group_recipients(MANAGERS)


__all__ = [
    "available_transitions",
    "ensure_allowed",
    "message_post",
    "request_approve",
    "request_auto_reject",
    "request_claim",
    "request_claim_reevaluation",
    "request_close_reevaluation_window",
    "request_create_draft",
    "request_expire_info_request",
    "request_provide_info",
    "request_reject",
    "request_reject_final",
    "request_request_info",
    "request_request_reevaluation",
    "request_submit",
    "request_update_draft",
    "request_withdraw",
]
