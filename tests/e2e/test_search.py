"""Search in the browser: a word of an SMS finds its conversation with the word marked in the
snippet; opening the result shows that message marked in the timeline."""

from playwright.sync_api import expect

from channels_adapters.base import InboundMessage, SenderIdentity
from inbox.services.ingest import record_inbound
from tests.e2e.conftest import off_loop, screenshot
from tests.fakes.twilio import twilio_inbox

OLD_SMS = "Hi, is the teapot with the crackled glaze still available? Order #1101"


def test_a_word_of_an_sms_finds_and_opens_the_message(signed_in, agent, support, inbox, customer):
    sms_inbox = off_loop(twilio_inbox, support, channel="sms", name="Support SMS")
    off_loop(record_inbound, InboundMessage(
        channel="sms", inbox_id=sms_inbox.pk, sender=SenderIdentity(kind="phone", value="+15558675310"),
        external_id="SM" + "7" * 32, text=OLD_SMS))
    for n in range(3):  # newer messages of the same customer, so the match is not simply the last one
        off_loop(record_inbound, InboundMessage(
            channel="sms", inbox_id=sms_inbox.pk, sender=SenderIdentity(kind="phone", value="+15558675310"),
            external_id=f"SM{n:032d}", text=f"Also, update {n}: any news?"))
    customer(inbox, "Unrelated question about opening hours", sender="bob", name="Bob Other")

    page = signed_in(agent, "/")
    page.get_by_test_id("view-tab-all").click()
    page.get_by_test_id("search-input").fill("crackled")
    result = page.get_by_test_id("search-result")
    expect(result).to_have_count(1)
    snippet = result.get_by_test_id("search-snippet")
    expect(snippet).to_contain_text("teapot with the crackled glaze")
    expect(snippet.locator("mark")).to_have_text("crackled")
    screenshot(page, "search-results-1440")

    result.click()
    hit = page.locator("[data-search-hit='true']")
    expect(hit).to_be_visible()
    expect(hit).to_contain_text(OLD_SMS)
    expect(hit.get_by_test_id("search-mark")).to_have_text("crackled")
    screenshot(page, "search-opened-1440")

    page.set_viewport_size({"width": 390, "height": 844})
    page.goto("/?view=all")
    page.get_by_test_id("view-tab-all").click()
    page.get_by_test_id("search-input").fill("glaze")
    expect(page.get_by_test_id("search-snippet").locator("mark")).to_have_text("glaze")
    screenshot(page, "search-results-390")
