"""Conversation actions in the browser: priority, labels, snooze until…, a refused change rolled back, and
the list's filters."""

import re
from datetime import UTC, datetime, timedelta

from playwright.sync_api import Route, expect

from inbox.models import Conversation, Label
from inbox.services.conversations import update_conversation
from tests.e2e.conftest import is_patch, item_with_text, off_loop, row_for, screenshot


def test_priority_labels_and_snooze_until(signed_in, agent, inbox, customer):
    Label.objects.create(name="refund", color="#dc2626")
    customer(inbox, "I want my money back")
    conversation = Conversation.objects.get()
    page = signed_in(agent, f"/conversations/{conversation.pk}")
    page.get_by_test_id("view-tab-team").click()
    row = row_for(page, "Alice Customer")
    expect(item_with_text(page, "money back")).to_be_visible()

    with page.expect_response(is_patch(conversation)):
        page.get_by_test_id("priority-select").select_option("urgent")
    expect(row.locator(".pill.prio-urgent")).to_have_text("urgent")
    page.get_by_test_id("labels-button").click()
    with page.expect_response(is_patch(conversation)):
        page.get_by_test_id("label-toggle-refund").check()
    expect(page.get_by_test_id("labels-button")).to_contain_text("refund")
    expect(row.locator(".pill.label")).to_have_text("refund")
    page.get_by_test_id("labels-button").click()  # fold the popover away

    # The list filters by both.
    page.get_by_test_id("priority-filter").select_option("low")
    expect(page.get_by_test_id("list-empty")).to_contain_text("No conversations with these filters")
    page.get_by_test_id("priority-filter").select_option("urgent")
    page.get_by_test_id("label-filter").select_option("refund")
    expect(row).to_be_visible()
    page.get_by_test_id("label-filter").select_option("")
    page.get_by_test_id("priority-filter").select_option("")

    # Snooze until…: choosing it opens a dialog (focus inside); Escape leaves everything as it was.
    status = page.get_by_test_id("status-select")
    status.focus()  # as a click or Tab would
    status.select_option("snoozed")
    dialog = page.get_by_test_id("snooze-dialog")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_role("button", name="1 hour")).to_be_focused()
    page.keyboard.press("Escape")
    expect(dialog).to_have_count(0)
    expect(status).to_have_value("open")
    expect(status).to_be_focused()  # back where the agent was

    status.select_option("snoozed")
    custom = dialog.get_by_test_id("snooze-input")
    custom.fill("2020-01-01T09:00")
    expect(dialog.get_by_role("alert")).to_contain_text("already passed")
    expect(dialog.get_by_test_id("snooze-confirm")).to_be_disabled()
    until = (datetime.now(UTC) + timedelta(days=3)).replace(hour=8, minute=30, second=0, microsecond=0)
    custom.fill(until.strftime("%Y-%m-%dT%H:%M"))  # the browser runs in UTC (conftest)
    screenshot(page, "audit-snooze-dialog")
    with page.expect_response(is_patch(conversation)) as snoozed:
        dialog.get_by_test_id("snooze-confirm").click()
    assert snoozed.value.status == 200, snoozed.value.text()
    expect(dialog).to_have_count(0)
    expect(status).to_have_value("snoozed")
    expect(page.get_by_test_id("snoozed-until")).to_contain_text(f"Snoozed until {until:%a, %b} {until.day}, 8:30 AM")
    expect(item_with_text(page, "snoozed the conversation until")).to_be_visible()
    expect(row).to_have_count(0)  # out of the Open list
    page.get_by_test_id("status-filter").select_option("snoozed")
    expect(row).to_contain_text("snoozed")
    screenshot(page, "audit-snoozed")

    conversation.refresh_from_db()
    assert (conversation.status, conversation.priority) == ("snoozed", "urgent")
    assert conversation.snoozed_until == until
    assert list(conversation.labels.values_list("name", flat=True)) == ["refund"]


