"""Email in the browser: inline (cid:) images inside the sandboxed iframe, and "View original"."""

from __future__ import annotations

from email import message_from_bytes, policy

import httpx
import pytest
from playwright.sync_api import Page, expect

from channels_adapters.email.simulate import postmark_payload, webhook_auth
from inbox.models import Inbox, Message
from tests.e2e.conftest import item_with_text, screenshot
from tests.e2e.test_composer_extras import png
from tests.support.email import mime


@pytest.fixture
def email_inbox(support) -> Inbox:
    return Inbox.objects.create(name="Acme Support", channel="email", address="support@heron.local", team=support)


def receive_email(server, raw: bytes) -> Message:
    """Post raw MIME through the real Postmark inbound webhook of the running server."""
    response = httpx.post(server.url + "/anymail/postmark/inbound/", json=postmark_payload(raw), auth=webhook_auth(),
                          timeout=10)
    assert response.status_code == 200, response.text
    return Message.objects.order_by("-id").first()


def email_with_inline_logo(remote_image: str = "https://tracker.example/pixel.gif") -> bytes:
    raw = mime(subject="Broken lamp", text="The lamp arrived broken, see the photo.",
               html='<p>The lamp arrived broken.</p><p><img src="cid:logo" alt="inline logo"></p>'
                    f'<p><img src="{remote_image}" alt="remote pixel"></p>')
    msg = message_from_bytes(raw, policy=policy.default)
    msg.get_body(("html",)).add_related(png(24, 16), "image", "png", cid="<logo>", filename="logo.png")
    return msg.as_bytes()


def inline_image_width(page: Page, alt: str = "inline logo") -> int:
    """naturalWidth of an image inside the sandboxed iframe, once it finished loading (0: broken)."""
    frame = page.get_by_test_id("email-html").element_handle().content_frame()
    image = frame.locator(f'img[alt="{alt}"]')
    image.wait_for(state="attached")
    frame.wait_for_function("img => img.complete", arg=image.element_handle())
    return image.evaluate("img => img.naturalWidth")


def test_inline_cid_image_loads_inside_the_sandboxed_iframe(server, signed_in, agent, email_inbox):
    message = receive_email(server, email_with_inline_logo())
    assert message.metadata["cid_map"] == {"logo": 0}

    page = signed_in(agent, f"/conversations/{message.conversation_id}")
    expect(item_with_text(page, "Broken lamp")).to_be_visible()
    assert inline_image_width(page) == 24
    # The remote tracker stays blocked until the agent asks for it.
    expect(page.get_by_test_id("load-remote-images")).to_be_visible()
    screenshot(page, "email-inline-cid-image")


def test_view_original_opens_the_email_as_it_arrived_in_a_new_tab(server, signed_in, marketer, email_inbox):
    raw = email_with_inline_logo()
    message = receive_email(server, raw)

    page = signed_in(marketer, f"/conversations/{message.conversation_id}")  # read-only roles may look too
    item = item_with_text(page, "Broken lamp")
    link = item.get_by_test_id("view-original")
    expect(link).to_have_text("View original")
    expect(link).to_have_attribute("target", "_blank")
    with page.expect_popup() as popup_info:
        link.click()
    original = popup_info.value
    original.wait_for_load_state()
    assert original.url.endswith(f"/api/v1/messages/{message.pk}/original/")
    body = original.locator("body")
    expect(body).to_contain_text("Subject: Broken lamp")
    expect(body).to_contain_text("Content-ID: <logo>")
    assert original.evaluate("document.contentType") == "text/plain"
    screenshot(original, "email-view-original")


def test_an_emails_formatting_survives_and_relative_images_stay_out(server, signed_in, agent, email_inbox):
    raw = mime(subject="Styled order", text="Your order.",
               html='<p style="color: rgb(200, 0, 0); position: fixed">Red text</p>'
                    '<table style="border-collapse: collapse"><tr><td style="border: 2px solid rgb(0, 0, 200)">'
                    'Cell</td></tr></table><p><img src="x" alt="relative"></p>')
    message = receive_email(server, raw)
    assert 'src="x"' not in message.html and "position" not in message.html

    page = signed_in(agent, f"/conversations/{message.conversation_id}")
    frame = page.get_by_test_id("email-html").element_handle().content_frame()
    expect(frame.get_by_text("Red text")).to_have_css("color", "rgb(200, 0, 0)")
    expect(frame.get_by_text("Cell")).to_have_css("border-top-color", "rgb(0, 0, 200)")
    expect(frame.locator('img[alt="relative"]')).not_to_have_attribute("src", "x")
    screenshot(page, "email-inline-styles")
