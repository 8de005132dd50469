"""What each role sees in the browser matches what the server allows."""

from playwright.sync_api import expect

from inbox.models import Conversation
from tests.e2e.conftest import item_with_text, row_for, screenshot


def test_marketer_reads_timelines_but_has_no_composer_or_actions(signed_in, marketer, inbox, sales_inbox, customer):
    customer(inbox, "Do you ship to Canada?")
    customer(sales_inbox, "I'd like a quote for 40 seats", sender="bob", name="Bob Buyer")
    support_conversation = Conversation.objects.get(inbox=inbox)

    page = signed_in(marketer)
    expect(page.get_by_test_id("view-tab-all")).to_have_attribute("class", "tab active")
    expect(row_for(page, "Bob Buyer")).to_be_visible()  # every team's conversations
    row_for(page, "Alice Customer").click()
    expect(page.get_by_test_id("conversation")).to_have_attribute("data-conversation-id", str(support_conversation.pk))
    expect(item_with_text(page, "Do you ship to Canada?")).to_have_attribute("data-direction", "in")
    expect(page.get_by_test_id("readonly-note")).to_contain_text("Read-only")
    for control in ("composer", "composer-input", "assignee-select", "status-select", "resolve-button",
                    "labels-button", "simulator-open"):
        expect(page.get_by_test_id(control)).to_have_count(0)
    page.keyboard.press("e")  # the resolve shortcut does nothing for a marketer
    screenshot(page, "marketer-view")
    support_conversation.refresh_from_db()
    assert support_conversation.status == "open"

    # Live for marketers too: a new customer message lands in the open timeline.
    customer(inbox, "Also, do you ship to Mexico?")
    expect(item_with_text(page, "ship to Mexico")).to_be_visible()

    page.get_by_test_id("nav-contacts").click()
    expect(page.get_by_test_id("contacts-page")).to_be_visible()
    page.get_by_test_id("contacts-search").fill("Bob")
    expect(page.get_by_test_id("contact-row").filter(has_text="Bob Buyer")).to_be_visible()
    expect(page.get_by_test_id("contact-row").filter(has_text="Alice Customer")).to_have_count(0)
    page.get_by_test_id("contacts-search").fill("")
    expect(page.get_by_test_id("contact-row")).to_have_count(2)
    page.get_by_test_id("contact-row").filter(has_text="Alice Customer").click()
    expect(page.get_by_test_id("timeline-item").filter(has_text="Canada")).to_be_visible()
    screenshot(page, "contacts")


def test_agent_of_another_team_cannot_see_support_conversations(signed_in, sales_agent, inbox, sales_inbox, customer):
    customer(inbox, "Support-only secret")
    customer(sales_inbox, "Sales question", sender="bob", name="Bob Buyer")
    support_conversation = Conversation.objects.get(inbox=inbox)

    page = signed_in(sales_agent)
    page.get_by_test_id("view-tab-all").click()
    expect(row_for(page, "Bob Buyer")).to_be_visible()
    expect(row_for(page, "Alice Customer")).to_have_count(0)

    # A new Support message does not show up live either.
    customer(inbox, "Another support-only secret")
    customer(sales_inbox, "Sales follow-up", sender="bob", name="Bob Buyer")
    expect(row_for(page, "Bob Buyer")).to_contain_text("Sales follow-up")
    expect(row_for(page, "Alice Customer")).to_have_count(0)

    page.goto(f"/conversations/{support_conversation.pk}")
    expect(page.get_by_test_id("conversation-not-found")).to_be_visible()
    expect(page.get_by_test_id("conversation")).to_have_count(0)
    expect(page.get_by_text("secret")).to_have_count(0)
    screenshot(page, "conversation-not-found")
