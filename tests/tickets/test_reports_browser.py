"""The SLA report in a real browser, with the demo data: it renders, reads well on a laptop and a
phone, and a screenshot goes to test-artifacts/ for the review note."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.conftest import require_service

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run",
]


def test_manager_opens_the_sla_report_with_demo_data(live_server, settings) -> None:
    require_service("chromium", shutil.which(CHROMIUM) is not None, "apt-get install -y chromium")
    from playwright.sync_api import sync_playwright

    from tickets.demo import DEMO_PASSWORD, seed_demo

    settings.SCREENING_INLINE = True
    seed_demo(write=lambda _: None)
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            errors: list[str] = []
            # Every resource the page needs must load (the browser's own favicon probe aside).
            page.on("response", lambda r: errors.append(f"{r.status} {r.url}")
                    if r.status >= 400 and not r.url.endswith("/favicon.ico") else None)
            page.on("requestfailed", lambda request: errors.append(f"failed: {request.url}"))
            page.goto(f"{live_server.url}/reports/sla/")
            assert "/accounts/login/" in page.url
            page.fill("input[name=username]", "maria")
            page.fill("input[name=password]", DEMO_PASSWORD)
            page.click("button[type=submit], input[type=submit]")
            page.goto(f"{live_server.url}/reports/sla/")
            assert page.locator("h1").inner_text() == "SLA report"
            assert page.locator("svg.chart").count() == 3
            # The demo has requests at risk, overdue and breached: each list links to the admin.
            for status in ("at_risk", "overdue", "breached"):
                link = page.locator(f"#attention-{status} a").first
                assert link.get_attribute("href").startswith("/admin/tickets/reassessmentrequest/")
            # The stylesheet loaded (the cards are laid out as a grid).
            assert page.eval_on_selector(".rpt-cards", "el => getComputedStyle(el).display") == "grid"
            page.screenshot(path=str(ARTIFACTS / "reports-sla.png"), full_page=True)
            page.set_viewport_size({"width": 390, "height": 844})
            page.screenshot(path=str(ARTIFACTS / "reports-sla-phone.png"), full_page=True)
            # Filters round-trip through the query string.
            page.set_viewport_size({"width": 1280, "height": 900})
            page.select_option("select[name=isv]", "yes")
            page.click(".rpt-actions button")
            assert "isv=yes" in page.url
            assert errors == []
        finally:
            browser.close()
