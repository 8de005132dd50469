"""The composer in the browser: canned responses from the keyboard, the SMS segment counter, and a reply
box that closes, saying why, the moment the customer texts STOP."""

from playwright.sync_api import expect

from inbox.models import CannedResponse, Conversation, Message
from inbox.services.consent import apply_consent
from inbox.services.ingest import record_inbound
from tests.conftest import inbound
from tests.e2e.conftest import item_with_text, off_loop, screenshot
from tests.fakes.twilio import twilio_inbox

SHIPPING = "Orders ship within 2 business days; you get a tracking link by email."
SHIP_INTL = "We ship to 40 countries; customs fees are paid on delivery."


def test_canned_responses_are_picked_from_the_keyboard(signed_in, agent, inbox, customer):
    CannedResponse.objects.create(shortcut="shipping", text=SHIPPING)
    CannedResponse.objects.create(shortcut="ship-intl", text=SHIP_INTL)
    CannedResponse.objects.create(shortcut="thanks", text="Thank you for your patience!")
    customer(inbox, "Do you ship to Norway?")
    conversation = Conversation.objects.get()
    page = signed_in(agent, f"/conversations/{conversation.pk}")
    expect(item_with_text(page, "ship to Norway")).to_be_visible()

    page.keyboard.press("r")
    box = page.get_by_test_id("composer-input")
    box.press_sequentially("/sh")
    picker = page.get_by_test_id("canned-picker")
    options = picker.get_by_test_id("canned-option")
    expect(options.locator("strong")).to_have_text(["/ship-intl", "/shipping"])  # by shortcut
    expect(options.first).to_have_attribute("aria-selected", "true")
    expect(box).to_have_attribute("aria-expanded", "true")
    box.press("ArrowDown")
    box.press("ArrowDown")  # wraps around to the first again
    expect(options.first).to_have_attribute("aria-selected", "true")
    screenshot(page, "audit-canned-picker")
    box.press("Enter")
    expect(picker).to_have_count(0)
    expect(box).to_have_value(SHIP_INTL)
    expect(box).to_be_focused()
    box.press("Control+Enter")
    expect(item_with_text(page, "40 countries")).to_have_attribute("data-direction", "out")
    expect(box).to_have_value("")
    expect(box).to_be_focused()  # ready for the next one

    # Esc closes the list and leaves the text alone; the next Esc leaves the box.
    box.press_sequentially("/th")
    expect(options).to_have_count(1)
    box.press("Escape")
    expect(picker).to_have_count(0)
    expect(box).to_have_value("/th")
    expect(box).to_be_focused()
    box.press("Escape")
    expect(box).not_to_be_focused()
    assert Message.objects.filter(direction="out", text=SHIP_INTL).count() == 1


def test_sms_counter_and_the_reply_box_closing_when_the_customer_texts_stop(signed_in, agent, support):
    sms = twilio_inbox(support, channel="sms", name="Support SMS")
    phone = "+15558675310"
    first = off_loop(record_inbound, inbound(sms, phone, "Is my table ready?", kind="phone", name="Paula Phone"))
    page = signed_in(agent, f"/conversations/{first.message.conversation_id}")
    expect(item_with_text(page, "table ready")).to_be_visible()
    expect(page.get_by_test_id("composer-channel")).to_have_value("sms")
    expect(page.get_by_test_id("composer-recipient")).to_have_text("to +1 555 867 5310")

    box = page.get_by_test_id("composer-input")
    counter = page.get_by_test_id("sms-counter")
    box.fill("Your table is ready!")
    expect(counter).to_have_text("20 chars · 1 segment · GSM-7")
    box.fill("Your table is ready! " + "x" * 150)
    expect(counter).to_have_text("171 chars · 2 segments · GSM-7")
    box.fill("Your table is ready 🎉")
    expect(counter).to_have_text("22 chars · 1 segment · UCS-2")  # one emoji: the whole text goes as UCS-2
    screenshot(page, "audit-sms-counter")

    stop = off_loop(record_inbound, inbound(sms, phone, "STOP", kind="phone", name="Paula Phone"))
    off_loop(apply_consent, stop.message, "STOP")
    reason = page.get_by_test_id("composer-disabled-reason")
    expect(reason).to_contain_text("opted out")
    expect(reason).to_contain_text("START")
    expect(box).to_be_disabled()
    expect(page.get_by_test_id("composer-send")).to_be_disabled()
    expect(item_with_text(page, "opted out of messages")).to_be_visible()  # the activity, live
    screenshot(page, "audit-sms-opted-out")

    # A private note is still possible, one click away.
    reason.get_by_test_id("composer-note-instead").click()
    expect(page.get_by_test_id("composer")).to_have_attribute("data-mode", "note")
    expect(box).to_be_enabled()
    expect(box).to_be_focused()
