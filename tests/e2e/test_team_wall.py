"""The team wall in the browser: a customer who wrote to Support and then to Sales shows Sales only
its own conversation (and that others exist); a marketer reads Support's, never its private note."""

from playwright.sync_api import expect

from inbox.models import Conversation, Message
from inbox.services.outbound import send_message
from tests.e2e.conftest import item_with_text, off_loop, row_for, screenshot

NOTE = "Refund approved: keep it between us"


def test_each_team_and_the_marketer_see_only_what_they_may(
    signed_in, agent, sales_agent, marketer, inbox, sales_inbox, customer
):
    customer(inbox, "My blue mug arrived broken", sender="alice")
    support_conversation = Conversation.objects.get()
    off_loop(send_message, support_conversation, agent, text=NOTE, private=True)
    customer(sales_inbox, "Do you also sell plates?", sender="alice")
    sales_conversation = Conversation.objects.exclude(pk=support_conversation.pk).get()
    assert Message.objects.get(text="Do you also sell plates?").contact_id == support_conversation.contact_id

    page = signed_in(sales_agent, f"/conversations/{sales_conversation.pk}")
    page.get_by_test_id("view-tab-all").click()
    expect(page.get_by_test_id("conversation-row")).to_have_count(1)
    expect(item_with_text(page, "Do you also sell plates?")).to_be_visible()
    expect(item_with_text(page, "blue mug")).to_have_count(0)
    expect(item_with_text(page, NOTE)).to_have_count(0)
    expect(page.get_by_test_id("conversations-elsewhere")).to_have_text("1 more conversation is with other teams.")
    screenshot(page, "team-wall-sales-1440")
    page.set_viewport_size({"width": 390, "height": 844})
    expect(item_with_text(page, "Do you also sell plates?")).to_be_visible()
    screenshot(page, "team-wall-sales-390")

    page = signed_in(marketer, f"/conversations/{support_conversation.pk}")
    expect(item_with_text(page, "My blue mug arrived broken")).to_be_visible()
    expect(item_with_text(page, "Do you also sell plates?")).to_be_visible()  # one timeline per customer
    expect(item_with_text(page, NOTE)).to_have_count(0)
    expect(row_for(page, "Alice Customer").first).not_to_contain_text(NOTE)
    screenshot(page, "team-wall-marketer-1440")

    page = signed_in(agent, f"/conversations/{support_conversation.pk}")
    expect(item_with_text(page, NOTE)).to_be_visible()
    expect(item_with_text(page, "Do you also sell plates?")).to_have_count(0)