def test_a_change_the_server_refuses_is_rolled_back_with_what_to_do(signed_in, agent, inbox, customer):
    customer(inbox, "Hello?")
    conversation = Conversation.objects.get()
    page = signed_in(agent, f"/conversations/{conversation.pk}")
    expect(item_with_text(page, "Hello?")).to_be_visible()
    url = re.compile(rf"/api/v1/conversations/{conversation.pk}/$")

    def server_error(route: Route):
        if route.request.method == "PATCH":
            route.fulfill(status=503, content_type="text/html", body="<h1>Service Unavailable</h1>")
        else:
            route.continue_()

    page.route(url, server_error)
    priority = page.get_by_test_id("priority-select")
    priority.select_option("high")
    toast = page.get_by_test_id("error-toast")
    expect(toast).to_contain_text("back as it was")
    expect(toast).to_contain_text("Try again in a moment")
    expect(priority).to_have_value("none")  # rolled back
    screenshot(page, "audit-rollback-toast")
    toast.get_by_role("button", name="Dismiss").click()

    # The network is down: the same, with a hint to check the connection.
    page.unroute(url)
    page.route(url, lambda route: route.abort() if route.request.method == "PATCH" else route.continue_())
    page.get_by_test_id("resolve-button").click()
    expect(page.get_by_test_id("error-toast")).to_contain_text("Check your connection")
    expect(page.get_by_test_id("status-select")).to_have_value("open")
    expect(page.get_by_test_id("resolve-button")).to_be_visible()

    page.unroute(url)
    with page.expect_response(is_patch(conversation)):
        priority.select_option("high")
    expect(priority).to_have_value("high")
    conversation.refresh_from_db()
    assert (conversation.priority, conversation.status) == ("high", "open")


def test_list_filters_by_inbox_assignee_and_channel_and_resets(signed_in, admin, agent, inbox, sales_inbox, customer):
    customer(inbox, "Support question")
    customer(sales_inbox, "Sales question", sender="bob", name="Bob Buyer")
    off_loop(update_conversation, Conversation.objects.get(inbox=inbox), admin, assignee=agent)
    page = signed_in(admin)
    page.get_by_test_id("view-tab-all").click()
    rows = page.get_by_test_id("conversation-row")
    expect(rows).to_have_count(2)

    page.get_by_test_id("inbox-filter").select_option(label="Sales simulator")
    expect(rows).to_have_count(1)
    expect(row_for(page, "Bob Buyer")).to_be_visible()
    page.get_by_test_id("inbox-filter").select_option("")
    page.get_by_test_id("assignee-filter").select_option(str(agent.pk))
    expect(rows).to_have_count(1)
    expect(row_for(page, "Alice Customer")).to_contain_text("@Ana Agent")
    page.get_by_test_id("assignee-filter").select_option("none")
    expect(rows).to_have_count(1)
    expect(row_for(page, "Bob Buyer")).to_be_visible()

    page.get_by_test_id("channel-filter").select_option("email")
    expect(rows).to_have_count(0)
    expect(page.get_by_test_id("list-empty")).to_contain_text("No conversations with these filters")
    page.get_by_test_id("list-empty-action").click()  # "Reset filters"
    expect(rows).to_have_count(2)
    expect(page.get_by_test_id("assignee-filter")).to_have_value("")
    expect(page.get_by_test_id("channel-filter")).to_have_value("")
    expect(page.get_by_test_id("view-tab-all")).to_have_attribute("aria-selected", "true")  # the view stays


def test_resolving_offers_an_undo_that_puts_back_the_snooze(signed_in, agent, inbox, customer):
    customer(inbox, "Any news on my refund?")
    conversation = Conversation.objects.get()
    snoozed_until = datetime.now(UTC) + timedelta(days=2)
    off_loop(update_conversation, conversation, agent, status="snoozed", snoozed_until=snoozed_until)
    page = signed_in(agent, f"/conversations/{conversation.pk}")
    expect(item_with_text(page, "news on my refund")).to_be_visible()

    with page.expect_response(is_patch(conversation)):
        page.get_by_test_id("resolve-button").click()
    toast = page.get_by_test_id("info-toast")
    expect(toast).to_contain_text("Resolved")
    screenshot(page, "resolve-undo-toast")
    conversation.refresh_from_db()
    assert conversation.status == "resolved"

    with page.expect_response(is_patch(conversation)):
        toast.get_by_test_id("toast-action").click()
    expect(toast).to_have_count(0)
    expect(page.get_by_test_id("resolve-button")).to_be_visible()
    conversation.refresh_from_db()
    assert conversation.status == "snoozed" and conversation.snoozed_until == snoozed_until
