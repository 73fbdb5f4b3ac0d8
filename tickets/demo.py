"""Demo data: users for every role, accounts with restrictions and risk signals, requests in every
state (made through the services, back-dated with the clock), and bulk rows for benchmarks."""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import connection, transaction
from django.utils import timezone

from accounts.models import Account, Restriction, RiskSignal
from accounts.roles import ACCOUNTS_TEAM, COMPLIANCE, MANAGERS, SENIOR_REVIEWERS

from . import clock, services, sla
from .models import Outcome, ReasonCode, ReassessmentRequest, SlaEventKind, SlaStatus, State

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
#
# A million requests cannot go through the services (each one is a dozen queries), so the bulk path
# writes the same rows the services would have written, straight to the tables: COPY on PostgreSQL
# (psycopg 3 `cursor.copy()`), `executemany` in one transaction per batch on SQLite. Every request
# comes with its audit trail, its SLA cycles, the SLA events that already fired, two evidence links
# and a message, so list pages, reports and the sweep see realistic data. References are reserved
# with `services.next_references`, so later real submissions continue the numbering.

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
SLOT = timedelta(minutes=30)
BULK_ACCOUNT_PREFIX = "Bulk account "

REQUEST_COLUMNS = [
    "id", "reference", "account_id", "created_by_id", "state", "assignee_id", "company_name", "company_website",
    "use_case", "use_case_details", "services", "sample_message", "destination_countries",
    "estimated_monthly_units", "estimated_monthly_spend", "reevaluation_details", "sla_cycle",
    "sla_clock_started_at", "sla_at_risk_at", "sla_target_at", "sla_breach_at", "sla_paused_at", "sla_stopped_at",
    "sla_used_before_pause", "sla_next_event", "sla_next_event_at", "info_requested_at", "info_due_at",
    "info_reminder_sent", "reevaluation_due_at", "submitted_at", "first_response_at", "decided_at", "decided_by_id",
    "cycle1_decided_by_id", "decision_outcome", "reason_code", "auto_rejected", "rejected_at",
    "reevaluation_requested_at", "screened_at", "created_at", "updated_at",
]  # fmt: skip
TRANSITION_COLUMNS = ["request_id", "transition", "from_state", "to_state", "actor_id", "note", "reason_code",
                      "sla_cycle", "created_at"]  # fmt: skip
CYCLE_COLUMNS = ["request_id", "number", "started_at", "target_at", "breach_at", "paused_at", "paused_seconds",
                 "paused_business_seconds", "first_response_at", "first_response_business_seconds", "stopped_at",
                 "stop_transition",
                 "business_seconds_used", "result"]  # fmt: skip
EVENT_COLUMNS = ["request_id", "cycle", "kind", "due_at", "fired_at"]
EVIDENCE_COLUMNS = ["request_id", "kind", "file", "url", "original_name", "content_type", "size", "sha256",
                    "uploaded_by_id", "uploaded_at"]  # fmt: skip
MESSAGE_COLUMNS = ["request_id", "author_id", "body", "internal", "created_at"]


_SQLITE_TIMES: dict[datetime, str] = {}


