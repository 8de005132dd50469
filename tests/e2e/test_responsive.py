"""The three-pane inbox on laptop screens: nothing important is cut off or pushed out of the window.

Below 1200 px the contact panel is not a third column but a drawer opened from the conversation header.
Screenshots: test-results/screenshots/responsive-<width>x<height>*.png.
"""

import pytest
from django.conf import settings
from playwright.sync_api import Locator, Page, expect

from inbox.models import Conversation, Inbox
from inbox.services.contacts import add_identity, update_contact
from inbox.services.conversations import update_conversation
from inbox.services.ingest import record_inbound
from tests.conftest import inbound
from tests.e2e.conftest import item_with_text, off_loop, screenshot

SIZES = [(1024, 768), (1280, 800), (1440, 900)]
DRAWER_BELOW = 1200
LONG_LINK = "https://tracking.example.com/parcel/" + "A1B2C3D4" * 16


@pytest.fixture
def busy_conversation(inbox, support, agent, customer) -> Conversation:
    """A conversation with what makes a screen crowded: long names and labels, an email, an unbreakable link."""
    customer(inbox, "Hello, my order #4821 arrived with a cracked screen. Can you help me?",
             name="Alexandra Montgomery-Richardson")
    customer(inbox, f"Tracking says delivered: {LONG_LINK}", name="Alexandra Montgomery-Richardson")
    for n, name in enumerate(["Bob Buyer", "Carol Jones", "Dan Smith"]):
        customer(inbox, f"Question number {n} about my subscription renewal", sender=f"other-{n}", name=name)
    conversation = Conversation.objects.get(messages__text__startswith="Hello, my order")
    contact = conversation.contact
    off_loop(add_identity, contact, "email", "alexandra@example.org")
    if "email" in settings.CHANNEL_ADAPTERS:
        email_inbox = Inbox.objects.create(
            name="Support email", channel="email", address="support@heron.test", team=support,
            settings={"email_backend": "django.core.mail.backends.locmem.EmailBackend"},
        )
        off_loop(record_inbound, inbound(
            email_inbox, "alexandra@example.org", "Photos of the damage attached.", kind="email",
            subject="Re: Damaged order #4821",
            html="<p>Photos of the damage <b>attached</b>.</p><table width='900'><tr><td>wide table</td></tr></table>",
        ))
    off_loop(update_conversation, conversation, agent, assignee=agent, priority="high",
             labels=["damaged-goods", "refund-requested"])
    off_loop(update_contact, contact, labels=["vip", "churn-risk"])
    return conversation


def box(locator: Locator) -> dict:
    found = locator.bounding_box()
    assert found, f"{locator} has no box"
    return found


def assert_inside_window(page: Page, locator: Locator, what: str) -> dict:
    window = page.viewport_size
    b = box(locator)
    assert b["x"] >= 0 and b["x"] + b["width"] <= window["width"] + 0.5, f"{what} sticks out sideways: {b}"
    assert b["y"] >= 0 and b["y"] + b["height"] <= window["height"] + 0.5, f"{what} sticks out vertically: {b}"
    return b


