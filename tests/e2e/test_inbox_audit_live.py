"""Working next to colleagues: the warning before sending when someone replied meanwhile, and desktop
notifications for new messages in conversations assigned to me."""

import re

from playwright.sync_api import expect

from inbox.models import Conversation, Message
from inbox.services.conversations import update_conversation
from tests.e2e.conftest import FAKE_NOTIFICATIONS, item_with_text, off_loop, row_for, screenshot


def send(page, text: str) -> None:
    page.get_by_test_id("composer-input").fill(text)
    page.get_by_test_id("composer-send").click()
    expect(page.get_by_test_id("composer-input")).to_have_value("")


def test_warning_before_sending_when_a_colleague_replied_meanwhile(signed_in, agent, admin, inbox, customer):
    customer(inbox, "Has my refund been processed?")
    conversation = Conversation.objects.get()
    ana = signed_in(agent, f"/conversations/{conversation.pk}")
    ada = signed_in(admin, f"/conversations/{conversation.pk}")
    expect(item_with_text(ana, "refund been processed")).to_be_visible()
    expect(item_with_text(ada, "refund been processed")).to_be_visible()

    box = ana.get_by_test_id("composer-input")
    box.fill("Let me check with accounting and get back to you.")
    expect(ada.get_by_test_id("presence-warning")).to_contain_text("Ana Agent is replying")
    send(ada, "Yes, it went out yesterday.")
    expect(item_with_text(ana, "it went out yesterday")).to_be_visible()

    # Ana sends without having read it: she is asked first, and nothing goes out yet.
    ana.get_by_test_id("composer-send").click()
    warning = ana.get_by_test_id("collision-confirm")
    expect(warning).to_contain_text("Ada Admin replied while you were typing")
    screenshot(ana, "audit-collision-warning")
    ana.get_by_test_id("collision-cancel").click()  # "Review first"
    expect(warning).to_have_count(0)
    expect(box).to_have_value("Let me check with accounting and get back to you.")
    expect(box).to_be_focused()
    assert not Message.objects.filter(sender_user=agent).exists()

    # Having seen it, she rewrites and sends: no second warning for the reply she has read.
    box.fill("Ada is right: the refund went out yesterday.")
    ana.get_by_test_id("composer-send").click()
    expect(item_with_text(ana, "Ada is right")).to_have_attribute("data-status", re.compile("sent|delivered"))

    # Again, this time sending anyway, from the keyboard.
    box.fill("It can take 3 to 5 days to show on your statement.")
    send(ada, "Anything else we can do?")
    expect(item_with_text(ana, "Anything else we can do?")).to_be_visible()
    box.press("Control+Enter")
    expect(warning).to_be_visible()
    expect(ana.get_by_test_id("collision-cancel")).to_be_focused()  # the safe choice: a second Ctrl+Enter sends nothing
    ana.get_by_test_id("collision-send").click()
    expect(item_with_text(ana, "3 to 5 days")).to_have_attribute("data-direction", "out")
    expect(warning).to_have_count(0)
    assert list(Message.objects.filter(sender_user=agent).order_by("pk").values_list("text", flat=True)) == [
        "Ada is right: the refund went out yesterday.", "It can take 3 to 5 days to show on your statement."]


def test_desktop_notification_for_a_new_message_assigned_to_me(signed_in, agent, admin, inbox, customer):
    customer(inbox, "My order is late")
    customer(inbox, "Do you sell gift cards?", sender="bob", name="Bob Buyer")
    alice = Conversation.objects.get(contact__name="Alice Customer")
    off_loop(update_conversation, alice, admin, assignee=agent)

    page = signed_in(agent, "/", init_script=FAKE_NOTIFICATIONS)
    page.get_by_test_id("view-tab-team").click()
    expect(page.get_by_test_id("conversation-row")).to_have_count(2)
    page.get_by_test_id("notifications-toggle").click()
    expect(page.get_by_test_id("notifications-toggle")).to_have_attribute("aria-pressed", "true")

    customer(inbox, "Any news about my order?")
    page.wait_for_function("() => window.__notifications.length > 0")
    shown = page.evaluate("window.__notifications.map(n => ({title: n.title, body: n.options.body}))")
    assert shown == [{"title": "New message from Alice Customer", "body": "Any news about my order?"}], shown

    # Not for a conversation assigned to nobody (Bob's) …
    customer(inbox, "Also, do they expire?", sender="bob", name="Bob Buyer")
    expect(row_for(page, "Bob Buyer")).to_contain_text("do they expire")
    # … and clicking the notification opens the conversation; once it is on screen, no more notifications for it.
    page.evaluate("window.__notifications[0].onclick()")
    expect(page).to_have_url(re.compile(rf"/conversations/{alice.pk}$"))
    customer(inbox, "Hello? Still there?")
    expect(item_with_text(page, "Still there?")).to_be_visible()
    assert page.evaluate("window.__notifications.length") == 1
