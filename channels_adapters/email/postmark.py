"""Postmark's inbound webhook (`/anymail/postmark/inbound/`), accepted on the event loop.

anymail's view parses the whole message before our `inbound` receiver stores it, and the worker
parses it again: for Postmark, which posts the MIME verbatim (`RawEmail`), the event loop can keep
the same raw event without that first parse (config/webhook_fast_path.py). The request is checked
by anymail's own validators (basic auth: ANYMAIL WEBHOOK_SECRET); the fields anymail reads beside
the MIME are read here as anymail reads them (anymail/webhooks/postmark.py), and the envelope
recipient must be an inbox this process keeps. Anything else (a payload without RawEmail, another
record type, an unknown recipient, a refused request) goes to anymail's view, which answers it as
before. `tests/test_webhook_fast_path.py` checks that both ways keep the same row.
"""

from __future__ import annotations

from email.utils import unquote

from anymail.exceptions import AnymailWebhookValidationFailure
from anymail.webhooks.postmark import PostmarkInboundWebhookView
from django.http import HttpResponse

from channels_adapters.common import LoopAccept, LoopRequest, accept_on_loop_for
from channels_adapters.email import threading as th
from channels_adapters.email.inbound import email_raw_event, esp_extra
from channels_adapters.email.parse import top_level_header
from config import json_input
from inbox.inbox_cache import kept_inboxes_by_address
from inbox.models import RawInboundEvent


def _kept_event(request: LoopRequest) -> RawInboundEvent | None:
    view = PostmarkInboundWebhookView()  # reads the webhook secret now, as anymail does for every request
    try:
        view.run_validators(request)
    except AnymailWebhookValidationFailure:
        return None  # anymail's view refuses it (400) and logs why
    payload = json_input.loads(request.body.decode("utf-8"))  # as anymail reads it
    raw_email = payload.get("RawEmail") if isinstance(payload, dict) else None
    if not isinstance(raw_email, str) or payload.get("RecordType", "Inbound") != "Inbound":
        return None
    recipient = payload.get("OriginalRecipient")
    if not isinstance(recipient, str) or not isinstance(payload.get("StrippedTextReply"), str | None):
        return None  # fields of another type: anymail's view reads what it can (inbound.py)
    inboxes = kept_inboxes_by_address("email")
    inbox = inboxes.get(th.base_address(recipient.strip().lower())) if inboxes else None
    if inbox is None:
        return None
    raw_mime = raw_email.encode("utf-8")
    return email_raw_event(
        raw_mime, inbox=inbox, url=f"/anymail/{view.esp_name.lower()}/inbound/",
        extra=esp_extra(view.esp_name, envelope_recipient=recipient, envelope_sender=_envelope_sender(payload),
                        stripped_text=payload.get("StrippedTextReply"), spam_score=_spam_score(raw_mime)),
    )


def _envelope_sender(payload: dict) -> str | None:
    """Postmark puts the Return-Path first among the headers, and nowhere else."""
    headers = payload.get("Headers") or []
    if headers and headers[0]["Name"].lower() == "return-path":
        return unquote(headers[0]["Value"])
    return None


def _spam_score(raw_mime: bytes) -> float | None:
    try:
        return float(top_level_header(raw_mime, "X-Spam-Score"))
    except (TypeError, ValueError):
        return None


accept_on_loop_for(PostmarkInboundWebhookView, LoopAccept(kept_event=_kept_event, answer=HttpResponse))
