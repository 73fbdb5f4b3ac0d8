from __future__ import annotations

from io import StringIO

from django.core.management import call_command

from tickets.models import ReassessmentRequest, State


def test_seed_demo_creates_every_state_and_is_idempotent(db) -> None:
    out = StringIO()
    call_command("seed_demo", stdout=out)
    states = set(ReassessmentRequest.objects.values_list("state", flat=True))
    assert states == {s.value for s in State}
    count = ReassessmentRequest.objects.count()
    call_command("seed_demo", stdout=StringIO())
    assert ReassessmentRequest.objects.count() == count
    text = out.getvalue()
    for login in ("admin", "alice", "sam", "maria", "colin", "carla"):
        assert login in text
    assert "demo-pass-2026" in text


def test_seed_demo_bulk_requests(db) -> None:
    call_command("seed_demo", "--requests", "300", stdout=StringIO())
    assert ReassessmentRequest.objects.filter(company_name__startswith="Bulk company").count() == 300
