"""Contact labels in the browser: an agent labels the customer in the contact panel, colleagues see it live."""

from playwright.sync_api import expect

from inbox.models import Conversation
from tests.e2e.conftest import screenshot


def is_contact_patch(contact_id: int):
    path = f"/api/v1/contacts/{contact_id}/"
    return lambda response: response.request.method == "PATCH" and response.url.endswith(path)


def test_agent_labels_a_contact_and_a_colleague_sees_it_live(signed_in, agent, admin, marketer, inbox, customer):
    customer(inbox, "Do you do bulk discounts?")
    conversation = Conversation.objects.get()
    contact = conversation.contact

    ada = signed_in(admin, f"/conversations/{conversation.pk}")
    ada_panel = ada.get_by_test_id("contact-panel")
    expect(ada_panel.get_by_test_id("contact-name")).to_have_text("Alice Customer")
    expect(ada_panel.get_by_test_id("contact-label")).to_have_count(0)

    ana = signed_in(agent, f"/conversations/{conversation.pk}")
    panel = ana.get_by_test_id("contact-panel")
    ana.evaluate("window.__sameDocument = true")
    label_input = panel.get_by_test_id("contact-label-input")
    label_input.fill("VIP customer")
    with ana.expect_response(is_contact_patch(contact.pk)) as patched:
        label_input.press("Enter")
    assert patched.value.status == 200, patched.value.text()
    expect(panel.get_by_test_id("contact-label")).to_have_text(["vip-customer"])
    expect(label_input).to_have_value("")
    label_input.fill("churn-risk")
    with ana.expect_response(is_contact_patch(contact.pk)):
        panel.get_by_test_id("contact-label-add").click()
    expect(panel.get_by_test_id("contact-label")).to_have_text(["churn-risk", "vip-customer"])
    assert sorted(contact.labels.values_list("name", flat=True)) == ["churn-risk", "vip-customer"]

    # Ada did nothing: her panel and the header next to the name follow, without a reload.
    expect(ada_panel.get_by_test_id("contact-label")).to_have_text(["churn-risk", "vip-customer"])
    expect(ada.get_by_test_id("conversation-contact-labels")).to_contain_text("churn-risk")
    screenshot(ada, "contact-labels-live")

    with ana.expect_response(is_contact_patch(contact.pk)):
        panel.get_by_test_id("contact-label-remove-churn-risk").click()
    expect(ada_panel.get_by_test_id("contact-label")).to_have_text(["vip-customer"])
    assert list(contact.labels.values_list("name", flat=True)) == ["vip-customer"]
    assert ana.evaluate("window.__sameDocument") is True

    # A marketer sees the customer's labels, with nothing to change them.
    mia = signed_in(marketer, f"/conversations/{conversation.pk}")
    mia_panel = mia.get_by_test_id("contact-panel")
    expect(mia_panel.get_by_test_id("contact-label")).to_have_text(["vip-customer"])
    expect(mia_panel.get_by_test_id("contact-label-input")).to_have_count(0)
    expect(mia_panel.get_by_test_id("contact-label-remove-vip-customer")).to_have_count(0)

    # The Contacts page filters by the label.
    mia.get_by_test_id("nav-contacts").click()
    mia.get_by_test_id("contacts-label-filter").select_option("vip-customer")
    expect(mia.get_by_test_id("contact-row")).to_have_count(1)
    expect(mia.get_by_test_id("contact-row")).to_contain_text("Alice Customer")
