"""Demo data: users for every role, accounts with restrictions and risk signals, requests in every
state (made through the services, back-dated with the clock), and bulk rows for benchmarks."""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction
from django.utils import timezone

from accounts.models import Account, Restriction, RiskSignal
from accounts.roles import ACCOUNTS_TEAM, COMPLIANCE, MANAGERS, SENIOR_REVIEWERS

from . import clock, services, sla
from .models import ReassessmentRequest, RequestTransition, SlaCycle, State

DEMO_PASSWORD = "demo-pass-2026"  # noqa: S105 - printed for the demo on purpose

STAFF = [
    # username, name, groups, superuser
    ("admin", "Ada Admin", [], True),
    ("alice", "Alice Agent", [ACCOUNTS_TEAM], False),
    ("arthur", "Arthur Agent", [ACCOUNTS_TEAM], False),
    ("sam", "Sam Senior", [ACCOUNTS_TEAM, SENIOR_REVIEWERS], False),
    ("sofia", "Sofia Senior", [ACCOUNTS_TEAM, SENIOR_REVIEWERS], False),
    ("maria", "Maria Manager", [MANAGERS], False),
    ("colin", "Colin Compliance", [COMPLIANCE], False),
]
CUSTOMERS = [
    ("carla", "Carla Customer"),
    ("tom", "Tom Teammate"),
    ("isaac", "Isaac ISV"),
    ("zed", "Zed Zero"),
]

DETAILS = {
    "company_name": "Acme Logistics LLC",
    "company_website": "https://acme-logistics.example",
    "use_case": "order_tracking",
    "services": ["sms", "voice"],
    "sample_message": "Acme: your order 4411 is out for delivery today between 2 and 4 pm. Reply STOP to opt out.",
    "destination_countries": ["US", "CA"],
    "estimated_monthly_units": 25000,
    "estimated_monthly_spend": Decimal("420.00"),
}


def _user(username: str, full_name: str, *, staff: bool = False, superuser: bool = False) -> Any:
    user_model = get_user_model()
    first, _, last = full_name.partition(" ")
    user, _ = user_model.objects.get_or_create(
        username=username,
        defaults={"email": f"{username}@demo.casemgr.local", "first_name": first, "last_name": last},
    )
    user.is_staff = staff or superuser
    user.is_superuser = superuser
    user.set_password(DEMO_PASSWORD)
    user.save()
    return user


def seed_demo(write: Callable[[str], None] = print) -> dict[str, Any]:
    """Idempotent: users and passwords are reset; accounts and requests are created once."""
    people: dict[str, Any] = {}
    for username, name, groups, superuser in STAFF:
        user = _user(username, name, staff=True, superuser=superuser)
        user.groups.set(Group.objects.filter(name__in=groups))
        people[username] = user
    for username, name in CUSTOMERS:
        people[username] = _user(username, name)

    if not Account.objects.filter(name="Acme Logistics").exists():
        _seed_accounts_and_requests(people)

    write(f"Demo logins (password for all: {DEMO_PASSWORD}):")
    for username, name, groups, superuser in STAFF:
        role = "superuser" if superuser else ", ".join(groups)
        write(f"  {username:<8} {name:<18} staff: {role}")
    for username, name in CUSTOMERS:
        accounts = ", ".join(a.name for a in Account.objects.filter(owner=people[username]).order_by("pk"))
        member = ", ".join(a.name for a in people[username].member_accounts.order_by("pk"))
        write(f"  {username:<8} {name:<18} customer: {accounts or member}")
    return people


