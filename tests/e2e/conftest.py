"""End-to-end fixtures: Debian's Chromium driven by Playwright against a real uvicorn on the test database.

`playwright install` is not used (no downloads): the system browser at /usr/bin/chromium is launched.
Every test gets fresh browser contexts (so fresh cookies and sockets); the browser and the server
process live for the whole session.
"""

from __future__ import annotations

import os
import re
import shutil
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from django.db import connections
from playwright.sync_api import Browser, BrowserContext, Page, expect, sync_playwright

from tests.conftest import PASSWORD, post_simulator_webhook

CHROMIUM = os.environ.get("HERON_E2E_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run",
]
ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "test-results" / "screenshots"
VIEWPORT = {"width": 1440, "height": 900}

expect.set_options(timeout=15_000)


# A stand-in for the Notification API that records what the page shows and whether it asked
# for permission (it must only ask when the bell is clicked, never on load).
FAKE_NOTIFICATIONS = """
window.__notifications = [];
window.__permissionRequests = 0;
class FakeNotification {
  static permission = "default";
  static async requestPermission() {
    window.__permissionRequests += 1;
    FakeNotification.permission = "granted";
    return "granted";
  }
  constructor(title, options) {
    this.title = title;
    this.options = options || {};
    this.onclick = null;
    window.__notifications.push(this);
  }
  close() {}
}
window.Notification = FakeNotification;
"""


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/e2e/" in str(item.path).replace(os.sep, "/"):
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(autouse=True)
def _orm_next_to_playwright(monkeypatch):
    """Playwright's sync API runs an event loop in this thread; Django's ORM refuses to run "inside" it
    unless told that this (test-only) thread is really synchronous. Scoped to e2e tests only."""
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture(scope="session")
def browser(django_db_setup) -> Browser:
    # Depends on django_db_setup only so the browser (and its event loop) is gone before the test
    # database is dropped at the end of the session.
    if not Path(CHROMIUM).exists() and not shutil.which(CHROMIUM):
        pytest.fail(f"no Chromium at {CHROMIUM}: make test installs it (apt-get install chromium)")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture
def new_context(browser: Browser, server):
    """Make isolated browser contexts (one per simulated person) against the test server."""
    contexts: list[BrowserContext] = []

    def make() -> BrowserContext:
        context = browser.new_context(base_url=server.url, viewport=VIEWPORT, locale="en-US", timezone_id="UTC")
        context.set_default_timeout(15_000)
        contexts.append(context)
        return context

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def signed_in(new_context):
    """A page in its own context, signed in as `user` through the login form, showing the inbox."""

    def sign_in(user, path: str = "/", init_script: str | None = None) -> Page:
        context = new_context()
        if init_script:
            context.add_init_script(init_script)
        page = context.new_page()
        page.goto(path)
        page.get_by_test_id("login-email").fill(user.email)
        page.get_by_test_id("login-password").fill(PASSWORD)
        page.get_by_test_id("login-submit").click()
        expect(page.get_by_test_id("current-user")).to_have_attribute("data-role", user.heron.role)
        return page

    return sign_in


def screenshot(page: Page, name: str) -> Path:
    """Save a full-window screenshot under test-results/screenshots/<name>.png."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path))
    return path


@pytest.fixture
def customer(server):
    """Post a correctly signed simulator webhook as a customer writing to `inbox`."""

    def write(inbox, text: str, sender: str = "alice", name: str = "Alice Customer", external_id: str | None = None):
        response = post_simulator_webhook(server.url, "/webhooks/simulator/inbound/", {
            "inbox": inbox.address, "from": sender, "name": name, "text": text, "id": external_id or text,
        })
        assert response.status_code == 204, response.text
        return response

    return write


def row_for(page: Page, contact_name: str):
    return page.get_by_test_id("conversation-row").filter(has_text=contact_name)


def item_with_text(page: Page, text: str):
    return page.get_by_test_id("timeline-item").filter(has_text=re.compile(re.escape(text)))


def is_patch(conversation):
    """Matcher for page.expect_response: the PATCH of this conversation (optimistic UI runs ahead of it)."""
    path = f"/api/v1/conversations/{conversation.pk}/"
    return lambda response: response.request.method == "PATCH" and response.url.endswith(path)


def off_loop(fn, *args, **kwargs):
    """Run a service call in a plain thread: Playwright's event loop owns this one, and services that
    publish events after commit (async_to_sync) refuse to run next to a running loop."""
    def call():
        try:
            return fn(*args, **kwargs)
        finally:
            connections.close_all()  # this thread's connection would block dropping the test database

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(call).result()
