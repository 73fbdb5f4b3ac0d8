"""The business time to first response is stored when the first response happens."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from tests import factories
from tickets import clock, services
from tickets.models import SlaCycle

CHICAGO = ZoneInfo("America/Chicago")


def test_business_seconds_to_first_response_skip_the_holiday(account, customer, agent) -> None:
    draft = factories.draft_for(account, customer)
    with clock.frozen(datetime(2026, 11, 25, 10, tzinfo=CHICAGO)):  # Wednesday before Thanksgiving
        services.request_submit(request_id=draft.pk, actor=customer)
        services.request_claim(request_id=draft.pk, actor=agent)
    with clock.frozen(datetime(2026, 11, 27, 10, tzinfo=CHICAGO)):  # Friday: Thursday counts nothing
        services.request_request_info(request_id=draft.pk, actor=agent, message="Your EIN, please.")
    with clock.frozen(datetime(2026, 11, 30, 9, tzinfo=CHICAGO)):
        services.request_provide_info(request_id=draft.pk, actor=customer, message="12-3456789")
        services.request_approve(request_id=draft.pk, actor=agent, lift=[])
    cycle = SlaCycle.objects.get(request=draft, number=1)
    # Wednesday 10:00 to midnight (14 h) + Friday midnight to 10:00 (10 h); later actions do not move it.
    assert cycle.first_response_at == datetime(2026, 11, 27, 10, tzinfo=CHICAGO)
    assert cycle.first_response_business_seconds == 24 * 3600
