"""Simulator payloads → Heron's normalized dataclasses."""

from channels_adapters.base import DeliveryUpdate, InboundMedia, InboundMessage, SenderIdentity
from channels_adapters.common import json_object
from inbox.services.raw_events import BadPayload

STATUSES = {"queued", "sent", "delivered", "read", "failed"}


def _text(payload: dict, key: str, *, required: bool = True, limit: int = 10_000) -> str:
    value = payload.get(key, "")
    if not isinstance(value, str) or (required and not value.strip()):
        raise BadPayload(f"'{key}' must be a non-empty string" if required else f"'{key}' must be a string")
    if len(value) > limit:
        raise BadPayload(f"'{key}' is longer than {limit} characters")
    return value


def parse_inbound(body: bytes, inbox_id: int) -> InboundMessage:
    payload = json_object(body)
    media = payload.get("media") or []
    if not isinstance(media, list) or not all(isinstance(m, dict) and isinstance(m.get("url"), str) for m in media):
        raise BadPayload("'media' must be a list of {url, content_type}")
    return InboundMessage(
        channel="simulator",
        inbox_id=inbox_id,
        sender=SenderIdentity(kind="simulator", value=_text(payload, "from", limit=320),
                              display_name=_text(payload, "name", required=False, limit=200)),
        external_id=_text(payload, "id", limit=255),
        text=_text(payload, "text", required=False),
        media=tuple(InboundMedia(url=m["url"], content_type=str(m.get("content_type", ""))) for m in media),
    )


def parse_status(body: bytes, inbox_id: int) -> DeliveryUpdate:
    payload = json_object(body)
    status = _text(payload, "status", limit=32)
    if status not in STATUSES:
        raise BadPayload(f"'status' must be one of {sorted(STATUSES)}")
    return DeliveryUpdate(
        inbox_id=inbox_id, external_id=_text(payload, "id", limit=255), provider_status=status, status=status,
        error_code=_text(payload, "error_code", required=False, limit=32),
        error_message=_text(payload, "error_message", required=False, limit=500),
    )


def inbox_address(body: bytes) -> str:
    return _text(json_object(body), "inbox", limit=320)
