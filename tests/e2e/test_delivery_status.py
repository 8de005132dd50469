"""What a reply is going through shows on it in the timeline, live: a retry the moment it is
scheduled, not two minutes later when the retries ran out."""

from playwright.sync_api import expect

from inbox.models import Inbox
from inbox.services.ingest import record_inbound
from tests.conftest import inbound
from tests.e2e.conftest import item_with_text, off_loop, screenshot
from tests.support.servers import free_port


def test_a_reply_the_mail_server_cannot_take_shows_the_retry_at_once(signed_in, agent, support):
    # The server's inbox mails through a port nothing listens on.
    mail = Inbox.objects.create(name="Support mail", channel="email", address="support@heron.local", team=support,
                                settings={"smtp": {"host": "127.0.0.1", "port": free_port(), "timeout": 2}})
    first = off_loop(record_inbound, inbound(mail, "alice@example.org", "Where is my order?", kind="email",
                                             name="Alice Customer", subject="Order"))
    page = signed_in(agent, f"/conversations/{first.message.conversation_id}")
    expect(item_with_text(page, "Where is my order?")).to_be_visible()

    box = page.get_by_test_id("composer-input")
    box.fill("It ships today.")
    box.press("Control+Enter")
    reply = item_with_text(page, "It ships today.")
    note = reply.get_by_test_id("message-delivery-note")
    expect(note).to_contain_text("Retrying (attempt 2 of 6, next in 2 s): SMTP unavailable")
    expect(reply.get_by_test_id("delivery-status")).to_have_attribute("aria-label", "Queued")
    expect(reply.get_by_test_id("message-error")).to_have_count(0)
    screenshot(page, "delivery-retrying")