def assert_no_horizontal_scroll(page: Page) -> None:
    overflow = page.evaluate("() => document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"the page scrolls sideways by {overflow}px"


@pytest.mark.parametrize("width, height", SIZES, ids=[f"{w}x{h}" for w, h in SIZES])
def test_inbox_fits_a_laptop_screen(signed_in, agent, busy_conversation, width, height):
    page = signed_in(agent, f"/conversations/{busy_conversation.pk}")
    page.set_viewport_size({"width": width, "height": height})
    page.reload()  # laid out at this size from the start, as on a laptop
    expect(item_with_text(page, "cracked screen")).to_be_visible()
    expect(page.get_by_test_id("conversation-row")).to_have_count(1)  # Mine: the assigned one
    page.get_by_test_id("view-tab-all").click()
    expect(page.get_by_test_id("conversation-row")).to_have_count(4)
    name = f"responsive-{width}x{height}"
    screenshot(page, name)

    assert_no_horizontal_scroll(page)
    for control in ("current-user", "logout", "search-input"):
        assert_inside_window(page, page.get_by_test_id(control), control)
    rows = assert_inside_window(page, page.get_by_test_id("conversation-row").first, "the first conversation row")
    timeline = assert_inside_window(page, page.get_by_test_id("timeline"), "the timeline")
    assert rows["x"] + rows["width"] <= timeline["x"], "the list and the timeline overlap"
    assert timeline["width"] >= 380 and timeline["height"] >= height * 0.3, f"the timeline is squeezed: {timeline}"
    link = item_with_text(page, "Tracking says delivered")
    expect(link).to_be_visible()
    assert box(link)["x"] + box(link)["width"] <= timeline["x"] + timeline["width"] + 0.5, "a long link widens the timeline"

    header = assert_inside_window(page, page.locator(".conv-head"), "the conversation header")
    assert header["height"] <= 0.2 * height, f"the header eats the screen: {header['height']}px"
    for control in ("assignee-select", "team-select", "status-select", "priority-select", "labels-button",
                    "resolve-button"):
        assert_inside_window(page, page.get_by_test_id(control), control)

    # The tallest composer (email: subject line) still leaves its send button on screen and clickable.
    if "email" in settings.CHANNEL_ADAPTERS:
        page.get_by_test_id("composer-channel").select_option("email")
        page.get_by_test_id("composer-subject").fill("Your replacement")
    page.get_by_test_id("composer-input").fill(f"A replacement is on its way ({width}px).")
    send = page.get_by_test_id("composer-send")
    assert_inside_window(page, send, "the send button")
    send.click(trial=True)  # visible, enabled and not covered by anything
    send.click()
    expect(item_with_text(page, f"A replacement is on its way ({width}px)")).to_be_in_viewport()
    assert_no_horizontal_scroll(page)
    screenshot(page, f"{name}-replied")

    panel = page.get_by_test_id("contact-panel")
    toggle = page.get_by_test_id("contact-panel-toggle")
    if width >= DRAWER_BELOW:
        expect(toggle).to_be_hidden()
        panel_box = assert_inside_window(page, panel, "the contact panel")
        assert panel_box["x"] >= timeline["x"] + timeline["width"], "the contact panel covers the timeline"
        expect(panel.get_by_test_id("contact-label")).to_have_text(["churn-risk", "vip"])
        return

    # Narrow: the panel is a drawer, closed until asked for; the customer's labels stay in sight in the header.
    expect(panel).to_be_hidden()
    expect(page.get_by_test_id("conversation-contact-labels")).to_contain_text("vip")
    assert_inside_window(page, toggle, "the contact panel button")
    expect(toggle).to_have_attribute("aria-expanded", "false")
    toggle.click()
    expect(toggle).to_have_attribute("aria-expanded", "true")
    expect(panel).to_be_visible()
    assert_inside_window(page, panel, "the contact drawer")
    expect(panel.get_by_test_id("contact-name")).to_have_text("Alexandra Montgomery-Richardson")
    expect(panel.get_by_test_id("contact-label")).to_have_text(["churn-risk", "vip"])
    assert_no_horizontal_scroll(page)
    screenshot(page, f"{name}-contact-drawer")
    page.keyboard.press("Escape")
    expect(panel).to_be_hidden()
    expect(toggle).to_be_focused()
    toggle.click()
    expect(panel).to_be_visible()
    page.get_by_test_id("contact-drawer-close").click()
    expect(panel).to_be_hidden()


def test_contacts_page_folds_the_details_into_a_drawer_on_a_narrow_screen(signed_in, marketer, busy_conversation):
    page = signed_in(marketer, f"/contacts/{busy_conversation.contact_id}")
    page.set_viewport_size({"width": 1024, "height": 768})
    page.reload()
    expect(item_with_text(page, "cracked screen")).to_be_visible()
    panel = page.get_by_test_id("contact-panel")
    expect(panel).to_be_hidden()
    page.get_by_test_id("contact-panel-toggle").click()
    assert_inside_window(page, panel, "the contact drawer")
    expect(panel.get_by_test_id("contact-label")).to_have_text(["churn-risk", "vip"])
    expect(panel.get_by_test_id("contact-label-input")).to_have_count(0)  # marketers read only
    assert_no_horizontal_scroll(page)
    screenshot(page, "responsive-1024x768-contacts-drawer")
    page.get_by_test_id("contact-drawer-backdrop").click(position={"x": 40, "y": 300})
    expect(panel).to_be_hidden()
