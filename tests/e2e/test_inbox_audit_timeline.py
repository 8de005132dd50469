"""The unified timeline in the browser: calls and voicemails (audio player, transcript), email with its
quoted text folded away, the customer typing, and merging / un-merging a contact."""

import uuid

from playwright.sync_api import expect

from channels_adapters.base import InboundMessage, SenderIdentity
from inbox.models import Contact, Conversation, Inbox
from inbox.services.ingest import record_inbound
from inbox.services.typing import customer_typing
from tests.conftest import inbound
from tests.e2e.conftest import item_with_text, off_loop, screenshot

PHONE = "+15558675310"


def voice(inbox: Inbox, kind: str, text: str = "", **metadata) -> InboundMessage:
    return InboundMessage(
        channel="voice", inbox_id=inbox.pk, sender=SenderIdentity(kind="phone", value=PHONE, display_name="Vera Voice"),
        external_id=uuid.uuid4().hex, kind=kind, text=text, metadata=metadata,
    )


def test_calls_voicemail_and_email_in_one_timeline(signed_in, agent, support):
    voice_inbox = Inbox.objects.create(name="Support line", channel="voice", address="+15017122661", team=support)
    email_inbox = Inbox.objects.create(
        name="Support email", channel="email", address="support@heron.test", team=support,
        settings={"email_backend": "django.core.mail.backends.locmem.EmailBackend"},
    )
    # The texts inbox/services/calls.py gives a missed call and a voicemail.
    off_loop(record_inbound, voice(voice_inbox, "call", "Missed call", call_status="no-answer", duration=0))
    off_loop(record_inbound, voice(
        voice_inbox, "voicemail", "Voicemail", recording_url="/static/no-such-recording.mp3", duration=14,
        transcript="Hi, this is Vera, please call me back about my booking.",
    ))
    contact = Contact.objects.get(name="Vera Voice")
    contact.identities.create(kind="email", value="vera@example.org")
    off_loop(record_inbound, inbound(
        email_inbox, "vera@example.org", "Following up on my voicemail.", kind="email", name="Vera Voice",
        subject="My booking", html="<p>Following up on my <b>voicemail</b>.</p>",
        metadata={"quoted_text": "> On Monday, Heron wrote:\n> Your booking is confirmed."},
    ))
    conversation = Conversation.objects.get(messages__kind="voicemail")

    page = signed_in(agent, f"/conversations/{conversation.pk}")
    call = page.get_by_test_id("timeline-item").and_(page.locator("[data-kind=call]"))
    expect(call.get_by_test_id("call-headline")).to_have_text("Missed call")  # what became of it, once
    expect(call).to_contain_text("no-answer")
    expect(call.get_by_text("Missed call")).to_have_count(1)
    voicemail = page.get_by_test_id("timeline-item").and_(page.locator("[data-kind=voicemail]"))
    expect(voicemail.get_by_test_id("call-headline")).to_have_text("Voicemail")
    expect(voicemail.get_by_text("Voicemail", exact=True)).to_have_count(1)
    expect(voicemail.locator("audio[controls]")).to_have_attribute("aria-label", "Voicemail recording")
    expect(voicemail.get_by_text("please call me back about my booking")).to_be_visible()  # transcript open
    expect(voicemail).to_contain_text("0:14")

    email = item_with_text(page, "My booking")
    expect(email.get_by_test_id("email-subject")).to_have_text("My booking")
    expect(email.get_by_test_id("email-html")).to_have_attribute("sandbox", "")
    quoted = email.locator("details.quoted")
    expect(quoted.get_by_text("Your booking is confirmed")).to_be_hidden()
    quoted.get_by_text("Show quoted text").click()
    expect(quoted.get_by_text("Your booking is confirmed")).to_be_visible()
    # Replies to a call go by SMS or email, never "voice".
    offered = page.get_by_test_id("composer-channel").locator("option").evaluate_all("o => o.map(x => x.value)")
    assert "voice" not in offered and "email" in offered, offered
    screenshot(page, "audit-timeline-calls-email")


def test_customer_typing_and_merge_then_unmerge(signed_in, agent, inbox, customer):
    customer(inbox, "Hi, it's Alice from my phone")
    customer(inbox, "Alice again, from my laptop", sender="alice-laptop", name="A. Customer")
    alice = Conversation.objects.get(contact__name="Alice Customer")
    page = signed_in(agent, f"/conversations/{alice.pk}")
    expect(item_with_text(page, "from my phone")).to_be_visible()

    off_loop(customer_typing, inbox_id=inbox.pk, identity_kind="simulator", identity_value="alice")
    expect(page.get_by_test_id("customer-typing")).to_have_text("Alice Customer is typing…")

    panel = page.get_by_test_id("contact-panel")
    panel.get_by_test_id("merge-button").click()
    panel.get_by_test_id("contact-picker-input").fill("A. Cust")
    panel.get_by_test_id("contact-picker-result").filter(has_text="A. Customer").click()
    panel.get_by_test_id("merge-confirm").click()
    expect(item_with_text(page, "from my laptop")).to_be_visible()  # now one timeline
    expect(panel.get_by_test_id("identity")).to_have_count(2)
    screenshot(page, "audit-merged-contact")

    panel.get_by_test_id("unmerge-button").click()
    expect(item_with_text(page, "from my laptop")).to_have_count(0)
    expect(panel.get_by_test_id("identity")).to_have_count(1)
    assert Contact.objects.filter(name__in=["Alice Customer", "A. Customer"]).count() == 2
