"""A real browser (Debian's chromium, driven by Playwright) walks the customer's journey: sign in,
see the restriction alert, fill the form with a mistake and correct it, upload two files, submit,
answer an information request, ask for a re-evaluation, and read the final decision.

Screenshots of the form and the request page at desktop and phone widths go to test-artifacts/.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests import factories
from tests.conftest import require_service
from tickets import services
from tickets.models import ReassessmentRequest, State

from .portal_helpers import pdf_bytes, png_bytes

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
PASSWORD = "correct horse battery staple"


@pytest.fixture
def browser_page(monkeypatch) -> Iterator[object]:
    require_service("chromium", Path(CHROMIUM).exists(), "apt-get install -y chromium")
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread, and the test calls services here too;
    # monkeypatch undoes it so nothing later in the session inherits it.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        context = browser.new_context(viewport=DESKTOP)
        page = context.new_page()
        page.set_default_timeout(15_000)
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        yield page
        context.close()
        browser.close()
        assert errors == [], f"JavaScript errors: {errors}"


def screenshot(page, name: str) -> Path:
    """Full-page screenshots at desktop and phone width; returns the folder."""
    ARTIFACTS.mkdir(exist_ok=True)
    for label, size in (("desktop", DESKTOP), ("phone", PHONE)):
        page.set_viewport_size(size)
        page.screenshot(path=str(ARTIFACTS / f"{name}-{label}.png"), full_page=True)
    page.set_viewport_size(DESKTOP)
    return ARTIFACTS


def test_customer_goes_from_the_alert_to_a_final_decision(browser_page, live_server, tmp_path, settings) -> None:
    from playwright.sync_api import expect

    page = browser_page
    settings.SITE_URL = live_server.url
    customer = factories.UserFactory(username="carla", email="carla@acme.example")
    account = factories.AccountFactory(name="Acme Logistics", owner=customer)
    factories.RestrictionFactory(account=account, kind="sms_blocked")
    from accounts.roles import ACCOUNTS_TEAM, SENIOR_REVIEWERS

    agent = factories.StaffFactory(username="alice", email="alice@desk.example", groups=[ACCOUNTS_TEAM])
    senior = factories.StaffFactory(username="sam", email="sam@desk.example", groups=[ACCOUNTS_TEAM, SENIOR_REVIEWERS])

    # Sign in.
    page.goto(f"{live_server.url}/")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    page.get_by_label("Username").fill("carla")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()

    # The alert names the restriction and leads to the form.
    alert = page.locator(".restriction-alert")
    expect(alert).to_contain_text("SMS blocked")
    alert.get_by_role("link", name="Ask for a reassessment").click()
    expect(page.get_by_role("heading", name="Ask for a reassessment")).to_be_visible()

    # The sample message appears only when SMS is chosen.
    sample = page.get_by_label("Sample message")
    expect(sample).to_be_hidden()
    page.get_by_label("SMS API").check()
    expect(sample).to_be_visible()

    page.get_by_label("Company name").fill("Acme Logistics LLC")
    page.get_by_label("Company website").fill("ftp://acme-logistics.example")  # the mistake
    page.get_by_label("What will you use our services for?").select_option("order_tracking")
    sample.fill("Your Acme order 12345 is out for delivery and arrives today.")
    countries = page.get_by_label("Countries you will send traffic to")
    countries.fill("Canad")
    countries.press("Enter")
    countries.fill("United States")
    countries.press("Enter")
    expect(page.locator(".chips")).to_contain_text("Canada")
    expect(page.locator(".chips")).to_contain_text("United States")
    page.get_by_label("Estimated units per month").fill("20000")
    page.get_by_label("Estimated spend per month (US dollars)").fill("350")
    page.get_by_role("button", name="Save draft").click()

    # The mistake is shown next to its field and announced; the rest was kept.
    errors = page.locator("#form-errors")
    expect(errors).to_contain_text("some details need correcting")
    expect(page.locator("#id_company_website_error")).to_contain_text("http:// or https://")
    expect(page.get_by_label("Company name")).to_have_value("Acme Logistics LLC")
    expect(page.locator(".chips")).to_contain_text("Canada")
    page.get_by_label("Company website").fill("https://acme-logistics.example")
    page.get_by_role("button", name="Save draft").click()
    expect(page.locator(".messages")).to_contain_text("Your draft is saved")
    expect(page.locator("#id_company_website_error")).to_have_count(0)

    # Two files in one go, with progress, through XHR.
    certificate = tmp_path / "certificate.pdf"
    certificate.write_bytes(pdf_bytes())
    card = tmp_path / "business-card.png"
    card.write_bytes(png_bytes())
    evidence = page.locator("form[data-upload]")
    evidence.get_by_label("What is it?").select_option("certificate_of_incorporation")
    evidence.get_by_label("Files").set_input_files([str(certificate), str(card)])
    evidence.get_by_role("button", name="Add evidence").click()
    expect(page.locator(".evidence-list")).to_contain_text("certificate.pdf")
    expect(page.locator(".evidence-list")).to_contain_text("business-card.png")
    screenshot(page, "portal-request-form")

    # Review, then submit.
    page.get_by_role("button", name="Continue to review").click()
    expect(page.get_by_role("heading", name="Review your request")).to_be_visible()
    expect(page.locator("main")).to_contain_text("Canada")
    page.get_by_role("button", name="Submit request").click()
    expect(page.locator("#request-status")).to_have_text("Submitted, waiting for review")
    expect(page.locator(".next-steps")).to_contain_text("Expect an update by")

    req = ReassessmentRequest.objects.get()
    assert req.state == State.SUBMITTED
    assert req.evidence.count() == 2

    # The accounts team asks for more information; the customer answers.
    services.request_claim(request_id=req.pk, actor=agent)
    services.request_request_info(request_id=req.pk, actor=agent, message="Please send your EIN.")
    page.reload()
    expect(page.locator("#request-status")).to_have_text("Information requested from you")
    expect(page.locator(".messages-list")).to_contain_text("Please send your EIN.")
    page.get_by_role("button", name="Send answer").click()  # empty first: an inline error
    expect(page.locator("#id_message_error")).to_contain_text("Write your answer")
    page.get_by_label("Your answer").fill("Our EIN is 12-3456789.")
    page.get_by_role("button", name="Send answer").click()
    expect(page.locator(".messages")).to_contain_text("Your answer was sent")
    expect(page.locator("#request-status")).to_have_text("In review")
    screenshot(page, "portal-request-page")

    # Rejected (no reason shown), re-evaluation asked once, then the final decision.
    services.request_reject(request_id=req.pk, actor=agent, reason_code="unverifiable_business", note="parked site")
    page.reload()
    expect(page.locator(".next-steps")).to_contain_text("Your request was rejected.")
    expect(page.locator("main")).not_to_contain_text("unverifiable")
    page.get_by_label("What should we know for the re-evaluation?").fill("Our website is live now.")
    page.get_by_role("button", name="Ask for a re-evaluation").click()
    expect(page.locator("#request-status")).to_have_text("Re-evaluation requested")
    services.request_claim_reevaluation(request_id=req.pk, actor=senior)
    services.request_reject_final(request_id=req.pk, actor=senior, reason_code="unverifiable_business", note="still")
    page.reload()
    expect(page.locator("#request-status")).to_have_text("Rejected, final decision")
    expect(page.locator(".next-steps")).to_contain_text("This decision is final")
    expect(page.locator("main")).not_to_contain_text("parked site")
    expect(page.get_by_role("link", name="Withdraw this request")).to_have_count(0)
    screenshot(page, "portal-request-final")

    for name in ("portal-request-form", "portal-request-page", "portal-request-final"):
        for label in ("desktop", "phone"):
            assert (ARTIFACTS / f"{name}-{label}.png").stat().st_size > 10_000


def test_the_form_works_with_the_keyboard_only(browser_page, live_server) -> None:
    """Tab reaches the country search, arrows choose, Enter adds without submitting the form."""
    from playwright.sync_api import expect

    page = browser_page
    customer = factories.UserFactory(username="kim", email="kim@example.com")
    factories.AccountFactory(name="Kim Co", owner=customer)
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Username").fill("kim")
    page.get_by_label("Password").fill(PASSWORD)
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Your reassessment requests")).to_be_visible()
    page.goto(f"{live_server.url}/requests/new/")
    page.get_by_label("Countries you will send traffic to").focus()
    page.keyboard.type("germ")
    page.keyboard.press("Enter")
    expect(page.locator(".chips")).to_contain_text("Germany")
    expect(page).to_have_url(f"{live_server.url}/requests/new/")  # Enter did not submit
    page.get_by_role("button", name="Remove Germany").press("Enter")
    expect(page.locator(".chips li")).to_have_count(0)


@pytest.fixture(autouse=True, scope="module")
def _artifacts_folder() -> None:
    # Role groups and default screening rules come back after the live server's flush by
    # themselves (post_migrate handlers in accounts and tickets).
    ARTIFACTS.mkdir(exist_ok=True)
