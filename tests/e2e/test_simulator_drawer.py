"""The development-only customer simulator drawer posts real signed webhooks."""

import pytest
from django.conf import settings
from playwright.sync_api import expect

from channels_adapters.google_business import demo as google_demo
from inbox.management.commands.seed_demo import seed_email_inbox, seed_sms_inbox, seed_voice_inbox
from inbox.models import Message
from tests.e2e.conftest import item_with_text, row_for, screenshot
from tests.support.waiting import wait_for


def test_admin_sends_a_customer_message_from_the_drawer(signed_in, admin, inbox, customer):
    page = signed_in(admin)
    page.get_by_test_id("view-tab-all").click()

    page.get_by_test_id("simulator-open").click()
    drawer = page.get_by_test_id("simulator-drawer")
    expect(drawer).to_be_visible()
    channel = page.get_by_test_id("simulator-channel")
    offered = channel.locator("option").evaluate_all("options => options.map(o => o.value)")
    assert sorted(offered) == sorted(settings.CHANNEL_SIMULATORS), offered
    channel.select_option("simulator")
    expect(page.get_by_test_id("simulator-field-to")).to_have_value(inbox.address)  # the existing inbox
    expect(page.get_by_test_id("simulator-field-text")).not_to_have_value("")
    page.get_by_test_id("simulator-field-sender").fill("drew-42")
    page.get_by_test_id("simulator-field-name").fill("Drew Drawer")
    page.get_by_test_id("simulator-field-text").fill("Hello from the simulator drawer")
    screenshot(page, "simulator-drawer")
    page.get_by_test_id("simulator-send").click()
    expect(page.get_by_test_id("simulator-result")).to_have_attribute("data-ok", "true")

    row = row_for(page, "Drew Drawer")
    expect(row).to_contain_text("Hello from the simulator drawer")
    message = Message.objects.get(text="Hello from the simulator drawer")
    assert (message.direction, message.channel, message.inbox_id) == ("in", "simulator", inbox.pk)
    assert message.contact.identities.get().value == "drew-42"

    # A refused webhook (unknown inbox) is reported in the drawer, not swallowed.
    page.get_by_test_id("simulator-field-to").fill("no-such-inbox")
    page.get_by_test_id("simulator-send").click()
    expect(page.get_by_test_id("simulator-result")).to_have_attribute("data-ok", "false")

    page.keyboard.press("Escape")
    expect(drawer).to_be_hidden()
    row.click()
    expect(item_with_text(page, "Hello from the simulator drawer")).to_be_visible()


# The text field of each channel's simulator, and what the customer "says" through it.
REAL_CHANNELS = {
    "sms": ("text", "Drawer SMS: is my parcel on its way?"),
    "email": ("text", "Drawer email: please send the invoice again."),
    "voice": ("voicemail_text", "Drawer voicemail: please call me back about my booking."),
    "google": ("text", "Drawer Google: do you open on Sunday?"),
}


@pytest.mark.parametrize("channel", REAL_CHANNELS)
def test_the_drawer_sends_through_each_real_channel_webhook(signed_in, admin, support, channel):
    """What a newcomer does in `make run`: the demo's inboxes, a customer message on each real channel,
    through its provider's signed webhook, live in the list."""
    if channel not in settings.CHANNEL_SIMULATORS:
        pytest.skip(f"no {channel} simulator on this build")
    {"sms": seed_sms_inbox, "voice": seed_voice_inbox, "email": lambda: seed_email_inbox(support),
     "google": google_demo.seed}[channel]()
    field, text = REAL_CHANNELS[channel]
    before = set(Message.objects.values_list("pk", flat=True))

    page = signed_in(admin)
    page.get_by_test_id("view-tab-all").click()
    page.get_by_test_id("simulator-open").click()
    page.get_by_test_id("simulator-channel").select_option(channel)
    expect(page.get_by_test_id("simulator-field-to")).not_to_have_value("")  # the demo inbox
    page.get_by_test_id(f"simulator-field-{field}").fill(text)
    page.get_by_test_id("simulator-send").click()
    expect(page.get_by_test_id("simulator-result")).to_have_attribute("data-ok", "true")
    page.keyboard.press("Escape")

    arrived = wait_for(lambda: list(Message.objects.exclude(pk__in=before).filter(direction="in")))
    assert arrived and {m.channel for m in arrived} == {"google_business" if channel == "google" else channel}
    # Live in the list, then in the timeline (a voicemail shows its transcript).
    row = page.locator(f'[data-testid="conversation-row"][data-conversation-id="{arrived[-1].conversation_id}"]')
    expect(row).to_be_visible()
    row.click()
    expect(item_with_text(page, text)).to_be_visible()
    screenshot(page, f"simulator-drawer-{channel}")
