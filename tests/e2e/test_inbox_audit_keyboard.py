"""An agent works the inbox from the keyboard: j/k, r, n, a, /, e, and ? for the list of shortcuts; empty lists
say what to do; signing out."""

import re

from playwright.sync_api import expect

from inbox.models import Conversation
from tests.e2e.conftest import is_patch, row_for, screenshot


def focused_test_id(page) -> str | None:
    return page.evaluate("document.activeElement && document.activeElement.dataset.testid")


def test_every_shortcut_works_and_the_help_lists_them(signed_in, agent, inbox, customer):
    for sender, name in [("alice", "Alice Customer"), ("bob", "Bob Buyer"), ("carol", "Carol Jones")]:
        customer(inbox, f"Hello from {name.split()[0]}", sender=sender, name=name)
    by_name = {c.contact.name: c for c in Conversation.objects.select_related("contact")}

    page = signed_in(agent)
    # Nothing is assigned to Ana yet: the empty Mine view says so and offers the way to new work.
    expect(page.get_by_test_id("list-empty")).to_contain_text("Nothing assigned to you")
    expect(page.get_by_test_id("no-conversation")).to_contain_text("press j")
    screenshot(page, "audit-empty-mine")
    page.get_by_test_id("list-empty-action").click()
    expect(page.get_by_test_id("view-tab-unassigned")).to_have_attribute("aria-selected", "true")
    expect(page.get_by_test_id("conversation-row")).to_have_count(3)

    # ? opens the help, focus moves into it, Esc closes it and nothing else happens.
    page.keyboard.press("?")
    help_dialog = page.get_by_test_id("help-overlay")
    expect(help_dialog).to_be_visible()
    expect(help_dialog).to_have_attribute("role", "dialog")
    for key in ("j / k", "r", "n", "e", "a", "/", "?"):
        expect(help_dialog.locator("kbd", has_text=re.compile(f"^{re.escape(key)}$"))).to_have_count(1)
    expect(help_dialog.get_by_role("button", name="Close")).to_be_focused()
    screenshot(page, "audit-help-overlay")
    page.keyboard.press("j")  # shortcuts wait while the help is open
    expect(page).to_have_url(re.compile(r"/$"))
    page.keyboard.press("Escape")
    expect(help_dialog).to_have_count(0)

    # j / k walk the list (newest first) and open each conversation.
    page.keyboard.press("j")
    expect(page).to_have_url(re.compile(rf"/conversations/{by_name['Carol Jones'].pk}$"))
    page.keyboard.press("j")
    expect(page).to_have_url(re.compile(rf"/conversations/{by_name['Bob Buyer'].pk}$"))
    expect(row_for(page, "Bob Buyer")).to_have_attribute("aria-current", "true")
    page.keyboard.press("k")
    expect(page).to_have_url(re.compile(rf"/conversations/{by_name['Carol Jones'].pk}$"))
    expect(page.get_by_test_id("conversation")).to_contain_text("Carol Jones")

    # r: the reply box; Esc leaves it so the next key is a shortcut again.
    page.keyboard.press("r")
    expect(page.get_by_test_id("composer-input")).to_be_focused()
    expect(page.get_by_test_id("composer")).to_have_attribute("data-mode", "reply")
    page.keyboard.type("jk typed here stays text")
    expect(page.get_by_test_id("composer-input")).to_have_value("jk typed here stays text")
    expect(page).to_have_url(re.compile(rf"/conversations/{by_name['Carol Jones'].pk}$"))
    page.keyboard.press("Escape")
    expect(page.get_by_test_id("composer-input")).not_to_be_focused()

    # n: note mode, focused.
    page.keyboard.press("n")
    expect(page.get_by_test_id("composer")).to_have_attribute("data-mode", "note")
    expect(page.get_by_test_id("composer-input")).to_be_focused()
    page.keyboard.press("Escape")

    # a: the assignee picker; choosing from the keyboard assigns.
    page.keyboard.press("a")
    assert focused_test_id(page) == "assignee-select"
    with page.expect_response(is_patch(by_name["Carol Jones"])) as assigned:
        page.get_by_test_id("assignee-select").select_option(str(agent.pk))
    assert assigned.value.status == 200
    page.keyboard.press("Escape")

    # /: search; the list narrows to the match.
    page.keyboard.press("/")
    expect(page.get_by_test_id("search-input")).to_be_focused()
    page.keyboard.type("Bob")
    expect(page.get_by_test_id("conversation-row")).to_have_count(1)
    expect(row_for(page, "Bob Buyer")).to_be_visible()
    page.get_by_test_id("search-input").fill("Zebra")  # a name close to a contact's ("Bobby") would find it
    expect(page.get_by_test_id("list-empty")).to_contain_text("No conversations match “Zebra”")
    screenshot(page, "audit-empty-search")
    page.get_by_test_id("list-empty-action").click()  # "Clear the search"
    expect(page.get_by_test_id("search-input")).to_have_value("")
    expect(page.get_by_test_id("conversation-row")).to_have_count(2)  # Carol is assigned now: not Unassigned

    # e: resolve the open conversation (Carol's).
    with page.expect_response(is_patch(by_name["Carol Jones"])) as resolved:
        page.keyboard.press("e")
    assert resolved.value.status == 200
    expect(page.get_by_test_id("reopen-button")).to_be_visible()
    carol = by_name["Carol Jones"]
    carol.refresh_from_db()
    assert (carol.status, carol.assignee_id) == ("resolved", agent.pk)


