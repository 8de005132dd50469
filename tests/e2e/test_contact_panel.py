"""Editing a contact's identities in the contact panel: the composer can then answer on the new channel."""

from django.conf import settings
from playwright.sync_api import expect

from inbox.models import Conversation, Inbox
from tests.e2e.conftest import item_with_text, screenshot


def test_agent_adds_and_removes_an_identity(signed_in, agent, inbox, support, customer):
    customer(inbox, "Can you email me the contract?")
    customer(inbox, "Hi, Bob here", sender="bob", name="Bob Buyer")
    conversation = Conversation.objects.get(contact__name="Alice Customer")
    bob = Conversation.objects.get(contact__name="Bob Buyer").contact
    bob.identities.create(kind="email", value="bob@example.org")
    if "email" in settings.CHANNEL_ADAPTERS:
        Inbox.objects.create(name="Support email", channel="email", address="support@heron.test", team=support,
                             settings={"email_backend": "django.core.mail.backends.locmem.EmailBackend"})

    page = signed_in(agent, f"/conversations/{conversation.pk}")
    expect(item_with_text(page, "email me the contract")).to_be_visible()
    panel = page.get_by_test_id("contact-panel")
    identities = panel.get_by_test_id("identity")
    expect(identities).to_have_count(1)

    # Someone else's address: refused, and the agent is told to merge instead.
    panel.get_by_test_id("identity-add").click()
    panel.get_by_test_id("identity-value").fill("BOB@example.org")
    panel.get_by_test_id("identity-add-save").click()
    expect(panel.get_by_test_id("identity-error")).to_contain_text("merge")
    expect(identities).to_have_count(1)

    panel.get_by_test_id("identity-value").fill("Alice@Example.org")
    panel.get_by_test_id("identity-add-save").click()
    expect(identities.filter(has_text="alice@example.org")).to_be_visible()
    if "email" in settings.CHANNEL_ADAPTERS:
        expect(page.get_by_test_id("composer-channel").locator("option[value=email]")).to_have_count(1)
    screenshot(page, "contact-panel-identity-added")

    added = identities.filter(has_text="alice@example.org")
    added.get_by_test_id("identity-remove").click()
    added.get_by_test_id("identity-remove-confirm").click()
    expect(identities).to_have_count(1)
    assert list(conversation.contact.identities.values_list("kind", flat=True)) == ["simulator"]