class _BulkTables:
    """Rows per table for one batch, and the backend-specific way to write them."""

    TABLES = {
        "tickets_reassessmentrequest": REQUEST_COLUMNS,
        "tickets_requesttransition": TRANSITION_COLUMNS,
        "tickets_slacycle": CYCLE_COLUMNS,
        "tickets_slaevent": EVENT_COLUMNS,
        "tickets_evidence": EVIDENCE_COLUMNS,
        "tickets_message": MESSAGE_COLUMNS,
    }

    def __init__(self) -> None:
        self.postgres = connection.vendor == "postgresql"
        self.rows: dict[str, list[tuple[Any, ...]]] = {table: [] for table in self.TABLES}

    def dt(self, value: datetime | None) -> Any:
        """PostgreSQL takes aware datetimes; Django stores naive UTC text in SQLite (memoised:
        bulk times sit on a half-hour grid and repeat)."""
        if value is None or self.postgres:
            return value
        text = _SQLITE_TIMES.get(value)
        if text is None:
            text = _SQLITE_TIMES[value] = str(value.astimezone(UTC).replace(tzinfo=None))
        return text

    def reserve_ids(self, count: int) -> list[int]:
        with connection.cursor() as cursor:
            if self.postgres:
                cursor.execute(
                    "SELECT nextval(pg_get_serial_sequence('tickets_reassessmentrequest', 'id')) "
                    "FROM generate_series(1, %s)",
                    [count],
                )
                return [row[0] for row in cursor.fetchall()]
            # SQLite transactions here are IMMEDIATE (settings), so nobody else inserts meanwhile.
            cursor.execute("SELECT COALESCE(MAX(id), 0) FROM tickets_reassessmentrequest")
            first = cursor.fetchone()[0] + 1
            return list(range(first, first + count))

    def flush(self) -> int:
        written = 0
        if self.postgres:
            connection.ensure_connection()
            raw = connection.connection  # the psycopg 3 connection under Django's wrapper
            with raw.cursor() as cursor:
                # The rows are consistent by construction, so skip the per-row foreign key
                # triggers for this transaction when allowed (a superuser, as on the bench box);
                # otherwise they simply run.
                cursor.execute("SAVEPOINT bulk_role")
                try:
                    cursor.execute("SET LOCAL session_replication_role = replica")
                    cursor.execute("RELEASE SAVEPOINT bulk_role")
                except Exception:  # noqa: BLE001 - psycopg.errors.InsufficientPrivilege and kin
                    cursor.execute("ROLLBACK TO SAVEPOINT bulk_role")
                for table, columns in self.TABLES.items():
                    rows = self.rows[table]
                    if not rows:
                        continue
                    with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                        for row in rows:
                            copy.write_row(row)
                    written += len(rows)
        else:
            with connection.cursor() as cursor:
                for table, columns in self.TABLES.items():
                    rows = self.rows[table]
                    if not rows:
                        continue
                    marks = ", ".join(["%s"] * len(columns))
                    sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})"  # noqa: S608 - constant names
                    cursor.executemany(sql, rows)
                    written += len(rows)
        for rows in self.rows.values():
            rows.clear()
        return written


