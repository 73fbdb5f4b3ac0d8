"""The bulk seeder writes what the services would: consistent rows that the sweep leaves alone."""

from __future__ import annotations

from datetime import timedelta

from django.db.models import Count
from django.utils import timezone

from accounts.models import Account
from tests.ops.conftest import make_due_requests
from tickets import services, sweep
from tickets.demo import BULK_STATES, bulk_requests
from tickets.models import (
    Evidence,
    Message,
    ReassessmentRequest,
    RequestTransition,
    SlaCycle,
    SlaEvent,
    State,
)


def test_bulk_requests_writes_every_state_with_its_audit_trail_cycles_evidence_and_messages(agent, senior) -> None:
    made = bulk_requests(400, batch_size=150, write=lambda _: None)
    assert made == 400
    requests = ReassessmentRequest.objects.filter(account__name__startswith="Bulk account ")
    assert requests.count() == 400
    assert set(requests.values_list("state", flat=True)) == {state for state, _ in BULK_STATES}
    assert Evidence.objects.filter(request__in=requests).count() == 800
    assert Message.objects.filter(request__in=requests).count() >= 400
    # Every request has an audit trail that starts with submit and ends in its state.
    for req in requests.prefetch_related("transitions", "sla_cycles"):
        trail = list(req.transitions.all())
        assert trail[0].transition == "submit"
        assert trail[-1].to_state == req.state
        assert [c.number for c in req.sla_cycles.all()] == list(range(1, req.sla_cycle + 1))
        if req.state in (State.APPROVED, State.REJECTED_FINAL, State.WITHDRAWN):
            assert req.sla_stopped_at is not None and req.sla_next_event == ""
            assert req.sla_cycles.get(number=req.sla_cycle).result in {"met", "late", "missed"}
    assert RequestTransition.objects.filter(request__in=requests).count() > 800
    assert SlaCycle.objects.filter(request__in=requests, stopped_at__isnull=False, result="").count() == 0


def test_bulk_references_are_unique_and_later_submissions_continue_the_numbering(agent, customer, account) -> None:
    bulk_requests(120, batch_size=50, write=lambda _: None)
    references = list(ReassessmentRequest.objects.values_list("reference", flat=True))
    assert len(references) == len(set(references))
    draft = services.request_create_draft(actor=customer, account=account, details={"company_name": "After"})
    assert draft.reference not in references[:-1]
    year = services.reference_year(timezone.now())
    same_year = [r for r in references if r.startswith(f"RR-{year}-") and r != draft.reference]
    assert draft.reference > max(same_year)


def test_a_sweep_right_after_bulk_seeding_has_nothing_to_do(agent, senior) -> None:
    bulk_requests(300, write=lambda _: None)
    events_before = SlaEvent.objects.count()
    result = sweep.run_sweep(deliver=False)
    assert result.as_dict() | {"batches": 0} == {key: 0 for key in result.as_dict()}
    assert SlaEvent.objects.count() == events_before


def test_events_that_came_due_before_seeding_are_recorded_as_fired(agent) -> None:
    bulk_requests(300, write=lambda _: None)
    overdue_open = ReassessmentRequest.objects.filter(state=State.IN_REVIEW, sla_target_at__lt=timezone.now()).annotate(
        n=Count("sla_events")
    )
    assert overdue_open.exists()
    assert all(req.n >= 2 for req in overdue_open)  # at_risk and overdue fired already


def test_bulk_due_requests_gives_the_sweep_exactly_one_event_each(agent) -> None:
    now = timezone.now()
    ids = make_due_requests(25, now=now)
    assert len(ids) == 25
    result = sweep.run_sweep(now=now + timedelta(seconds=1), deliver=False)
    assert result.events == 25
    assert SlaEvent.objects.filter(request_id__in=ids, kind="at_risk").count() == 25


def test_bulk_accounts_are_reused_by_later_runs(agent) -> None:
    bulk_requests(50, write=lambda _: None)
    accounts = Account.objects.filter(name__startswith="Bulk account ").count()
    bulk_requests(50, write=lambda _: None)
    assert Account.objects.filter(name__startswith="Bulk account ").count() == accounts == 1
