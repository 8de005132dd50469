"""Composer extras in the browser: @mentions in notes (and the mentioned colleague's notification),
attachments chosen with the paperclip, client-side size limits."""

import re
import struct
import zlib

from playwright.sync_api import expect

from inbox.models import Attachment, Conversation, Message, Role
from inbox.services.people import create_agent
from tests.conftest import PASSWORD
from tests.e2e.conftest import FAKE_NOTIFICATIONS, item_with_text, screenshot


def png(width: int = 24, height: int = 16) -> bytes:
    """A small valid PNG (a blue/orange gradient), so the chip shows a real thumbnail."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    rows = b"".join(
        b"\x00" + b"".join(bytes((30 + 8 * x, 90, 220 - 8 * x)) for x in range(width)) for _ in range(height)
    )
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


def test_note_mentions_a_colleague_through_the_picker(signed_in, agent, inbox, customer):
    colleague = create_agent("bo@example.com", role=Role.AGENT, password=PASSWORD, name="Bo Berg", teams=["Support"])
    customer(inbox, "The blender I bought arrived broken")
    conversation = Conversation.objects.get()

    # Bo waits on the inbox with no conversation open and switches desktop notifications on.
    bo = signed_in(colleague, "/", init_script=FAKE_NOTIFICATIONS)
    toggle = bo.get_by_test_id("notifications-toggle")
    expect(toggle).to_have_attribute("aria-pressed", "false")
    assert bo.evaluate("window.__permissionRequests") == 0  # never asked on page load
    toggle.click()
    expect(toggle).to_have_attribute("aria-pressed", "true")
    assert bo.evaluate("window.__permissionRequests") == 1

    ana = signed_in(agent, f"/conversations/{conversation.pk}")
    expect(item_with_text(ana, "blender I bought")).to_be_visible()
    ana.get_by_test_id("composer-mode-note").click()
    expect(ana.get_by_test_id("composer")).to_have_attribute("data-mode", "note")
    box = ana.get_by_test_id("composer-input")
    box.press_sequentially("Refund approved, ")
    box.press_sequentially("@b")
    picker = ana.get_by_test_id("mention-picker")
    expect(picker).to_be_visible()
    expect(box).to_have_attribute("aria-expanded", "true")
    option = picker.get_by_test_id("mention-option").filter(has_text="Bo Berg")
    expect(option).to_have_attribute("data-option-id", str(colleague.pk))
    expect(option).to_have_attribute("aria-selected", "true")
    screenshot(ana, "composer-mention-picker")
    box.press("Enter")  # picks the highlighted colleague
    expect(picker).to_have_count(0)
    expect(box).to_have_value("Refund approved, @Bo Berg ")
    box.press_sequentially("please ship the replacement.")

    with ana.expect_response(lambda r: r.request.method == "POST" and r.url.endswith(f"/conversations/{conversation.pk}/messages/")) as sent:
        ana.get_by_test_id("composer-send").click()
    assert sent.value.status == 201, sent.value.text()
    assert sent.value.request.post_data_json["mentions"] == [colleague.pk]

    note = item_with_text(ana, "Refund approved")
    expect(note).to_have_attribute("data-kind", "note")
    mention = note.get_by_test_id("mention")
    expect(mention).to_have_text("@Bo Berg")
    expect(mention).to_have_attribute("data-user-id", str(colleague.pk))
    expect(box).to_have_value("")
    saved = Message.objects.get(kind="note")
    assert saved.metadata["mentions"] == [{"id": colleague.pk, "name": "Bo Berg"}]

    # Bo is told, and the notification opens the conversation with the mention highlighted for him.
    bo.wait_for_function("() => window.__notifications.length > 0")
    shown = bo.evaluate("window.__notifications.map(n => ({title: n.title, body: n.options.body}))")
    assert shown == [{"title": "Ana Agent mentioned you", "body": "Alice Customer: Refund approved, @Bo Berg please ship the replacement."}], shown
    bo.evaluate("window.__notifications[0].onclick()")
    expect(bo).to_have_url(re.compile(rf"/conversations/{conversation.pk}$"))
    mine = item_with_text(bo, "Refund approved").get_by_test_id("mention")
    expect(mine).to_have_class(re.compile(r"\bmention-me\b"))
    screenshot(bo, "timeline-note-mention")


def test_reply_with_an_attachment(signed_in, agent, inbox, customer):
    customer(inbox, "Can you send me the wiring diagram?")
    conversation = Conversation.objects.get()
    page = signed_in(agent, f"/conversations/{conversation.pk}")
    expect(item_with_text(page, "wiring diagram")).to_be_visible()

    attach = page.get_by_test_id("composer-attach")
    expect(attach).to_be_visible()
    # Over the limit: refused in the browser with a message that says why.
    page.get_by_test_id("composer-file-input").set_input_files(
        {"name": "huge.mov", "mimeType": "video/quicktime", "buffer": b"\0" * (10 * 1024 * 1024 + 1)}
    )
    expect(page.get_by_test_id("composer-attach-error")).to_contain_text("huge.mov is 10.0 MB; each file can be at most 10.0 MB")
    expect(page.get_by_test_id("attachment-chip")).to_have_count(0)

    attach.set_input_files([
        {"name": "diagram.png", "mimeType": "image/png", "buffer": png()},
        {"name": "notes.txt", "mimeType": "text/plain", "buffer": b"Red to L, black to N.\n"},
    ])
    chips = page.get_by_test_id("attachment-chip")
    expect(chips).to_have_count(2)
    expect(chips.first).to_contain_text("diagram.png")
    chips.filter(has_text="notes.txt").get_by_test_id("attachment-chip-remove").click()
    expect(chips).to_have_count(1)
    page.get_by_test_id("composer-input").fill("Here is the diagram.")
    screenshot(page, "composer-attachments")

    with page.expect_response(lambda r: r.request.method == "POST" and r.url.endswith(f"/conversations/{conversation.pk}/messages/")) as sent:
        page.get_by_test_id("composer-send").click()
    assert sent.value.status == 201, sent.value.text()
    assert sent.value.request.headers["content-type"].startswith("multipart/form-data")

    reply = item_with_text(page, "Here is the diagram")
    expect(reply).to_have_attribute("data-direction", "out")
    shown = reply.get_by_test_id("attachment")
    expect(shown).to_have_count(1)
    expect(shown.locator("img")).to_have_attribute("alt", "diagram.png")
    expect(chips).to_have_count(0)
    expect(page.get_by_test_id("composer-attach-error")).to_have_count(0)
    screenshot(page, "timeline-reply-with-attachment")

    stored = Attachment.objects.get()
    assert (stored.filename, stored.content_type, stored.size) == ("diagram.png", "image/png", len(png()))
    assert stored.message.text == "Here is the diagram." and stored.message.direction == "out"
