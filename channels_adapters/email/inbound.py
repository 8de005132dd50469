"""anymail's `inbound` signal → a stored raw event (the MIME, verbatim) → the one email processor.

anymail has validated the webhook (basic auth / ESP signature) before the signal fires; a failed
validation is a 400 from anymail and never reaches this module, so nothing is stored.
IMAP (imap.py) stores its raw events the same way and calls `process_raw_event` too.

A verified payload anymail cannot read (a field missing or of another type) would be a 500 from
Django, which the ESP retries forever, with nothing kept. Every anymail view Heron mounts
(urls.py) refuses it instead: a 400 that says why, and the request kept raw, failed, to look at.
"""

from __future__ import annotations

import logging

from anymail.exceptions import AnymailWebhookValidationFailure
from anymail.inbound import AnymailInboundMessage
from anymail.signals import inbound
from django.db import IntegrityError
from django.dispatch import receiver
from django.http import HttpRequest, JsonResponse

from channels_adapters.common import kept_headers, raw_event_for
from channels_adapters.email.parse import find_inbox, message_id_header, parse_email, parse_mime
from channels_adapters.email.threading import normalize_message_id
from config import json_input
from inbox import plain_writes
from inbox.inbox_cache import forget_inboxes
from inbox.models import Inbox, Message, RawInboundEvent
from inbox.services.email_threading import ingest_email, record_bounce
from inbox.services.raw_events import (
    BadPayload,
    defer_raw_event,
    process_raw_event,
    register_processor,
    set_outcome,
)

log = logging.getLogger("heron.email")

ENDPOINT = "email.inbound"
UNREADABLE_ENDPOINT = "email.unreadable"


def _original_mime(esp_event) -> bytes | None:
    """The MIME exactly as the ESP posted it, when it posts raw MIME (better than re-serializing)."""
    try:
        if isinstance(esp_event, dict) and isinstance(esp_event.get("RawEmail"), str):  # Postmark
            return esp_event["RawEmail"].encode("utf-8")
        if isinstance(esp_event, HttpRequest) and esp_event.method == "POST":
            for key in ("body-mime", "email"):  # Mailgun inbound_mime, SendGrid "raw"
                value = esp_event.POST.get(key)
                if value:
                    return value.encode("utf-8")
    except Exception:  # noqa: BLE001 - fall back to the parsed message
        log.debug("could not read the ESP's raw MIME", exc_info=True)
    return None


def store_email(raw_mime: bytes, *, inbox: Inbox | None, url: str, extra: dict) -> RawInboundEvent:
    """Keeps an email: the MIME verbatim, with what the ESP (or IMAP) told us beside it as headers."""
    raw = RawInboundEvent(channel="email", endpoint=ENDPOINT, inbox=inbox, url=url[:2000], headers=extra,
                          content_type="message/rfc822", body=raw_mime)
    plain_writes.insert(raw)
    return raw


def ingest_mime(inbox: Inbox, raw: bytes, *, url: str, extra: dict) -> str:
    """Raw MIME we fetched ourselves (IMAP, the demo seed): stored, then the same processor as webhooks.

    Returns "stored", "duplicates" or "failed" (kept for replay: one bad message must not block a mailbox).
    """
    parsed = parse_mime(raw)
    message_id = normalize_message_id(message_id_header(parsed))
    if message_id and Message.objects.filter(inbox=inbox).with_external_id(message_id).exists():
        return "duplicates"  # already here (a resync, or it also came by webhook): not even a raw event
    event = store_email(raw, inbox=inbox, url=url, extra=extra)
    if process_raw_event(event) is not None:
        return "failed"
    return "duplicates" if event.result == RawInboundEvent.Result.DUPLICATE else "stored"


@receiver(inbound, dispatch_uid="heron.email.inbound")
def handle_inbound(sender, event, esp_name, **kwargs):
    message: AnymailInboundMessage = event.message
    esp_event = getattr(event, "esp_event", None)
    raw_mime = _original_mime(esp_event)
    if raw_mime is None:
        try:
            raw_mime = message.as_bytes()
        except Exception:  # noqa: BLE001 - broken headers the default policy refuses to fold
            from email.policy import compat32

            raw_mime = message.as_bytes(policy=compat32)
    request = esp_event if isinstance(esp_event, HttpRequest) else None
    # anymail copies these from the ESP's fields as they came: what is not a string is not one of them.
    envelope_recipient = _str_or_none(message.envelope_recipient)
    spam_score = message.spam_score if isinstance(message.spam_score, int | float) else None
    extra = {
        **(kept_headers(request) if request is not None else {}),
        "X-Heron-Source": f"anymail:{esp_name}",
        "X-Heron-Envelope-Recipient": envelope_recipient or "",
        "X-Heron-Envelope-Sender": _str_or_none(message.envelope_sender) or "",
        "X-Heron-Stripped-Text": _str_or_none(message.stripped_text) or "",
        **({"X-Heron-Spam-Score": str(spam_score)} if spam_score is not None else {}),
    }
    url = request.get_full_path() if request is not None else f"/anymail/{esp_name.lower()}/inbound/"
    try:
        raw = store_email(raw_mime, inbox=find_inbox(message, envelope_recipient), url=url, extra=extra)
    except IntegrityError:  # the inbox was deleted since this process kept it (inbox/inbox_cache.py)
        forget_inboxes()
        raw = store_email(raw_mime, inbox=find_inbox(message, envelope_recipient), url=url, extra=extra)
    # anymail has parsed the message already; threading and storing it happen on a worker, and
    # whatever fails there (no inbox for this recipient yet, say) stays on the raw event for replay.
    defer_raw_event(raw)


