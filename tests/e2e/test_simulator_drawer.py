"""The development-only customer simulator drawer posts real signed webhooks."""

from django.conf import settings
from playwright.sync_api import expect

from inbox.models import Message
from tests.e2e.conftest import item_with_text, row_for, screenshot


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
