"""Twilio Messaging webhook bodies (form-encoded) → Heron's normalized dataclasses.

Parses the raw bytes that were stored, strictly: a body Django would decode with replacement
characters is refused here, so what Heron stores is exactly what the customer sent.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

from channels_adapters.base import DeliveryUpdate, InboundMedia, InboundMessage, SenderIdentity
from inbox.services.identities import InvalidIdentity, normalize_phone
from inbox.services.raw_events import BadPayload

# Twilio concatenates long texts up to 1600 characters and never sends a longer Body.
MAX_BODY_CHARS = 1600
MAX_MEDIA = 10
SID_RE = re.compile(r"^[A-Za-z]{2}[0-9A-Za-z]{1,62}$")

# Twilio MessageStatus → Heron's normalized delivery status.
STATUS_MAP = {
    "accepted": "queued",
    "scheduled": "queued",
    "queued": "queued",
    "sending": "sent",
    "sent": "sent",
    "partially_delivered": "sent",
    "delivered": "delivered",
    "read": "read",
    "failed": "failed",
    "undelivered": "failed",
    "canceled": "failed",
}

# Error codes an agent meets most, in words (Twilio's error dictionary has the full list).
ERROR_REASONS = {
    "21211": "Invalid 'To' number",
    "21408": "Sending to this region is not enabled on the Twilio account",
    "21610": "Recipient unsubscribed (replied STOP)",
    "21614": "Not a mobile number",
    "30003": "Unreachable handset",
    "30004": "Message blocked",
    "30005": "Unknown destination number",
    "30006": "Landline or unreachable carrier",
    "30007": "Filtered by the carrier as spam",
    "30008": "Unknown error",
}


def error_reason(code: str, fallback: str = "") -> str:
    """A readable reason for a Twilio error code, always naming the code."""
    if not code:
        return fallback
    words = ERROR_REASONS.get(code) or fallback or "Twilio reported an error"
    return f"{words} (Twilio error {code})"


@dataclass(frozen=True)
class ParsedInbound:
    message: InboundMessage
    # "STOP" / "START" / "HELP" (what Twilio's OptOutType says) or the consent keyword the text is.
    opt_out_type: str = ""


def form(body: bytes) -> dict[str, list[str]]:
    try:
        text = body.decode("utf-8")
        return parse_qs(text, keep_blank_values=True, encoding="utf-8", errors="strict", max_num_fields=500)
    except UnicodeDecodeError as exc:
        raise BadPayload("The request body is not valid UTF-8 form data") from exc
    except ValueError as exc:
        raise BadPayload(f"The request body is not valid form data: {exc}") from exc


def _get(params: dict[str, list[str]], name: str, *, required: bool = False, limit: int = 255) -> str:
    value = (params.get(name) or [""])[0]
    if required and not value.strip():
        raise BadPayload(f"'{name}' is missing")
    if len(value) > limit:
        raise BadPayload(f"'{name}' is longer than {limit} characters")
    return value


def _sid(params: dict[str, list[str]], name: str) -> str:
    value = _get(params, name, required=True, limit=64)
    if not SID_RE.match(value):
        raise BadPayload(f"'{name}' is not a Twilio SID")
    return value


def _phone(params: dict[str, list[str]], name: str) -> str:
    value = _get(params, name, required=True, limit=64)
    try:
        return normalize_phone(value)
    except InvalidIdentity as exc:
        raise BadPayload(f"'{name}' is not a phone number: {value!r}") from exc


def _media(params: dict[str, list[str]]) -> tuple[InboundMedia, ...]:
    raw = _get(params, "NumMedia", limit=3) or "0"
    try:
        count = int(raw)
    except ValueError as exc:
        raise BadPayload("'NumMedia' is not a number") from exc
    if not 0 <= count <= MAX_MEDIA:
        raise BadPayload(f"'NumMedia' must be between 0 and {MAX_MEDIA}")
    media = []
    for index in range(count):
        url = _get(params, f"MediaUrl{index}", required=True, limit=1000)
        if urlsplit(url).scheme not in ("http", "https"):
            raise BadPayload(f"'MediaUrl{index}' is not an http(s) URL")
        media.append(InboundMedia(url=url, content_type=_get(params, f"MediaContentType{index}", limit=255)))
    return tuple(media)


def parse_inbound(body: bytes, inbox_id: int, *, idempotency_token: str = "") -> ParsedInbound:
    params = form(body)
    message_sid = _sid(params, "MessageSid")
    sender = _phone(params, "From")
    _phone(params, "To")
    text = _get(params, "Body", limit=MAX_BODY_CHARS)
    media = _media(params)
    opt_out_type = _get(params, "OptOutType", limit=32).strip().upper()
    metadata = {
        "twilio": {
            key: value
            for key, value in {
                "account_sid": _get(params, "AccountSid", limit=64),
                "messaging_service_sid": _get(params, "MessagingServiceSid", limit=64),
                "to": _get(params, "To", limit=64),
                "num_segments": _get(params, "NumSegments", limit=8),
                "num_media": str(len(media)),
                "opt_out_type": opt_out_type,
                "from_country": _get(params, "FromCountry", limit=8),
                "idempotency_token": idempotency_token[:255],
            }.items()
            if value
        }
    }
    message = InboundMessage(
        channel="sms",
        inbox_id=inbox_id,
        sender=SenderIdentity(kind="phone", value=sender, display_name=_get(params, "ProfileName", limit=200)),
        external_id=message_sid,
        text=text,
        media=media,
        metadata=metadata,
    )
    return ParsedInbound(message=message, opt_out_type=opt_out_type)


def parse_status(body: bytes, inbox_id: int) -> DeliveryUpdate:
    params = form(body)
    message_sid = _sid(params, "MessageSid")
    provider_status = (_get(params, "MessageStatus", limit=32) or _get(params, "SmsStatus", limit=32)).strip()
    if not provider_status:
        raise BadPayload("'MessageStatus' is missing")
    error_code = _get(params, "ErrorCode", limit=16).strip()
    if error_code == "0":
        error_code = ""
    # An unknown status (Twilio adds some) is kept raw and moves nothing: "queued" ranks lowest.
    status = STATUS_MAP.get(provider_status.lower(), "queued")
    return DeliveryUpdate(
        inbox_id=inbox_id,
        external_id=message_sid,
        provider_status=provider_status,
        status=status,
        error_code=error_code,
        error_message=error_reason(error_code, _get(params, "ErrorMessage", limit=400)),
    )
