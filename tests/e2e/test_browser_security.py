"""Browser security in Chromium: under the Content-Security-Policy the inbox, an email with inline and
(on request) remote images in its sandboxed iframe, the admin and the API docs work without one
violation; signing in, which needs the CSRF token, works even for a browser that has no CSRF cookie."""

from __future__ import annotations

from playwright.sync_api import ConsoleMessage, Page, expect

from inbox.models import Inbox
from tests.conftest import PASSWORD
from tests.e2e.conftest import item_with_text, screenshot
from tests.e2e.test_composer_extras import png
from tests.e2e.test_email_view import email_with_inline_logo, inline_image_width, receive_email


def watch_csp(page: Page) -> list[str]:
    """Chromium reports every CSP violation, in the page or its frames, on the console."""
    violations: list[str] = []

    def seen(message: ConsoleMessage) -> None:
        if "Content Security Policy" in message.text:
            violations.append(f"{page.url}: {message.text}")

    page.on("console", seen)
    return violations


def open_page(page: Page, path: str) -> None:
    response = page.goto(path)
    assert response.ok, (path, response.status)
    policy = response.headers["content-security-policy"]
    assert "default-src 'self'" in policy and "frame-ancestors 'none'" in policy, policy


def test_pages_work_under_the_policy_without_a_violation(server, signed_in, admin, support, httpserver):
    Inbox.objects.create(name="Acme Support", channel="email", address="support@heron.local", team=support)
    httpserver.expect_request("/pixel.png").respond_with_data(png(8, 8), content_type="image/png")
    message = receive_email(server, email_with_inline_logo(remote_image=httpserver.url_for("/pixel.png")))

    page = signed_in(admin, f"/conversations/{message.conversation_id}")
    violations = watch_csp(page)
    page.reload()  # watched from the first byte
    expect(page.get_by_test_id("current-user")).to_be_visible()
    expect(item_with_text(page, "Broken lamp")).to_be_visible()
    assert inline_image_width(page) == 24  # a same-origin image inside the sandboxed frame
    page.get_by_test_id("load-remote-images").click()
    assert inline_image_width(page, "remote pixel") == 8  # another origin's, once asked for
    screenshot(page, "csp-email")

    open_page(page, "/admin/")
    expect(page.locator("#site-name")).to_be_visible()
    open_page(page, f"/admin/auth/user/{admin.pk}/change/")
    expect(page.locator("#user_form")).to_be_visible()

    open_page(page, "/api/docs/")
    operations = page.locator(".opblock")
    expect(operations.first).to_be_visible()
    operations.first.locator(".opblock-summary").click()
    expect(page.get_by_role("button", name="Try it out").first).to_be_visible()
    screenshot(page, "csp-api-docs")

    assert violations == []
    # The watch sees a violation when there is one: an inline script is refused.
    with page.expect_console_message(lambda m: "Content Security Policy" in m.text):
        page.evaluate("() => { const s = document.createElement('script'); s.textContent = '1'; "
                      "document.body.append(s); }")
    assert len(violations) == 1 and "script-src" in violations[0]


def test_sign_in_fetches_the_csrf_cookie_it_lacks(new_context, agent):
    context = new_context()
    page = context.new_page()
    page.goto("/")
    expect(page.get_by_test_id("login-email")).to_be_visible()
    context.clear_cookies()  # e.g. cleared by the user, or expired, while the sign-in page stayed open
    page.get_by_test_id("login-email").fill(agent.email)
    page.get_by_test_id("login-password").fill(PASSWORD)
    page.get_by_test_id("login-submit").click()
    expect(page.get_by_test_id("current-user")).to_have_attribute("data-role", "agent")
