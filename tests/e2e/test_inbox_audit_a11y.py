"""Accessible markup on the main screens: every control has a name a screen reader can say, and Tab
reaches the main areas in reading order (list, conversation, composer, contact)."""

from playwright.sync_api import expect

from inbox.models import Conversation
from tests.e2e.conftest import item_with_text

# How many visible controls there are, and those without an accessible name (label, aria-label(ledby), title or text).
UNNAMED_CONTROLS = """
() => {
  const named = (el) => {
    if (el.getAttribute("aria-label")?.trim() || el.getAttribute("title")?.trim()) return true;
    const by = el.getAttribute("aria-labelledby");
    if (by && by.split(/\\s+/).some((id) => document.getElementById(id)?.textContent.trim())) return true;
    if (el.labels && Array.from(el.labels).some((l) => l.textContent.trim())) return true;
    return el.matches("button, a, summary, [role=tab]") && el.textContent.trim().length > 0;
  };
  const visible = Array.from(document.querySelectorAll("input, select, textarea, button, a[href], summary, [role=tab]"))
    .filter((el) => el.offsetParent !== null);
  return { checked: visible.length, unnamed: visible.filter((el) => !named(el)).map((el) => el.outerHTML.slice(0, 120)) };
}
"""


def assert_all_named(page, at_least: int) -> None:
    found = page.evaluate(UNNAMED_CONTROLS)
    assert found["checked"] >= at_least and found["unnamed"] == [], found


def test_controls_are_named_and_tab_follows_the_panes(signed_in, agent, marketer, inbox, customer):
    customer(inbox, "Where is my order?")
    conversation = Conversation.objects.get()
    page = signed_in(agent, f"/conversations/{conversation.pk}")
    expect(item_with_text(page, "Where is my order?")).to_be_visible()
    expect(page.get_by_test_id("contact-panel").get_by_test_id("identity")).to_have_count(1)
    assert_all_named(page, 30)
    page.get_by_test_id("composer-mode-note").click()
    page.get_by_test_id("status-select").focus()
    page.get_by_test_id("status-select").select_option("snoozed")
    expect(page.get_by_test_id("snooze-dialog")).to_be_visible()
    assert_all_named(page, 35)
    page.keyboard.press("Escape")

    # Tab order: the areas come in the order they are read.
    page.get_by_test_id("search-input").focus()
    order = []
    for _ in range(80):
        page.keyboard.press("Tab")
        area = page.evaluate("""() => {
          const el = document.activeElement;
          const pane = el && el.closest("[data-testid=conversation-list], .conv-head, [data-testid=timeline], [data-testid=composer], [data-testid=contact-panel]");
          return pane ? (pane.dataset.testid || pane.className) : null;
        }""")
        if area and (not order or order[-1] != area):
            order.append(area)
    assert order[:5] == ["conversation-list", "conv-head", "timeline", "composer", "contact-panel"], order

    contacts = signed_in(marketer, f"/contacts/{conversation.contact_id}")
    expect(item_with_text(contacts, "Where is my order?")).to_be_visible()
    assert_all_named(contacts, 5)
