"""Business Messages webhook bodies (`UserMessage` JSON) → Heron's normalized dataclasses.

One webhook carries exactly one of: `message`, `receipts`, `userStatus`, `surveyResponse`,
`suggestionResponse`, `authenticationResponse` (docs/google.md). What each becomes:

| payload | Heron |
|---|---|
| `message` (text, image) | `InboundMessage` (external id = messageId, else `req-{requestId}`) |
| `suggestionResponse` | `InboundMessage` with the chip's text |
| `receipts` DELIVERED / READ | `DeliveryUpdate`s for our outbound messageIds |
| `userStatus.isTyping` | `CustomerTyping` (ephemeral, never stored as a message) |
| `userStatus.requestedLiveAgent` | an activity line (external id `req-{requestId}`, so a retry is one line) |
| `surveyResponse` | an activity line with the rating (automated: never reopens a conversation) |
| `authenticationResponse`, unknown | nothing (`None`) |
"""

from __future__ import annotations

from dataclasses import dataclass

from channels_adapters.base import DeliveryUpdate, InboundMedia, InboundMessage, SenderIdentity
from channels_adapters.common import checked_text, json_object
from channels_adapters.google_common import parse_time
from inbox.services.raw_events import BadPayload

CHANNEL = "google_business"
IDENTITY_KIND = "google_business"
MAX_TEXT = 10_000
RECEIPT_STATUS = {"DELIVERED": "delivered", "READ": "read"}


@dataclass(frozen=True)
class CustomerTyping:
    """The customer started (or stopped) typing: an ephemeral frame for open sockets, nothing stored."""

    inbox_id: int
    sender: SenderIdentity
    typing: bool = True


@dataclass(frozen=True)
class Receipts:
    updates: tuple[DeliveryUpdate, ...]


Parsed = InboundMessage | Receipts | CustomerTyping | None


def _str(container: dict, key: str, *, required: bool = False, limit: int = 255) -> str:
    value = container.get(key, "")
    if value is None:
        value = ""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        raise BadPayload(f"'{key}' must be a string")
    return checked_text(value, key, required=required, limit=limit)


def _dict(container: dict, key: str) -> dict:
    value = container.get(key) or {}
    if not isinstance(value, dict):
        raise BadPayload(f"'{key}' must be an object")
    return value


def _flag(value) -> bool:
    """Google writes booleans as JSON booleans or as the strings "true" / "false"."""
    if isinstance(value, str):
        return value.strip().lower() == "true"
    return value is True


def _sender(payload: dict) -> SenderIdentity:
    context = _dict(payload, "context")
    user_info = _dict(context, "userInfo")
    return SenderIdentity(
        kind=IDENTITY_KIND,
        value=_str(payload, "conversationId", required=True, limit=320),
        display_name=_str(user_info, "displayName", limit=200),
    )


def _metadata(payload: dict) -> dict:
    context = _dict(payload, "context")
    user_info = _dict(context, "userInfo")
    values = {
        "entryPoint": _str(context, "entryPoint", limit=64),
        "placeId": _str(context, "placeId", limit=255) or _str(context, "nearPlaceId", limit=255),
        "locale": _str(context, "resolvedLocale", limit=32) or _str(user_info, "userDeviceLocale", limit=32),
        "agent": _str(payload, "agent", limit=320),
    }
    return {key: value for key, value in values.items() if value}


def _request_id(payload: dict) -> str:
    return _str(payload, "requestId", limit=200)


def parse_webhook(body: bytes, inbox_id: int) -> Parsed:
    payload = json_object(body)
    if isinstance(payload.get("message"), dict):
        return _message(payload, inbox_id)
    if "message" in payload:
        raise BadPayload("'message' must be an object")
    if "receipts" in payload:
        return _receipts(payload, inbox_id)
    if "userStatus" in payload:
        return _user_status(payload, inbox_id)
    if "surveyResponse" in payload:
        return _survey(payload, inbox_id)
    if "suggestionResponse" in payload:
        return _suggestion(payload, inbox_id)
    _str(payload, "conversationId", required=True, limit=320)
    return None  # authenticationResponse or a type Google added later: acknowledged, nothing to do


def _message(payload: dict, inbox_id: int) -> InboundMessage:
    message = payload["message"]
    sender = _sender(payload)
    external_id = _str(message, "messageId", limit=200)
    if not external_id:
        request_id = _request_id(payload)
        if not request_id:
            raise BadPayload("'message.messageId' (or 'requestId') is missing")
        external_id = f"req-{request_id}"
    text = _str(message, "text", limit=MAX_TEXT)
    media: tuple[InboundMedia, ...] = ()
    # Images: an `image.contentInfo.fileUrl` (UNCONFIRMED shape; a bare URL in `text` is kept as text).
    image = message.get("image")
    if isinstance(image, dict):
        info = _dict(image, "contentInfo")
        url = _str(info, "fileUrl", limit=2000)
        if url.startswith(("https://", "http://")):
            media = (InboundMedia(url=url, content_type=_str(info, "mimeType", limit=255)),)
    if not text and not media:
        raise BadPayload("'message' has neither text nor an image")
    return InboundMessage(
        channel=CHANNEL, inbox_id=inbox_id, sender=sender, external_id=external_id, text=text, media=media,
        metadata=_metadata(payload), sent_at=parse_time(_str(message, "createTime", limit=64)),
    )