def _str_or_none(value) -> str | None:
    return value if isinstance(value, str) else None


def process_inbound(raw: RawInboundEvent) -> str:
    """Re-parse the stored MIME and ingest it: the same code for first delivery, IMAP and replay."""
    msg = parse_mime(bytes(raw.body))
    headers = raw.headers or {}
    envelope_recipient = headers.get("X-Heron-Envelope-Recipient") or None
    inbox = raw.inbox if raw.inbox is not None and raw.inbox.channel == "email" else None
    inbox = inbox or find_inbox(msg, envelope_recipient)
    if inbox is None:
        raise BadPayload("No email inbox matches the recipients of this message.")
    if raw.inbox_id != inbox.pk:
        RawInboundEvent.objects.filter(pk=raw.pk).update(inbox=inbox)
    spam = headers.get("X-Heron-Spam-Score")
    if spam:
        msg.spam_score = spam
    parsed = parse_email(
        msg, inbox, envelope_recipient=envelope_recipient,
        envelope_sender=headers.get("X-Heron-Envelope-Sender") or None,
        stripped_text=headers.get("X-Heron-Stripped-Text") or None,
        extra_metadata={"raw_event_id": raw.pk, "source": headers.get("X-Heron-Source", "")},
    )
    if parsed.bounce is not None:
        if parsed.bounce.failed:
            record_bounce(inbox.pk, parsed.bounce.referenced_ids, code=parsed.bounce.code, reason=parsed.bounce.reason)
        return RawInboundEvent.Result.PROCESSED
    if parsed.sender_is_us:
        log.info("ignored mail from our own address %s (loop protection)", inbox.address)
        return RawInboundEvent.Result.DUPLICATE
    result = ingest_email(parsed.inbound, parsed.hints, received_at=raw.received_at, inbox=inbox)
    return RawInboundEvent.Result.PROCESSED if result.created else RawInboundEvent.Result.DUPLICATE


register_processor(ENDPOINT, process_inbound)


class _UnreadablePayload(BadPayload):
    pass


FORM_CONTENT_TYPES = {"application/x-www-form-urlencoded", "multipart/form-data"}


class RefusingUnreadablePayloads:
    """Mixed into each anymail webhook view (urls.py): JSON nested too deep is refused before anymail
    reads it (config/json_input.py), and what its `parse_events` cannot read is kept and refused."""

    def parse_events(self, request):
        try:
            return super().parse_events(request)
        except AnymailWebhookValidationFailure:
            raise  # a forged request: anymail answers 400, and nothing is kept
        except Exception as exc:  # noqa: BLE001 - anymail's parsers raise whatever a payload provokes
            # (AnymailConfigurationError among them: a tracking event posted to the inbound URL, say)
            log.warning("unreadable %s webhook payload: %s", self.esp_name, exc)
            raise _UnreadablePayload(
                f"This {self.esp_name} webhook payload could not be read ({type(exc).__name__}: {exc})"
            ) from exc

    def post(self, request, *args, **kwargs):
        request.body  # noqa: B018 - read now: a multipart stream, once parsed, cannot be kept verbatim
        if request.content_type not in FORM_CONTENT_TYPES:  # JSON, which some validators parse too
            try:
                json_input.check_depth(request.body)
            except json_input.JSONTooDeep as exc:
                return JsonResponse({"detail": str(exc)}, status=400)
        try:
            return super().post(request, *args, **kwargs)
        except _UnreadablePayload as exc:
            raw = raw_event_for(request, channel="email", endpoint=UNREADABLE_ENDPOINT, inbox=None)
            set_outcome(raw, exc)  # kept failed, with why
            plain_writes.insert(raw)
            return JsonResponse({"detail": str(exc)}, status=400)


def _still_unreadable(raw: RawInboundEvent) -> str:
    """A replay cannot read it either: it stays failed, with the reason it had."""
    raise BadPayload(raw.error.partition(": ")[2] or "anymail could not read this webhook payload")


register_processor(UNREADABLE_ENDPOINT, _still_unreadable)