def test_sign_out_returns_to_the_login_and_forgets_the_inbox(signed_in, agent, inbox, customer):
    customer(inbox, "Are you open on Sunday?")
    page = signed_in(agent)
    expect(page.get_by_test_id("current-user")).to_contain_text("Ana Agent")
    expect(page.get_by_test_id("current-user")).to_contain_text("agent")
    page.get_by_test_id("logout").click()
    expect(page.get_by_test_id("login-email")).to_be_visible()
    expect(page.get_by_test_id("current-user")).to_have_count(0)
    page.reload()  # the session is really gone on the server
    expect(page.get_by_test_id("login-email")).to_be_visible()
    page.get_by_test_id("login-email").fill(agent.email)
    page.get_by_test_id("login-password").fill("wrong password")
    page.get_by_test_id("login-submit").click()
    expect(page.get_by_test_id("login-error")).to_be_visible()
    screenshot(page, "audit-login-error")


def test_too_many_failed_sign_ins_say_when_to_try_again(new_context, settings):
    page = new_context().new_page()
    page.goto("/")
    page.get_by_test_id("login-email").fill("nobody@example.com")  # no other test signs in as it
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        page.get_by_test_id("login-password").fill("guess")
        with page.expect_response(lambda r: r.url.endswith("/api/v1/auth/login/")) as answer:
            page.get_by_test_id("login-submit").click()
        assert answer.value.status == 400
    expect(page.get_by_test_id("login-error")).to_contain_text("Wrong email or password")
    page.get_by_test_id("login-password").fill("one guess too many")
    with page.expect_response(lambda r: r.url.endswith("/api/v1/auth/login/")) as answer:
        page.get_by_test_id("login-submit").click()
    assert answer.value.status == 429
    expect(page.get_by_test_id("login-error")).to_contain_text("Too many failed sign-ins. Try again in 15 minutes")
    screenshot(page, "login-locked-out")


def test_a_marketers_empty_mine_view_points_to_all(signed_in, marketer, inbox, customer):
    customer(inbox, "Do you have a newsletter?")
    page = signed_in(marketer)
    page.get_by_test_id("view-tab-mine").click()
    expect(page.get_by_test_id("list-empty")).to_contain_text("not assigned to your role")
    page.get_by_test_id("list-empty-action").click()  # "Show all conversations"
    expect(page.get_by_test_id("view-tab-all")).to_have_attribute("aria-selected", "true")
    expect(row_for(page, "Alice Customer")).to_be_visible()
    page.keyboard.press("j")  # reading from the keyboard works for marketers too
    expect(page.get_by_test_id("conversation")).to_contain_text("newsletter")
    expect(page.get_by_test_id("composer")).to_have_count(0)