def _suggestion(payload: dict, inbox_id: int) -> InboundMessage:
    response = _dict(payload, "suggestionResponse")
    request_id = _request_id(payload)
    if not request_id:
        raise BadPayload("'requestId' is missing")
    text = _str(response, "text", limit=MAX_TEXT) or _str(response, "postbackData", limit=MAX_TEXT)
    metadata = {**_metadata(payload), "postbackData": _str(response, "postbackData", limit=2048)}
    return InboundMessage(
        channel=CHANNEL, inbox_id=inbox_id, sender=_sender(payload), external_id=f"req-{request_id}",
        text=text or "(suggestion chosen)", metadata=metadata,
    )


def _receipt_list(payload: dict) -> list:
    wrapper = payload.get("receipts")
    if isinstance(wrapper, dict):  # {"receipts": {"receipts": [...], "createTime": ...}} (documented)
        items = wrapper.get("receipts")
    else:  # a bare list, in case the wrapper is absent (the shape is UNCONFIRMED)
        items = wrapper
    if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
        raise BadPayload("'receipts.receipts' must be a list of objects")
    return items


def _receipts(payload: dict, inbox_id: int) -> Receipts:
    _str(payload, "conversationId", required=True, limit=320)
    updates = []
    for item in _receipt_list(payload):
        receipt_type = _str(item, "receiptType", required=True, limit=32)
        status = RECEIPT_STATUS.get(receipt_type.upper())
        name = _str(item, "message", required=True, limit=500)  # conversations/{c}/messages/{m}
        message_id = name.rstrip("/").rsplit("/", 1)[-1]
        if status is None or not message_id:
            continue  # RECEIPT_TYPE_UNSPECIFIED or something new: nothing to move
        updates.append(DeliveryUpdate(inbox_id=inbox_id, external_id=message_id, provider_status=receipt_type,
                                      status=status))
    return Receipts(tuple(updates))


def _user_status(payload: dict, inbox_id: int) -> Parsed:
    status = _dict(payload, "userStatus")
    sender = _sender(payload)
    if "isTyping" in status:
        return CustomerTyping(inbox_id=inbox_id, sender=sender, typing=_flag(status["isTyping"]))
    if _flag(status.get("requestedLiveAgent")):
        request_id = _request_id(payload)
        if not request_id:
            raise BadPayload("'requestId' is missing")
        who = sender.display_name or "The customer"
        return InboundMessage(
            channel=CHANNEL, inbox_id=inbox_id, sender=sender, external_id=f"req-{request_id}", kind="activity",
            text=f"{who} asked to talk to a live agent",
            metadata={**_metadata(payload), "google_event": "requested_live_agent"},
        )
    return None


def _survey(payload: dict, inbox_id: int) -> InboundMessage:
    survey = _dict(payload, "surveyResponse")
    request_id = _request_id(payload)
    if not request_id:
        raise BadPayload("'requestId' is missing")
    rating = _str(survey, "rating", limit=64)
    answer = _str(survey, "questionResponseText", limit=1000)
    feedback = _str(survey, "feedback", limit=MAX_TEXT)
    parts = ["Survey answer:", (rating.replace("_", " ").lower() if rating else answer) or "no rating"]
    if answer and rating:
        parts.append(f"({answer})")
    text = " ".join(parts) + (f'; feedback: "{feedback}"' if feedback else "")
    details = {
        key: survey[key] for key in ("survey", "rating", "feedback", "surveyQuestionId", "questionResponseText",
                                     "questionResponsePostbackData", "questionType", "questionIndex",
                                     "totalQuestionCount", "surveyTriggerSource")
        if isinstance(survey.get(key), (str, int))
    }
    return InboundMessage(
        channel=CHANNEL, inbox_id=inbox_id, sender=_sender(payload), external_id=f"req-{request_id}",
        kind="activity", text=text, is_automated=True,
        metadata={**_metadata(payload), "google_event": "survey_response", "survey": details},
    )


def agent_names(payload: dict) -> tuple[str, str]:
    """(agent resource name, customAgentId) a webhook is addressed to, for finding the inbox."""
    agent = payload.get("agent")
    custom = payload.get("customAgentId")
    return (agent if isinstance(agent, str) else ""), (custom if isinstance(custom, str) else "")
