"""One triage in a real browser (Playwright driving Debian's chromium): an agent logs in, filters
the queue, claims a request, opens its evidence and asks the customer for information.
Screenshots of the queue and of the request page go to test-artifacts/."""

from __future__ import annotations

import io
import os
import shutil
from pathlib import Path

import pytest
from django.conf import settings

from tests import factories
from tests.conftest import require_service
from tickets import services
from tickets.evidence import evidence_add_file
from tickets.models import ReassessmentRequest, State

from .test_admin import png_bytes

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = Path(settings.BASE_DIR) / "test-artifacts"
PASSWORD = "correct horse battery staple"  # tests.factories.UserFactory's password


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_agent_triages_a_request_in_the_browser(
    live_server, monkeypatch, agent, account, customer, restriction
) -> None:
    require_service(
        "chromium", Path(CHROMIUM).exists() and shutil.which(CHROMIUM) is not None, "apt-get install -y chromium"
    )
    sync_api = pytest.importorskip("playwright.sync_api")
    # Playwright's sync API runs an event loop in this thread; Django's ORM calls made from the
    # test while it runs would otherwise be refused as "async unsafe".
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    ARTIFACTS.mkdir(exist_ok=True)

    draft = factories.draft_for(account, customer, company_name="Acme Parcel Co")
    evidence_add_file(
        request_id=draft.pk,
        actor=customer,
        kind="business_card",
        upload=io.BytesIO(png_bytes((240, 140))),
        name="card.png",
    )
    target = services.request_submit(request_id=draft.pk, actor=customer)
    other_account = factories.AccountFactory(name="Globex Voice")
    other = services.request_submit(
        request_id=factories.draft_for(
            other_account,
            other_account.owner,
            company_name="Globex",
            services=["voice"],
            sample_message="",
            destination_countries=["GB"],
        ).pk,
        actor=other_account.owner,
    )

    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        try:
            context = browser.new_context(viewport={"width": 1400, "height": 1000})
            page = context.new_page()
            page.goto(f"{live_server.url}/admin/login/?next=/admin/tickets/reassessmentrequest/")
            page.fill("#id_username", agent.username)
            page.fill("#id_password", PASSWORD)
            page.click("input[type=submit]")
            page.wait_for_selector("#result_list")
            assert page.locator("#result_list tbody tr").count() == 2
            page.screenshot(path=str(ARTIFACTS / "admin-queue.png"), full_page=True)

            # Filter: unassigned requests to the US only.
            page.click("#changelist-filter a[href*='assignee=unassigned']")
            page.wait_for_url("**assignee=unassigned**")
            page.fill("#desk-filter-country", "us")
            page.press("#desk-filter-country", "Enter")
            page.wait_for_url("**country=us**")
            assert "assignee=unassigned" in page.url
            rows = page.locator("#result_list tbody tr")
            assert rows.count() == 1
            assert target.reference in rows.first.inner_text()
            assert other.reference not in page.content()

            # Open the request and claim it.
            page.click(f"text={target.reference}")
            page.wait_for_selector("#desk-actions")
            page.click("input.desk-button--claim")
            page.wait_for_selector(".messagelist .success")
            assert f"You claimed {target.reference}" in page.inner_text(".messagelist")
            assert "In review" in page.inner_text("#desk-summary")

            # Evidence: the thumbnail loaded through the access-checked view; it opens in a new tab.
            thumb = page.locator("img.desk-thumb")
            # The image loads after the page does: wait for it (a slow machine is not a failure).
            page.wait_for_function(
                "() => { const i = document.querySelector('img.desk-thumb');"
                " return i && i.complete && i.naturalWidth > 0 }",
                timeout=20_000,
            )
            assert thumb.evaluate("img => img.naturalWidth") == 240
            with context.expect_page() as new_tab:
                page.click("a.desk-evidence-open")
            evidence_tab = new_tab.value
            evidence_tab.wait_for_load_state()
            assert "/evidence/" in evidence_tab.url and "inline=1" in evidence_tab.url
            evidence_tab.close()

            # Ask the customer for information.
            page.click("summary.desk-button--request_info")
            page.fill("#id_request_info-message", "Please upload your certificate of incorporation.")
            page.click("#transition-request_info input[type=submit]")
            page.wait_for_selector(".messagelist .success")
            assert "information requested" in page.inner_text(".messagelist")
            assert "Awaiting customer" in page.inner_text("#desk-summary")
            assert "Please upload your certificate of incorporation." in page.inner_text("#desk-conversation")
            page.screenshot(path=str(ARTIFACTS / "admin-request.png"), full_page=True)
        finally:
            browser.close()

    target = ReassessmentRequest.objects.get(pk=target.pk)
    assert target.state == State.AWAITING_CUSTOMER
    assert target.assignee == agent
    assert (ARTIFACTS / "admin-queue.png").stat().st_size > 0
    assert (ARTIFACTS / "admin-request.png").stat().st_size > 0
    assert os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE") == "true"
