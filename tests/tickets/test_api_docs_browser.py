"""The interactive API docs render in a real browser under the site's CSP, from local assets."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.conftest import require_service

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]


@pytest.mark.browser
def test_swagger_ui_renders_the_schema_without_any_outside_request(live_server, settings) -> None:
    require_service("chromium", os.path.exists(CHROMIUM), "apt-get install -y chromium")
    settings.DEBUG = True  # so the live server serves the sidecar's static files
    from playwright.sync_api import sync_playwright

    artifacts = Path("test-artifacts")
    artifacts.mkdir(exist_ok=True)
    outside: list[str] = []
    csp_errors: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            page = browser.new_page()
            page.on("request", lambda r: outside.append(r.url) if not r.url.startswith(live_server.url) else None)
            page.on(
                "console",
                lambda m: csp_errors.append(m.text) if "Content Security Policy" in m.text else None,
            )
            page.goto(f"{live_server.url}/api/docs/")
            page.wait_for_selector("text=casemgr reassessment desk API", timeout=20_000)
            page.wait_for_selector("text=/api/v1/requests/{reference}/submit/", timeout=20_000)
            page.screenshot(path=str(artifacts / "api-docs.png"), full_page=False)
        finally:
            browser.close()
    assert [u for u in outside if not u.startswith("data:")] == []
    assert csp_errors == []