def _seed_accounts_and_requests(people: dict[str, Any]) -> None:
    acme = Account.objects.create(name="Acme Logistics", owner=people["carla"], country="US")
    acme.members.add(people["tom"])
    isv = Account.objects.create(name="Brandly (ISV)", owner=people["isaac"], is_isv=True, country="GB")
    pizza = Account.objects.create(name="Brandly: Pizza Co", owner=people["isaac"], parent=isv, country="GB")
    clinic = Account.objects.create(name="Brandly: City Clinic", owner=people["isaac"], parent=isv, country="GB")
    zero = Account.objects.create(name="Zero Deals Ltd", owner=people["zed"], country="US")

    for account, kind, source, detail in [
        (acme, "sms_blocked", "signup_risk", ""),
        (acme, "geo_blocked", "signup_risk", "CA, MX"),
        (isv, "hold_list", "signup_risk", ""),
        (pizza, "sender_id_suspended", "compliance_violation", "PIZZACO"),
        (clinic, "voice_blocked", "anomaly_review", ""),
        (zero, "account_suspended", "carrier_complaint", ""),
    ]:
        Restriction.objects.create(account=account, kind=kind, source=source, detail=detail)
    RiskSignal.objects.create(account=zero, kind="payment_flagged", note="Chargebacks reported by the processor.")

    alice, arthur, sam, sofia = people["alice"], people["arthur"], people["sam"], people["sofia"]
    carla, isaac, zed = people["carla"], people["isaac"], people["zed"]
    now = timezone.now()

    def at(days_ago: float) -> datetime:
        return now - timedelta(days=days_ago)

    def make(account: Account, owner: Any, days_ago: float, **details: Any) -> ReassessmentRequest:
        with clock.frozen(at(days_ago)):
            return services.request_create_draft(actor=owner, account=account, details={**DETAILS, **details})

    def step(days_ago: float, fn: Callable[..., ReassessmentRequest], **kwargs: Any) -> ReassessmentRequest:
        with clock.frozen(at(days_ago)):
            return fn(**kwargs)

    # A draft, and fresh, at-risk, overdue and breached submissions.
    make(acme, carla, 0.2, company_name="Acme Logistics LLC (draft)")
    # Submitted so many business days ago that each shows its SLA status now.
    statuses = [(0.5, "Acme fresh"), (4.5, "Acme at risk"), (6, "Acme overdue"), (8, "Acme breached")]
    for business_days_ago, name in statuses:
        submitted_at = sla.add_business_time(now, -business_days_ago * sla.DAY_SECONDS)
        days_ago = (now - submitted_at).total_seconds() / sla.DAY_SECONDS
        r = make(acme, carla, days_ago + 0.1, company_name=name)
        step(days_ago, services.request_submit, request_id=r.pk, actor=carla)
    # In review, claimed by Alice; and one by Arthur with a shortener in its sample (a screening flag).
    pizza_sample = "Pizza Co: 2-for-1 today! bit.ly/pz2 STOP to opt out"
    r = make(pizza, isaac, 3.1, company_name="Pizza Co", sample_message=pizza_sample)
    step(3, services.request_submit, request_id=r.pk, actor=isaac)
    step(2.5, services.request_claim, request_id=r.pk, actor=alice)
    r = make(clinic, isaac, 4.1, company_name="City Clinic", use_case="notifications", services=["voice"],
             sample_message="")
    step(4, services.request_submit, request_id=r.pk, actor=isaac)
    step(3.8, services.request_claim, request_id=r.pk, actor=arthur)
    # Awaiting the customer.
    r = make(acme, carla, 5.1, company_name="Acme awaiting")
    step(5, services.request_submit, request_id=r.pk, actor=carla)
    step(4.5, services.request_claim, request_id=r.pk, actor=alice)
    step(
        4,
        services.request_request_info,
        request_id=r.pk,
        actor=alice,
        message="Please upload your certificate of incorporation and a screenshot of your app.",
    )
    # Approved (limited), rejected, in re-evaluation, re-evaluation requested, final, withdrawn.
    r = make(acme, carla, 20, company_name="Acme approved")
    step(19.9, services.request_submit, request_id=r.pk, actor=carla)
    step(19, services.request_claim, request_id=r.pk, actor=alice)
    lift = list(acme.restrictions.filter(kind="sms_blocked").values_list("pk", flat=True))
    step(17, services.request_approve, request_id=r.pk, actor=alice, lift=lift, message="SMS is enabled again.")
    r = make(acme, carla, 10, company_name="Acme rejected")
    step(9.9, services.request_submit, request_id=r.pk, actor=carla)
    step(9, services.request_claim, request_id=r.pk, actor=arthur)
    step(7, services.request_reject, request_id=r.pk, actor=arthur, reason_code="unverifiable_business",
         note="Website shows a parked domain page.")
    r = make(pizza, isaac, 16, company_name="Pizza Co (second)")
    step(15.9, services.request_submit, request_id=r.pk, actor=isaac)
    step(15, services.request_claim, request_id=r.pk, actor=alice)
    step(13, services.request_reject, request_id=r.pk, actor=alice, reason_code="insufficient_details")
    step(6, services.request_request_reevaluation, request_id=r.pk, actor=isaac,
         details="We registered the sender ID with the carrier; the registration is attached.")
    step(5, services.request_claim_reevaluation, request_id=r.pk, actor=sam)
    r = make(clinic, isaac, 14, company_name="City Clinic (second)", use_case="notifications", services=["voice"],
             sample_message="")
    step(13.9, services.request_submit, request_id=r.pk, actor=isaac)
    step(13, services.request_claim, request_id=r.pk, actor=sam)
    step(11, services.request_reject, request_id=r.pk, actor=sam, reason_code="high_risk_use_case")
    step(2, services.request_request_reevaluation, request_id=r.pk, actor=isaac,
         details="All calls are appointment reminders to existing patients.")
    r = make(acme, carla, 40, company_name="Acme final")
    step(39.9, services.request_submit, request_id=r.pk, actor=carla)
    step(39, services.request_claim, request_id=r.pk, actor=arthur)
    step(37, services.request_reject, request_id=r.pk, actor=arthur, reason_code="unverifiable_business")
    step(30, services.request_request_reevaluation, request_id=r.pk, actor=carla, details="New evidence attached.")
    step(29, services.request_claim_reevaluation, request_id=r.pk, actor=sofia)
    step(26, services.request_reject_final, request_id=r.pk, actor=sofia, reason_code="unverifiable_business",
         note="Still no verifiable registration.")
    r = make(acme, carla, 9, company_name="Acme withdrawn")
    step(8.9, services.request_submit, request_id=r.pk, actor=carla)
    step(8, services.request_withdraw, request_id=r.pk, actor=carla)
    # Zero tolerance: the account has a payment-flagged signal, so screening rejects at once.
    r = make(zero, zed, 3, company_name="Zero Deals", use_case="marketing",
             sample_message="Get a payday loan today! tinyurl.com/zd")
    step(2.9, services.request_submit, request_id=r.pk, actor=zed)
    from .screening import screen_request

    with clock.frozen(at(2.9)):
        screen_request(request_id=r.pk)