def _bulk_people(count: int) -> tuple[list[tuple[int, int]], list[int]]:
    """(account id, owner id) pairs to spread requests over (about 1,000 requests an account, at
    most 1,000 accounts), and the agents who review them. Created once, reused by later runs."""
    user_model = get_user_model()
    wanted = max(1, min(1000, count // 1000))
    existing = list(
        Account.objects.filter(name__startswith=BULK_ACCOUNT_PREFIX).order_by("pk").values_list("pk", "owner_id")
    )
    if len(existing) < wanted:
        start = len(existing)
        names = [f"bulk{n:04d}" for n in range(start, wanted)]
        user_model.objects.bulk_create(
            [user_model(username=name, email=f"{name}@bulk.casemgr.local", password="!")  # noqa: S106 - unusable
             for name in names],
            ignore_conflicts=True,
        )
        owners = dict(user_model.objects.filter(username__in=names).values_list("username", "pk"))
        Account.objects.bulk_create(
            [Account(name=f"{BULK_ACCOUNT_PREFIX}{n:04d}", owner_id=owners[f"bulk{n:04d}"], country="US")
             for n in range(start, wanted)]
        )  # fmt: skip
        existing = list(
            Account.objects.filter(name__startswith=BULK_ACCOUNT_PREFIX).order_by("pk").values_list("pk", "owner_id")
        )
    agents = list(user_model.objects.filter(groups__name=ACCOUNTS_TEAM).order_by("pk").values_list("pk", flat=True))
    if not agents:
        agent = _user("bulk-agent", "Bulk Agent", staff=True)
        agent.groups.add(Group.objects.get(name=ACCOUNTS_TEAM))
        agents = [agent.pk]
    return existing, agents


class _Deadlines:
    """SLA deadlines for clocks started on a half-hour grid: the calendar walk is the slow part,
    and a grid makes it repeat, so each start is computed once."""

    def __init__(self) -> None:
        self._cache: dict[datetime, tuple[datetime, datetime, datetime]] = {}

    def __call__(self, started: datetime) -> tuple[datetime, datetime, datetime]:
        if started not in self._cache:
            self._cache[started] = sla._deadlines(started, 0.0)
        return self._cache[started]


class _BusinessClock:
    """Business seconds between two instants of the half-hour grid, from a running total per slot.

    Slots start on the UTC half hour, and SLA_TIMEZONE offsets are whole or half hours, so a slot
    never straddles a local midnight: it counts 1,800 business seconds on a business day and none
    otherwise. Off-grid instants fall back to the calendar walk in `sla`."""

    def __init__(self) -> None:
        self._total: dict[datetime, float] = {}
        self._anchor: datetime | None = None
        self._last: datetime | None = None

    def _upto(self, at: datetime) -> float | None:
        if self._anchor is None:
            self._anchor = self._last = at - timedelta(days=800)
            self._total[self._anchor] = 0.0
        if at < self._anchor or (at - self._anchor) % SLOT:
            return None
        while self._last < at:
            day = self._last.astimezone(sla.sla_zone()).date()
            self._total[self._last + SLOT] = self._total[self._last] + (1800.0 if sla.is_business_day(day) else 0.0)
            self._last += SLOT
        return self._total[at]

    def between(self, start: datetime, end: datetime) -> float:
        first, last = self._upto(start), self._upto(end)
        if first is None or last is None:
            return sla.business_seconds_between(start, end)
        return last - first


def _stopped_result(stopped: datetime, target: datetime, breach: datetime) -> str:
    if stopped <= target:
        return SlaStatus.MET
    return SlaStatus.LATE if stopped <= breach else SlaStatus.MISSED


def _add_request(
    tables: _BulkTables,
    *,
    pk: int,
    reference: str,
    state: str,
    submitted: datetime,
    decided: datetime,
    account: tuple[int, int],
    agent: int,
    senior: int,
    now: datetime,
    deadlines: _Deadlines,
    business: _BusinessClock,
) -> None:
    """Append one request in `state` and everything the services would have written with it."""
    dt = tables.dt
    account_id, owner_id = account
    claimed = submitted + SLOT
    transitions: list[tuple[str, str, str, int | None, datetime, int, str]] = [
        ("submit", State.DRAFT, State.SUBMITTED, owner_id, submitted, 1, "")
    ]
    at_risk, target, breach = deadlines(submitted)
    cycle1_stop: tuple[datetime, str] | None = None
    cycle2: tuple[datetime, datetime, datetime, datetime] | None = None
    cycle2_stop: tuple[datetime, str] | None = None
    assignee: int | None = None
    decided_by: int | None = None
    cycle1_decided_by: int | None = None
    decided_at: datetime | None = None
    rejected_at: datetime | None = None
    reeval_requested: datetime | None = None
    reeval_due: datetime | None = None
    info_requested: datetime | None = None
    info_due: datetime | None = None
    paused: datetime | None = None
    first_response: datetime | None = None
    outcome = reason = reeval_details = ""
    sla_cycle = 1
    if state != State.SUBMITTED and state != State.WITHDRAWN:
        assignee = agent
        transitions.append(("claim", State.SUBMITTED, State.IN_REVIEW, agent, claimed, 1, ""))
    if state == State.WITHDRAWN:
        transitions.append(("withdraw", State.SUBMITTED, State.WITHDRAWN, owner_id, decided, 1, ""))
        cycle1_stop = (decided, "withdraw")
    elif state == State.AWAITING_CUSTOMER:
        info_requested = first_response = decided
        info_due = decided + timedelta(days=settings.INFO_REQUEST_DAYS)
        paused = decided
        transitions.append(("request_info", State.IN_REVIEW, State.AWAITING_CUSTOMER, agent, decided, 1, ""))
    elif state == State.APPROVED:
        outcome, decided_by, decided_at, first_response = Outcome.LIFTED, agent, decided, decided
        transitions.append(("approve", State.IN_REVIEW, State.APPROVED, agent, decided, 1, ""))
        cycle1_stop = (decided, "approve")
    elif state in (State.REJECTED, State.REJECTED_FINAL, State.IN_REEVALUATION):
        reason = ReasonCode.INSUFFICIENT_DETAILS
        decided_by = cycle1_decided_by = agent
        decided_at = rejected_at = first_response = decided
        transitions.append(("reject", State.IN_REVIEW, State.REJECTED, agent, decided, 1, reason))
        cycle1_stop = (decided, "reject")
        reeval_due = decided + timedelta(days=settings.REEVALUATION_WINDOW_DAYS)
        if state != State.REJECTED:
            sla_cycle = 2
            reeval_requested = decided + 2 * SLOT
            reeval_details = "We attached our registration certificate."
            reeval_due = None
            assignee = senior
            c2_risk, c2_target, c2_breach = deadlines(reeval_requested)
            cycle2 = (reeval_requested, c2_risk, c2_target, c2_breach)
            transitions.append(
                ("request_reevaluation", State.REJECTED, State.REEVALUATION_REQUESTED, owner_id,
                 reeval_requested, 2, "")
            )
            transitions.append(
                ("claim_reevaluation", State.REEVALUATION_REQUESTED, State.IN_REEVALUATION, senior,
                 reeval_requested + SLOT, 2, "")
            )  # fmt: skip
            decided_by, decided_at = None, None
            if state == State.REJECTED_FINAL:
                final_at = reeval_requested + (decided - submitted)
                decided_by, decided_at = senior, final_at
                transitions.append(
                    ("reject_final", State.IN_REEVALUATION, State.REJECTED_FINAL, senior, final_at, 2, reason)
                )
                cycle2_stop = (final_at, "reject_final")

    # The request's current cycle: its deadlines, and where the sweep's cursor stands.
    if cycle2 is not None:
        started, risk_now, target_now, breach_now = cycle2
        stop_now = cycle2_stop
    else:
        started, risk_now, target_now, breach_now = submitted, at_risk, target, breach
        stop_now = cycle1_stop
    next_event, next_event_at = "", None
    events: list[tuple[str, datetime]] = []
    if stop_now is None and paused is None:
        for kind, due in ((SlaEventKind.AT_RISK, risk_now), (SlaEventKind.OVERDUE, target_now),
                          (SlaEventKind.BREACHED, breach_now)):  # fmt: skip
            if due < now:
                events.append((kind, due))  # fired already, as a running sweep would have done
            else:
                next_event, next_event_at = kind, due
                break
    last_change = max(t[4] for t in transitions)
    tables.rows["tickets_reassessmentrequest"].append((
        pk, reference, account_id, owner_id, state, assignee, f"Bulk company {reference[-7:]}",
        "https://bulk.example", "otp", "", '["sms"]', "Your code is 123456. Reply STOP to opt out.", '["US"]',
        1000, "100.00", reeval_details, sla_cycle,
        dt(started), dt(None if paused else risk_now), dt(None if paused else target_now),
        dt(None if paused else breach_now), dt(paused), dt(stop_now[0] if stop_now else None),
        float((paused - submitted).total_seconds()) if paused else 0.0, next_event, dt(next_event_at),
        dt(info_requested), dt(info_due), bool(info_due and info_due <= now + timedelta(days=4)),
        dt(reeval_due), dt(submitted), dt(first_response), dt(decided_at), decided_by, cycle1_decided_by,
        outcome, reason, False, dt(rejected_at), dt(reeval_requested),
        dt(submitted), dt(submitted - timedelta(minutes=5)), dt(last_change),
    ))  # fmt: skip
    for name, source, target_state, actor, at, cycle, code in transitions:
        tables.rows["tickets_requesttransition"].append(
            (pk, name, source, target_state, actor, "", code, cycle, dt(at))
        )
    if cycle1_stop is not None:
        stop_at, stop_name = cycle1_stop
        used = business.between(submitted, stop_at)
        tables.rows["tickets_slacycle"].append((
            pk, 1, dt(submitted), dt(target), dt(breach), None, 0.0, 0.0, dt(first_response or None),
            business.between(submitted, first_response) if first_response else None, dt(stop_at), stop_name, used,
            _stopped_result(stop_at, target, breach),
        ))  # fmt: skip
    else:
        tables.rows["tickets_slacycle"].append((
            pk, 1, dt(submitted), dt(None if paused else target), dt(None if paused else breach), dt(paused), 0.0,
            0.0, dt(first_response), business.between(submitted, first_response) if first_response else None, None,
            "", None, "",
        ))  # fmt: skip
    if cycle2 is not None:
        c2_start, _, c2_target, c2_breach = cycle2
        tables.rows["tickets_slacycle"].append((
            pk, 2, dt(c2_start), dt(c2_target), dt(c2_breach), None, 0.0, 0.0, None, None,
            dt(cycle2_stop[0] if cycle2_stop else None), cycle2_stop[1] if cycle2_stop else "",
            business.between(c2_start, cycle2_stop[0]) if cycle2_stop else None,
            _stopped_result(cycle2_stop[0], c2_target, c2_breach) if cycle2_stop else "",
        ))  # fmt: skip
    for kind, due in events:
        tables.rows["tickets_slaevent"].append((pk, sla_cycle, kind, dt(due), dt(due)))
    uploaded = dt(submitted - timedelta(minutes=2))
    for n, kind in ((1, "certificate_of_incorporation"), (2, "app_screenshot")):
        tables.rows["tickets_evidence"].append(
            (pk, kind, "", f"https://bulk.example/evidence/{reference}/{n}", "", "", 0, "", owner_id, uploaded)
        )
    tables.rows["tickets_message"].append(
        (pk, owner_id, "We send one-time passcodes to our own customers only.", False, uploaded)
    )
    if info_requested is not None:
        tables.rows["tickets_message"].append(
            (pk, agent, "Please upload your certificate of incorporation.", False, dt(info_requested))
        )


def _reserve_references(submitted: list[datetime]) -> list[str]:
    """One reference per request, in the year of its submission (as `request_submit` does)."""
    by_year: dict[int, list[int]] = {}
    for index, at in enumerate(submitted):
        by_year.setdefault(services.reference_year(at), []).append(index)
    references = [""] * len(submitted)
    for year, indexes in sorted(by_year.items()):
        for index, reference in zip(indexes, services.next_references(year, len(indexes)), strict=True):
            references[index] = reference
    return references


def bulk_requests(count: int, *, batch_size: int = 5000, seed: int = 42, write: Callable[[str], None] = print) -> int:
    """Insert `count` requests in every state with their audit rows, SLA cycles, fired SLA events,
    two evidence links and a message each. Decided requests are spread over the last year; open
    ones over the last two weeks (so the SLA sweep finds realistic work, not a year of backlog).
    Deadlines use the real business calendar. Returns how many requests were inserted."""
    return _bulk_insert(count, batch_size=batch_size, seed=seed, write=write)


def bulk_due_requests(count: int, *, now: datetime, seed: int = 7) -> int:
    """`count` requests in review whose `at_risk` event is due at `now` and has not fired yet:
    the load for a sweep that fires `count` events (the benchmark's busy sweep)."""
    return _bulk_insert(count, batch_size=5000, seed=seed, write=lambda _: None, due_at=now)


def _bulk_insert(
    count: int,
    *,
    batch_size: int,
    seed: int,
    write: Callable[[str], None],
    due_at: datetime | None = None,
) -> int:
    rng = random.Random(seed)
    accounts, agents = _bulk_people(count)
    seniors = list(
        get_user_model().objects.filter(groups__name=SENIOR_REVIEWERS).order_by("pk").values_list("pk", flat=True)
    ) or agents
    population = [state for state, weight in BULK_STATES for _ in range(weight)]
    now = timezone.now()
    slot_base = now.replace(minute=0, second=0, microsecond=0)
    deadlines = _Deadlines()
    business = _BusinessClock()
    due_submitted: datetime | None = None
    if due_at is not None:
        # A clock started just far enough back that at_risk has passed and the target has not.
        due_submitted = (due_at - timedelta(days=3)).replace(minute=0, second=0, microsecond=0)
        while not deadlines(due_submitted)[0] < due_at:
            due_submitted -= SLOT
        if not due_at < deadlines(due_submitted)[1]:
            raise RuntimeError(f"no clock start has an at_risk event due at {due_at} without being overdue")
    made = 0
    reported = 0
    while made < count:
        n = min(batch_size, count - made)
        tables = _BulkTables()
        plan: list[tuple[str, datetime, datetime]] = []
        for _ in range(n):
            if due_submitted is not None:
                state, submitted = State.IN_REVIEW, due_submitted
            else:
                state = rng.choice(population)
                if state == State.AWAITING_CUSTOMER:
                    # Asked recently: the customer still has days to answer, so no expiry is due.
                    submitted = slot_base - SLOT * rng.randint(8, 9 * 48)
                elif state in OPEN_BULK:
                    # Open requests are recent: at most two weeks (a working queue, not a year's).
                    submitted = slot_base - SLOT * rng.randint(8, 14 * 48)
                elif state == State.REJECTED:
                    # Still inside the re-evaluation window, as a live system would hold them.
                    submitted = slot_base - SLOT * rng.randint(24 * 48 // 2, 24 * 48)
                else:
                    submitted = slot_base - SLOT * rng.randint(30 * 48, 365 * 48)
            if state in OPEN_BULK:
                decided = submitted + SLOT * rng.randint(2, 4)
            else:
                decided = submitted + SLOT * rng.randint(8, 24 * 2 * 10)
                decided = min(decided, now - SLOT * 4)
            plan.append((state, submitted, decided))
        with transaction.atomic():
            references = _reserve_references([submitted for _, submitted, _ in plan])
            ids = tables.reserve_ids(n)
            for pk, reference, (state, submitted, decided) in zip(ids, references, plan, strict=True):
                _add_request(
                    tables,
                    pk=pk,
                    reference=reference,
                    state=state,
                    submitted=submitted,
                    decided=decided,
                    account=accounts[rng.randrange(len(accounts))],
                    agent=agents[rng.randrange(len(agents))],
                    senior=seniors[rng.randrange(len(seniors))],
                    now=due_at + timedelta(seconds=1) if due_at is not None else now,
                    deadlines=deadlines,
                    business=business,
                )
            if due_at is not None:
                # The benchmark wants these events still to fire: drop the "already fired" rows and
                # point each cursor at its at_risk event.
                tables.rows["tickets_slaevent"].clear()
                requests = tables.rows["tickets_reassessmentrequest"]
                cursor_at = REQUEST_COLUMNS.index("sla_next_event")
                risk_at = REQUEST_COLUMNS.index("sla_at_risk_at")
                for index, row in enumerate(requests):
                    requests[index] = (*row[:cursor_at], SlaEventKind.AT_RISK, row[risk_at], *row[cursor_at + 2 :])
            tables.flush()
        made += n
        if made - reported >= 100_000 or made == count:
            reported = made
            write(f"  {made:,} / {count:,} requests")
    return made
