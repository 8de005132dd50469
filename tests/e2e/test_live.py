"""Live updates across browsers, and a websocket that drops and comes back without losing anything."""

import re

from playwright.sync_api import expect

from inbox.models import Conversation, Message
from tests.e2e.conftest import is_patch, item_with_text, row_for, screenshot

# Remember every WebSocket the app opens, so a test can cut the live connection like a network drop.
TRACK_SOCKETS = """
(() => {
  const Native = window.WebSocket;
  window.__sockets = [];
  window.WebSocket = class extends Native {
    constructor(...args) { super(...args); window.__sockets.push(this); }
  };
})();
"""


def test_a_colleague_sees_replies_assignment_and_resolution_live(signed_in, agent, admin, inbox, customer):
    customer(inbox, "Is anyone there?")
    conversation = Conversation.objects.get()

    ada = signed_in(admin, f"/conversations/{conversation.pk}")
    ada.get_by_test_id("view-tab-all").click()
    ada.get_by_test_id("status-filter").select_option("")
    ada_row = row_for(ada, "Alice Customer")
    expect(ada_row).to_have_attribute("data-status", "open")
    expect(item_with_text(ada, "Is anyone there?")).to_be_visible()

    ana = signed_in(agent, f"/conversations/{conversation.pk}")
    expect(item_with_text(ana, "Is anyone there?")).to_be_visible()
    expect(ada.get_by_test_id("presence-warning")).to_contain_text("Ana Agent is viewing")

    ana.get_by_test_id("composer-input").fill("Yes! Ana here, how can I help?")
    expect(ada.get_by_test_id("presence-warning")).to_contain_text("Ana Agent is replying")
    ana.get_by_test_id("composer-send").click()
    seen_by_ada = item_with_text(ada, "Ana here, how can I help?")
    expect(seen_by_ada).to_have_attribute("data-direction", "out")
    expect(seen_by_ada).to_have_attribute("data-status", "delivered")
    expect(ada_row).to_contain_text("Agent: Yes! Ana here")  # not "You:": Ada did not write it

    with ana.expect_response(is_patch(conversation)):
        ana.get_by_test_id("assignee-select").select_option(str(agent.pk))
    expect(ada.get_by_test_id("assignee-select")).to_have_value(str(agent.pk))
    expect(ada_row).to_contain_text("@Ana Agent")
    with ana.expect_response(is_patch(conversation)):
        ana.get_by_test_id("resolve-button").click()
    expect(ada.get_by_test_id("status-select")).to_have_value("resolved")
    expect(ada.get_by_test_id("reopen-button")).to_be_visible()
    expect(ada_row).to_have_attribute("data-status", "resolved")
    screenshot(ada, "colleague-live")

    # And back: Ada reopens, Ana sees it.
    ada.get_by_test_id("reopen-button").click()
    expect(ana.get_by_test_id("status-select")).to_have_value("open")
    expect(ana.get_by_test_id("resolve-button")).to_be_visible()


def test_websocket_drop_and_reconnect_loses_no_event(signed_in, agent, inbox, customer):
    customer(inbox, "before the drop")
    conversation = Conversation.objects.get()
    page = signed_in(agent, f"/conversations/{conversation.pk}", init_script=TRACK_SOCKETS)
    page.get_by_test_id("view-tab-team").click()
    expect(item_with_text(page, "before the drop")).to_be_visible()
    context = page.context
    page.evaluate("window.__sameDocument = true")
    sockets_before = page.evaluate("window.__sockets.length")
    assert sockets_before >= 1

    context.set_offline(True)
    page.evaluate("window.__sockets.forEach((s) => s.close())")  # the drop: like a proxy cutting idle sockets
    banner = page.get_by_test_id("reconnecting-banner")
    expect(banner).to_be_visible()
    for n in range(3):
        customer(inbox, f"while offline {n}")
    assert Message.objects.filter(text__startswith="while offline").count() == 3
    expect(page.get_by_test_id("timeline-item").filter(has_text="while offline")).to_have_count(0)
    screenshot(page, "reconnecting-banner")

    context.set_offline(False)
    expect(banner).to_be_hidden()
    for n in range(3):
        expect(item_with_text(page, f"while offline {n}")).to_have_attribute("data-direction", "in")
    expect(row_for(page, "Alice Customer")).to_contain_text("while offline 2")
    texts = page.get_by_test_id("timeline-item").filter(has_text=re.compile("offline")).all_inner_texts()
    assert [n for n in range(3) if any(f"while offline {n}" in t for t in texts)] == [0, 1, 2]
    assert page.evaluate("window.__sameDocument") is True  # caught up without a reload
    assert page.evaluate("window.__sockets.length") > sockets_before

    # The new socket is live again.
    customer(inbox, "after the reconnect")
    expect(item_with_text(page, "after the reconnect")).to_be_visible()