# --- bulk rows for benchmarks ------------------------------------------------------------------------

BULK_STATES = [
    (State.SUBMITTED, 10),
    (State.IN_REVIEW, 15),
    (State.AWAITING_CUSTOMER, 5),
    (State.APPROVED, 35),
    (State.REJECTED, 5),
    (State.REJECTED_FINAL, 20),
    (State.WITHDRAWN, 5),
    (State.IN_REEVALUATION, 5),
]
OPEN_BULK = {State.SUBMITTED, State.IN_REVIEW, State.AWAITING_CUSTOMER, State.IN_REEVALUATION}


def bulk_requests(count: int, *, batch_size: int = 5000, seed: int = 42, write: Callable[[str], None] = print) -> int:
    """Insert `count` requests spread over the last year, in every state, with their audit rows and
    SLA cycles, using bulk inserts. Deadlines are computed with the real calendar."""
    rng = random.Random(seed)
    user_model = get_user_model()
    customer = user_model.objects.filter(username="carla").first() or _user("carla", "Carla Customer")
    agents = list(user_model.objects.filter(groups__name=ACCOUNTS_TEAM).distinct()[:10]) or [customer]
    account = Account.objects.filter(owner=customer).first() or Account.objects.create(name="Bulk", owner=customer)
    population = [state for state, weight in BULK_STATES for _ in range(weight)]
    now = timezone.now()
    slot_base = now.replace(minute=0, second=0, microsecond=0)
    deadlines: dict[datetime, tuple[datetime, datetime, datetime]] = {}
    made = 0
    while made < count:
        n = min(batch_size, count - made)
        with transaction.atomic():
            year = services.reference_year(now)
            references = services.next_references(year, n)
            rows = []
            for reference in references:
                state = rng.choice(population)
                # Half-hour slots, so deadlines (the slow part) repeat and can be cached.
                submitted = slot_base - timedelta(minutes=30 * rng.randint(1, 365 * 48))
                if submitted not in deadlines:
                    deadlines[submitted] = sla._deadlines(submitted, 0.0)  # noqa: SLF001
                at_risk, target, breach = deadlines[submitted]
                decided = submitted + timedelta(hours=rng.randint(4, 24 * 12))
                open_ = state in OPEN_BULK
                row = ReassessmentRequest(
                    reference=reference,
                    state=state,
                    account=account,
                    created_by=customer,
                    assignee=None if state == State.SUBMITTED else rng.choice(agents),
                    company_name=f"Bulk company {reference[-6:]}",
                    company_website="https://bulk.example",
                    use_case="otp",
                    services=["sms"],
                    sample_message="Your code is 123456",
                    destination_countries=["US"],
                    estimated_monthly_units=1000,
                    estimated_monthly_spend=Decimal("100.00"),
                    sla_cycle=2 if state == State.IN_REEVALUATION else 1,
                    sla_clock_started_at=submitted,
                    sla_at_risk_at=None if state == State.AWAITING_CUSTOMER else at_risk,
                    sla_target_at=None if state == State.AWAITING_CUSTOMER else target,
                    sla_breach_at=None if state == State.AWAITING_CUSTOMER else breach,
                    sla_paused_at=submitted + timedelta(hours=2) if state == State.AWAITING_CUSTOMER else None,
                    sla_stopped_at=None if open_ else decided,
                    submitted_at=submitted,
                    decided_at=None if open_ else decided,
                    decision_outcome="lifted" if state == State.APPROVED else "",
                    reason_code="insufficient_details" if state in (State.REJECTED, State.REJECTED_FINAL) else "",
                    info_due_at=submitted + timedelta(days=14) if state == State.AWAITING_CUSTOMER else None,
                    reevaluation_due_at=decided + timedelta(days=30) if state == State.REJECTED else None,
                    screened_at=submitted,
                    created_at=submitted - timedelta(minutes=5),
                )
                if open_ and state != State.AWAITING_CUSTOMER and breach < now:
                    # Old open rows already fired their events; keep the sweep's cursor clear.
                    row.sla_next_event, row.sla_next_event_at = "", None
                elif open_ and state != State.AWAITING_CUSTOMER:
                    row.sla_next_event, row.sla_next_event_at = "at_risk", at_risk
                rows.append(row)
            ReassessmentRequest.objects.bulk_create(rows, batch_size=1000)
            transitions = []
            cycles = []
            for row in rows:
                transitions.append(
                    RequestTransition(request=row, transition="submit", from_state="draft", to_state="submitted",
                                      actor=customer, created_at=row.submitted_at, sla_cycle=1)
                )
                cycles.append(
                    SlaCycle(request=row, number=1, started_at=row.submitted_at, target_at=row.sla_target_at,
                             breach_at=row.sla_breach_at, stopped_at=row.sla_stopped_at,
                             result=sla.sla_status_of(row, now) if row.sla_stopped_at else "")
                )
            RequestTransition.objects.bulk_create(transitions, batch_size=2000)
            SlaCycle.objects.bulk_create(cycles, batch_size=2000)
        made += n
        if made % 50_000 == 0 or made == count:
            write(f"  {made:,} / {count:,} requests")
    return made
