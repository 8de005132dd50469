"""An agent's day in the browser: a customer writes, the agent replies, notes, assigns and resolves."""

import re

from django.conf import settings
from playwright.sync_api import expect

from inbox.models import Conversation, Inbox, Message
from inbox.services.contacts import add_identity
from tests.e2e.conftest import is_patch, item_with_text, off_loop, row_for, screenshot


def test_agent_replies_notes_assigns_and_resolves(signed_in, agent, inbox, customer):
    page = signed_in(agent)
    page.get_by_test_id("view-tab-team").click()
    expect(page.get_by_test_id("list-empty")).to_be_visible()
    expect(page.get_by_test_id("simulator-open")).to_have_count(0)
    page.evaluate("window.__sameDocument = true")

    customer(inbox, "My parcel never arrived")
    row = row_for(page, "Alice Customer")
    expect(row).to_contain_text("My parcel never arrived")  # live, no reload
    expect(row).to_have_attribute("data-unread", "true")
    expect(row.get_by_test_id("unread-marker")).to_have_text("1")
    conversation = Conversation.objects.get()
    row.click()
    expect(page).to_have_url(re.compile(rf"/conversations/{conversation.pk}$"))
    expect(item_with_text(page, "My parcel never arrived")).to_have_attribute("data-direction", "in")
    expect(row).to_have_attribute("data-unread", "false")
    expect(page.get_by_test_id("contact-panel")).to_contain_text("Alice Customer")

    composer = page.get_by_test_id("composer")
    expect(page.get_by_test_id("composer-channel")).to_have_value("simulator")
    page.get_by_test_id("composer-input").fill("Sorry about that! I'm checking with the courier.")
    page.get_by_test_id("composer-send").click()
    reply = item_with_text(page, "checking with the courier")
    expect(reply).to_have_attribute("data-direction", "out")
    expect(reply).to_have_attribute("data-status", "delivered")  # the simulator provider called back
    expect(reply.get_by_test_id("delivery-status")).to_have_attribute("aria-label", "Delivered")
    expect(page.get_by_test_id("composer-input")).to_have_value("")
    expect(row).to_contain_text("You: Sorry about that!")
    screenshot(page, "inbox-conversation")

    page.get_by_test_id("composer-mode-note").click()
    expect(composer).to_have_attribute("data-mode", "note")
    page.get_by_test_id("composer-input").fill("VIP customer: offer a refund if the courier lost it.")
    screenshot(page, "composer-note")
    page.get_by_test_id("composer-send").click()
    note = item_with_text(page, "VIP customer")
    expect(note).to_have_attribute("data-kind", "note")
    expect(note).to_have_class(re.compile(r"\bnote\b"))
    expect(note.locator(".bubble")).to_have_css("border-top-style", "dashed")
    expect(note.locator(".bubble")).to_have_css("background-color", "rgb(255, 247, 194)")
    expect(note.get_by_test_id("delivery-status")).to_have_count(0)

    with page.expect_response(is_patch(conversation)) as assigned:
        page.get_by_test_id("assignee-select").select_option(str(agent.pk))
    assert assigned.value.status == 200, assigned.value.text()
    expect(row).to_contain_text("@Ana Agent")
    page.keyboard.press("Escape")  # leave the composer so the shortcut applies
    with page.expect_response(is_patch(conversation)) as resolved:
        page.keyboard.press("e")
    assert resolved.value.status == 200, resolved.value.text()
    expect(page.get_by_test_id("reopen-button")).to_be_visible()
    expect(page.get_by_test_id("status-select")).to_have_value("resolved")
    expect(row).to_have_count(0)  # the "Open" filter drops it, live
    assert page.evaluate("window.__sameDocument") is True

    conversation.refresh_from_db()
    assert conversation.status == "resolved" and conversation.assignee_id == agent.pk
    assert conversation.resolved_at is not None
    out = Message.objects.get(conversation=conversation, direction="out", kind="message")
    assert (out.text, out.channel, out.status, out.sender_user_id) == (
        "Sorry about that! I'm checking with the courier.", "simulator", "delivered", agent.pk)
    note_row = Message.objects.get(conversation=conversation, kind="note")
    assert note_row.text.startswith("VIP customer") and note_row.sender_user_id == agent.pk


def test_reply_channel_switches_to_the_contacts_email(signed_in, agent, inbox, support, customer):
    customer(inbox, "Please send the invoice to my email")
    conversation = Conversation.objects.get()
    off_loop(add_identity, conversation.contact, "email", "Alice@Example.org")
    email_adapter = "email" in settings.CHANNEL_ADAPTERS
    email_inbox = None
    if email_adapter and not Inbox.objects.filter(channel="email").exists():
        # Mail goes to Django's in-memory outbox in the server process: nothing leaves the machine.
        email_inbox = Inbox.objects.create(
            name="Support email", channel="email", address="support@heron.test", team=support,
            settings={"email_backend": "django.core.mail.backends.locmem.EmailBackend"},
        )

    page = signed_in(agent, f"/conversations/{conversation.pk}")
    expect(item_with_text(page, "invoice to my email")).to_be_visible()
    expect(page.get_by_test_id("identity").filter(has_text="alice@example.org")).to_be_visible()
    picker = page.get_by_test_id("composer-channel")
    expect(picker).to_have_value("simulator")  # default: the channel the customer wrote on
    offered = picker.locator("option").evaluate_all("options => options.map(o => o.value)")
    assert sorted(offered) == ["email", "simulator"], offered

    picker.select_option("email")
    page.get_by_test_id("composer-input").fill("Here is your invoice, Alice.")
    if not email_adapter:
        # No email adapter on this server: the reply cannot go out, and the agent is told why.
        page.get_by_test_id("composer-send").click()
        expect(page.get_by_test_id("composer-error")).to_contain_text("email")
        assert not Message.objects.filter(direction="out").exists()
        return

    expect(page.get_by_test_id("composer-subject")).to_be_visible()
    page.get_by_test_id("composer-subject").fill("Your invoice")
    page.get_by_test_id("composer-cc").fill("Books@Example.org; ceo@example.org")
    expect(page.get_by_test_id("composer-send")).to_have_text("Send Email")
    page.get_by_test_id("composer-send").click()
    sent = item_with_text(page, "Here is your invoice")
    expect(sent).to_have_attribute("data-channel", "email")
    expect(sent).to_have_attribute("data-status", re.compile("sent|delivered"))
    expect(sent.get_by_test_id("email-subject")).to_contain_text("Your invoice")
    expect(sent).to_contain_text("Cc: books@example.org, ceo@example.org")
    expect(page.get_by_test_id("composer-cc")).to_have_value("")  # cleared for the next reply
    screenshot(page, "email-reply-with-cc")

    out = Message.objects.get(direction="out", kind="message")
    assert out.channel == "email" and out.conversation_id == conversation.pk
    assert out.identity.value == "alice@example.org"
    assert out.inbox.channel == "email" and (email_inbox is None or out.inbox_id == email_inbox.pk)
    assert "Your invoice" in out.subject and out.status in ("sent", "delivered")
    assert [a["email"] for a in out.metadata["cc"]] == ["books@example.org", "ceo@example.org"]
