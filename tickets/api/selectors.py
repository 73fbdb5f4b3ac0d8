"""Reads for the API: querysets with everything a page needs loaded up front, and the derived
parts of a request's representation (customer timeline, message authors, available actions).

Nothing here runs a query per row: list pages compute SLA status and actions in Python from the
loaded fields, so the number of queries does not grow with the page size.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db.models import F, Prefetch, QuerySet
from django.urls import reverse
from django_fsm import can_proceed

from accounts.models import Restriction, RiskSignal, accounts_for_user
from tickets import services
from tickets.errors import InvalidInput, RequestNotFound
from tickets.models import Evidence, Message, ReassessmentRequest, RequestTransition, SlaStatus, State

CUSTOMER_ACTIONS = ("submit", "provide_info", "request_reevaluation", "withdraw")
STAFF_ACTIONS = ("claim", "request_info", "approve", "reject", "claim_reevaluation", "reject_final")

# Plain labels for the customer's timeline. System decisions read like any other decision: the
# customer never learns that a rejection was automatic or why it happened.
CUSTOMER_TIMELINE = {
    "create": ("create", "Draft created"),
    "submit": ("submit", "Submitted"),
    "claim": ("claim", "Review started"),
    "request_info": ("request_info", "Information requested"),
    "provide_info": ("provide_info", "Information provided"),
    "expire_info_request": ("reject", "Rejected"),
    "approve": ("approve", "Approved"),
    "reject": ("reject", "Rejected"),
    "auto_reject": ("reject", "Rejected"),
    "request_reevaluation": ("request_reevaluation", "Re-evaluation requested"),
    "close_reevaluation_window": ("close_reevaluation_window", "Re-evaluation window closed"),
    "claim_reevaluation": ("claim_reevaluation", "Re-evaluation started"),
    "reject_final": ("reject_final", "Rejected"),
    "withdraw": ("withdraw", "Withdrawn"),
    "add_evidence": ("add_evidence", "Evidence added"),
}
STAFF_TIMELINE_LABELS = {**services.TRANSITION_LABELS, "create": "Draft created", "add_evidence": "Evidence added"}
ACCOUNTS_TEAM_NAME = "Accounts team"

CUSTOMER_ORDERING = {
    "created_at": ("created_at", "pk"),
    "submitted_at": ("submitted_at", "pk"),
    "updated_at": ("updated_at", "pk"),
    "sla_target_at": ("sla_target_at", "pk"),
    "sla_breach_at": ("sla_breach_at", "pk"),
    "reference": ("reference",),
    "state": ("state", "pk"),
}


# --- querysets ------------------------------------------------------------------------------------


def customer_requests(user: Any) -> QuerySet[ReassessmentRequest]:
    return ReassessmentRequest.objects.filter(account__in=accounts_for_user(user)).select_related("account")


def staff_requests() -> QuerySet[ReassessmentRequest]:
    return ReassessmentRequest.objects.select_related("account", "assignee")


def with_detail(qs: QuerySet[ReassessmentRequest], *, staff: bool) -> QuerySet[ReassessmentRequest]:
    """Everything the detail representation reads, in a fixed number of queries."""
    messages = Message.objects.select_related("author").order_by("created_at", "pk")
    transitions = RequestTransition.objects.order_by("created_at", "pk")
    if not staff:
        messages = messages.filter(internal=False)
    else:
        transitions = transitions.select_related("actor")
    evidence = Evidence.objects.order_by("uploaded_at", "pk")
    if staff:
        evidence = evidence.select_related("uploaded_by")
    prefetches: list[Any] = [
        Prefetch("evidence", queryset=evidence),
        Prefetch("messages", queryset=messages),
        Prefetch("transitions", queryset=transitions),
        "account__members",
    ]
    if staff:
        prefetches += [
            "screening_flags",
            "lifted_restrictions",
            Prefetch("account__restrictions", queryset=Restriction.objects.order_by("-applied_at", "-pk")),
            Prefetch("account__risk_signals", queryset=RiskSignal.objects.order_by("-recorded_at", "-pk")),
        ]
        qs = qs.select_related("account__owner", "account__parent", "decided_by", "cycle1_decided_by")
    return qs.prefetch_related(*prefetches)


def get_customer_request(user: Any, reference: str, *, detail: bool = True) -> ReassessmentRequest:
    """The request if it belongs to one of the user's accounts; otherwise the same 404 as for a
    request that does not exist."""
    qs = customer_requests(user).filter(reference=reference)
    if detail:
        qs = with_detail(qs, staff=False)
    req = qs.first()
    if req is None:
        raise RequestNotFound("No such request.")
    return req


def get_staff_request(reference: str, *, detail: bool = True) -> ReassessmentRequest:
    qs = staff_requests().filter(reference=reference)
    if detail:
        qs = with_detail(qs, staff=True)
    req = qs.first()
    if req is None:
        raise RequestNotFound("No such request.")
    return req


# --- filters and ordering ---------------------------------------------------------------------------


def apply_filters(
    qs: QuerySet[ReassessmentRequest], params: Any, *, user: Any, now: datetime, staff: bool
) -> QuerySet[ReassessmentRequest]:
    errors: dict[str, list[str]] = {}
    state = (params.get("state") or "").strip()
    if state:
        states = [s.strip() for s in state.split(",") if s.strip()]
        unknown = [s for s in states if s not in State.values]
        if unknown:
            errors["state"] = [f"Unknown state {', '.join(unknown)}; use one of {', '.join(State.values)}."]
        else:
            qs = qs.filter(state__in=states)
    sla_status = (params.get("sla_status") or "").strip()
    if sla_status:
        if sla_status not in SlaStatus.values:
            errors["sla_status"] = [f"Unknown SLA status; use one of {', '.join(SlaStatus.values)}."]
        else:
            qs = qs.filter_sla_status(sla_status, now)
    account = (params.get("account") or "").strip()
    if account:
        if not account.isdigit():
            errors["account"] = ["Give the account's numeric id."]
        else:
            qs = qs.filter(account_id=int(account))
    if staff:
        assignee = (params.get("assignee") or "").strip()
        if assignee == "me":
            qs = qs.filter(assignee=user)
        elif assignee == "none":
            qs = qs.filter(assignee__isnull=True)
        elif assignee:
            if not assignee.isdigit():
                errors["assignee"] = ["Use a user id, `me` or `none`."]
            else:
                qs = qs.filter(assignee_id=int(assignee))
    if errors:
        raise InvalidInput(errors)
    return qs


def apply_ordering(
    qs: QuerySet[ReassessmentRequest], value: str | None, *, default: str
) -> QuerySet[ReassessmentRequest]:
    value = (value or default).strip()
    descending = value.startswith("-")
    key = value.lstrip("-")
    if key not in CUSTOMER_ORDERING:
        raise InvalidInput({"ordering": [f"Order by one of {', '.join(CUSTOMER_ORDERING)} (prefix - to reverse)."]})
    columns = CUSTOMER_ORDERING[key]
    # Empty deadlines (drafts, paused cycles) go last either way.
    return qs.order_by(
        *(F(c).desc(nulls_last=True) if descending else F(c).asc(nulls_last=True) for c in columns)
    )


ORDERING_CHOICES = [f"{prefix}{key}" for key in CUSTOMER_ORDERING for prefix in ("", "-")]


# --- derived parts ------------------------------------------------------------------------------------


def _action(req: ReassessmentRequest, name: str, *, staff: bool) -> dict[str, str]:
    kebab = name.replace("_", "-")
    route = f"api:staff-request-{kebab}" if staff else f"api:request-{kebab}"
    return {
        "transition": name,
        "label": services.TRANSITION_LABELS[name],
        "url": reverse(route, kwargs={"reference": req.reference}),
    }


def customer_actions(req: ReassessmentRequest) -> list[dict[str, str]]:
    """What the customer may do now: the state and the transitions' own conditions (the
    re-evaluation window). The caller has established that the user is a customer of the request's
    account (it was found through their accounts), so this needs no query."""
    return [_action(req, name, staff=False) for name in CUSTOMER_ACTIONS if can_proceed(getattr(req, name))]


def staff_actions(req: ReassessmentRequest, user: Any) -> list[dict[str, str]]:
    """What this staff member may do now (role, state, assignee, own cycle-1 decision)."""
    return [_action(req, name, staff=True) for name in STAFF_ACTIONS if services.actor_may(req, name, user)]


def display_name(user: Any) -> str:
    if user is None:
        return ""
    return user.get_full_name() or user.get_username()


def customer_ids(req: ReassessmentRequest) -> set[int]:
    """The account's owner and members (prefetched)."""
    return {req.account.owner_id, *(member.pk for member in req.account.members.all())}


def message_author_name(message: Message, customers: set[int]) -> str:
    """Customers see a teammate's name, or "Accounts team" for anyone on staff."""
    if message.author_id is not None and message.author_id in customers:
        return display_name(message.author)
    return ACCOUNTS_TEAM_NAME


def customer_timeline(req: ReassessmentRequest) -> list[dict[str, Any]]:
    entries = []
    for row in req.transitions.all():
        transition, label = CUSTOMER_TIMELINE.get(row.transition, (row.transition, row.transition.replace("_", " ")))
        entries.append(
            {"transition": transition, "label": label, "from": row.from_state, "to": row.to_state, "at": row.created_at}
        )
    return entries


def staff_timeline(req: ReassessmentRequest) -> list[dict[str, Any]]:
    return [
        {
            "id": row.pk,
            "transition": row.transition,
            "label": STAFF_TIMELINE_LABELS.get(row.transition, row.transition),
            "from": row.from_state,
            "to": row.to_state,
            "at": row.created_at,
            "actor": row.actor,
            "note": row.note,
            "reason_code": row.reason_code or None,
            "sla_cycle": row.sla_cycle,
        }
        for row in req.transitions.all()
    ]
