"""The original of a message as it arrived, for "View original": the raw event it was ingested from."""

from __future__ import annotations

from inbox.models import Direction, Message, RawInboundEvent

MIME = "message/rfc822"


def original_email(message: Message) -> bytes | None:
    """The inbound email's MIME, byte for byte (webhook or IMAP); None when there is none to show.

    Both email routes store the MIME as a raw event before parsing and record its id in
    `metadata.raw_event_id`; other raw events (JSON webhooks, tracking reports) are not an email's original.
    """
    raw_event_id = message.metadata.get("raw_event_id")
    if message.direction != Direction.IN or message.channel != "email" or not isinstance(raw_event_id, int):
        return None
    body = (
        RawInboundEvent.objects.filter(pk=raw_event_id, channel="email", content_type=MIME)
        .values_list("body", flat=True)
        .first()
    )
    return bytes(body) if body is not None else None
