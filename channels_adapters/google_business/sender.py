"""Agent replies through the Business Messages API, authorized by the inbox's service account.

`POST {GOOGLE_BUSINESS_MESSAGES_API_BASE_URL}/v1/conversations/{conversationId}/messages` with
`{"messageId": "heron-{message id}", "representative": {"representativeType": "HUMAN", "displayName"}, "text"}`.
The messageId is derived from Heron's message id, so a retried send reuses it and Google answers
409 ALREADY_EXISTS, which is success: the first attempt got through. That is also how an unconfirmed
send is reconciled (the adapter's `reconcile` sends again).
"""

from __future__ import annotations

from urllib.parse import quote

from channels_adapters import google_common
from channels_adapters.base import (
    OutboundMessage,
    PermanentSendError,
    SendResult,
    TransientSendError,
    UnconfirmedSend,
)

MAX_TEXT = 3072


def message_id_for(message_id: int) -> str:
    return f"heron-{message_id}"


def representative(message: OutboundMessage) -> dict:
    """Who the customer sees: the inbox's fixed name if set, else the agent's first name."""
    rep: dict = {"representativeType": "HUMAN"}
    name = str(message.inbox_settings.get("representative_name") or "")
    if not name:
        from inbox.models import Message

        user = Message.objects.filter(pk=message.message_id).select_related("sender_user").first()
        user = user.sender_user if user else None
        name = (user.first_name or user.get_full_name() or "") if user else ""
    rep["displayName"] = (name or "Support")[:100]
    avatar = str(message.inbox_settings.get("representative_avatar_url") or "")
    if avatar.startswith("https://"):
        rep["avatarImage"] = avatar
    return rep


def send(message: OutboundMessage) -> SendResult:
    text = message.text.strip()
    if not text:
        raise PermanentSendError("Business Messages replies need text (images are not supported yet).")
    if len(message.text) > MAX_TEXT:
        raise PermanentSendError(f"Business Messages allows at most {MAX_TEXT} characters per message "
                                 f"(this one has {len(message.text)}).", code="INVALID_ARGUMENT")
    session = google_common.authorized_session(message.inbox_credentials, [google_common.SCOPE_BUSINESS_MESSAGES])
    external_id = message_id_for(message.message_id)
    url = f"{google_common.business_messages_api()}/v1/conversations/{quote(message.to, safe='')}/messages"
    body = {"messageId": external_id, "representative": representative(message), "text": message.text}
    response = google_common.call(session, "POST", url, json=body)
    if response.status_code == 409:
        status, detail = google_common.error_status(response)
        if status in ("ALREADY_EXISTS", ""):
            return SendResult(external_id=external_id, provider_status="ALREADY_EXISTS", status="sent")
        raise TransientSendError(f"Google answered 409 {status}: {detail}")  # ABORTED: a conflict, retry
    google_common.raise_for_status(response, "Business Messages send")
    if google_common.json_answer(response) is None:
        raise UnconfirmedSend(f"Google answered {response.status_code} with something that is not the message it "
                              "stored", answer=response.text)
    return SendResult(external_id=external_id, provider_status="sent", status="sent")
