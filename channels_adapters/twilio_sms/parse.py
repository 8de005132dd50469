"""Twilio Messaging webhook bodies (form-encoded) → Heron's normalized dataclasses.

Parses the raw bytes that were stored, strictly: a body Django would decode with replacement
characters is refused here, so what Heron stores is exactly what the customer sent.
"""

from __future__ import annotations

from dataclasses import dataclass

from channels_adapters.base import DeliveryUpdate, InboundMedia, InboundMessage, SenderIdentity
from channels_adapters.twilio_common import form, param, valid_http_url, valid_phone, valid_sid
from inbox.services.raw_events import BadPayload

# Twilio concatenates long texts up to 1600 characters and never sends a longer Body.
MAX_BODY_CHARS = 1600
MAX_MEDIA = 10

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


def _sid(params: dict[str, list[str]], name: str) -> str:
    return valid_sid(param(params, name, required=True, limit=64), name)


def _phone(params: dict[str, list[str]], name: str) -> str:
    return valid_phone(param(params, name, required=True, limit=64), name)


def _media(params: dict[str, list[str]]) -> tuple[InboundMedia, ...]:
    raw = param(params, "NumMedia", limit=3) or "0"
    try:
        count = int(raw)
    except ValueError as exc:
        raise BadPayload("'NumMedia' is not a number") from exc
    if not 0 <= count <= MAX_MEDIA:
        raise BadPayload(f"'NumMedia' must be between 0 and {MAX_MEDIA}")
    media = []
    for index in range(count):
        name = f"MediaUrl{index}"
        url = valid_http_url(param(params, name, required=True, limit=1000), name)
        media.append(InboundMedia(url=url, content_type=param(params, f"MediaContentType{index}", limit=255)))
    return tuple(media)


def parse_inbound(body: bytes, inbox_id: int, *, idempotency_token: str = "") -> ParsedInbound:
    return inbound_from_form(form(body), inbox_id, idempotency_token=idempotency_token)


def inbound_from_form(params: dict[str, list[str]], inbox_id: int, *, idempotency_token: str = "") -> ParsedInbound:
    """`parse_inbound` of a body already read with `form`."""
    message_sid = _sid(params, "MessageSid")
    sender = _phone(params, "From")
    _phone(params, "To")
    text = param(params, "Body", limit=MAX_BODY_CHARS)
    media = _media(params)
    opt_out_type = param(params, "OptOutType", limit=32).strip().upper()
    metadata = {
        "twilio": {
            key: value
            for key, value in {
                "account_sid": param(params, "AccountSid", limit=64),
                "messaging_service_sid": param(params, "MessagingServiceSid", limit=64),
                "to": param(params, "To", limit=64),
                "num_segments": param(params, "NumSegments", limit=8),
                "num_media": str(len(media)),
                "opt_out_type": opt_out_type,
                "from_country": param(params, "FromCountry", limit=8),
                "idempotency_token": idempotency_token[:255],
            }.items()
            if value
        }
    }
    message = InboundMessage(
        channel="sms",
        inbox_id=inbox_id,
        sender=SenderIdentity(kind="phone", value=sender, display_name=param(params, "ProfileName", limit=200)),
        external_id=message_sid,
        text=text,
        media=media,
        metadata=metadata,
    )
    return ParsedInbound(message=message, opt_out_type=opt_out_type)


def parse_status(body: bytes, inbox_id: int) -> DeliveryUpdate:
    params = form(body)
    message_sid = _sid(params, "MessageSid")
    provider_status = (param(params, "MessageStatus", limit=32) or param(params, "SmsStatus", limit=32)).strip()
    if not provider_status:
        raise BadPayload("'MessageStatus' is missing")
    error_code = param(params, "ErrorCode", limit=16).strip()
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
        error_message=error_reason(error_code, param(params, "ErrorMessage", limit=400)),
    )
