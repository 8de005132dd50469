"""POST /webhooks/google/business-messages/: the set-up handshake, then signed `UserMessage`s.

- Handshake: `{"clientToken", "secret"}` → if `clientToken` is the client token of a Business
  Messages inbox, answer 200 with the secret as text/plain; else 403. Nothing is stored.
- Everything else must carry `X-Goog-Signature` = base64(HMAC-SHA512(partner_key, raw body)).
  The signature is checked against every Business Messages inbox's partner key (inboxes are few,
  keys are encrypted at rest); a forged request gets 403 and leaves no trace. Among the inboxes
  whose key signed it, the one whose address is the payload's `agent` (or `customAgentId`) wins.
- Then the raw request is stored and processed like every other channel's.
"""

from __future__ import annotations

import hmac
from datetime import timedelta

from django.http import HttpResponse, HttpResponseBase, JsonResponse
from django.utils import timezone

from channels_adapters.base import InboundMessage
from channels_adapters.common import UnknownMessage, Webhook, WebhookRequest, forbidden
from channels_adapters.google_business import SIGNATURE_HEADER, parse
from channels_adapters.google_business.signing import is_valid
from config import json_input
from inbox.models import Inbox, RawInboundEvent
from inbox.services.delivery import apply_delivery_update
from inbox.services.ingest import record_inbound
from inbox.services.typing import customer_typing

CHANNEL = "google_business"
ENDPOINT = "google_business.webhook"
# A typing event replayed later than this is stale: nobody is typing any more.
TYPING_FRESH_FOR = timedelta(seconds=30)
# Our outbound messageIds (sender.py): receipts for others' messages are not ours to track.
OUR_MESSAGE_ID_PREFIX = "heron-"


def _json(body: bytes) -> dict | None:
    try:
        payload = json_input.loads(body)
    except json_input.JSONInputError:
        return None
    return payload if isinstance(payload, dict) else None


def _inboxes() -> list[Inbox]:
    return list(Inbox.objects.filter(channel=CHANNEL).order_by("id"))


def _is_handshake(payload: dict | None) -> bool:
    return (payload is not None and "clientToken" in payload and "secret" in payload
            and "conversationId" not in payload)


def _handshake(payload: dict) -> HttpResponse:
    token, secret = payload.get("clientToken"), payload.get("secret")
    if not isinstance(token, str) or not token or not isinstance(secret, str) or len(secret) > 4096:
        return forbidden("Unknown clientToken.")
    known = False
    for inbox in _inboxes():
        expected = str(inbox.credentials.get("client_token") or "")
        # Compare with every inbox (no early exit), so timing says nothing about which matched.
        known |= bool(expected) and hmac.compare_digest(expected.encode(), token.encode())
    if not known:
        return forbidden("Unknown clientToken.")
    return HttpResponse(secret, content_type="text/plain")


def _signed_by(body: bytes, signature: str) -> list[Inbox]:
    return [inbox for inbox in _inboxes() if is_valid(body, signature, str(inbox.credentials.get("partner_key") or ""))]


def _addressed(inboxes: list[Inbox], payload: dict | None) -> Inbox | None:
    """The signing inbox the payload is for; a signed body too broken to name one goes to the first (→ 400)."""
    agent, custom = parse.agent_names(payload) if payload is not None else ("", "")
    if not agent and not custom:
        return inboxes[0]
    return next((inbox for name in (agent, custom) if name for inbox in inboxes if inbox.address == name), None)


def _accept(request: WebhookRequest) -> Inbox | HttpResponseBase:
    payload = _json(request.body)
    if _is_handshake(payload):
        return _handshake(payload)
    signed_by = _signed_by(request.body, request.headers.get(SIGNATURE_HEADER, ""))
    if not signed_by:
        return forbidden(f"Invalid or missing {SIGNATURE_HEADER}.")
    return _addressed(signed_by, payload) or JsonResponse(
        {"detail": "No Business Messages inbox has this agent (or customAgentId)."}, status=404)


def parse_webhook(raw: RawInboundEvent):
    return parse.parse_webhook(bytes(raw.body), raw.inbox_id)


def process_webhook(raw: RawInboundEvent) -> str:
    parsed = parse_webhook(raw)
    if isinstance(parsed, InboundMessage):
        result = record_inbound(parsed, received_at=raw.received_at, inbox=raw.inbox)
        return RawInboundEvent.Result.PROCESSED if result.created else RawInboundEvent.Result.DUPLICATE
    if isinstance(parsed, parse.Receipts):
        missing = [u.external_id for u in parsed.updates
                   if apply_delivery_update(u) is None and u.external_id.startswith(OUR_MESSAGE_ID_PREFIX)]
        if missing:
            raise UnknownMessage(f"No message has messageId {', '.join(missing)} (yet); replay later")
        return RawInboundEvent.Result.PROCESSED
    if isinstance(parsed, parse.CustomerTyping):
        if timezone.now() - raw.received_at <= TYPING_FRESH_FOR:
            customer_typing(inbox_id=parsed.inbox_id, identity_kind=parsed.sender.kind,
                            identity_value=parsed.sender.value, typing=parsed.typing)
        return RawInboundEvent.Result.PROCESSED
    return RawInboundEvent.Result.PROCESSED


# A receipt for a message we have not stored yet stays "failed" (replayable); no error for Google.
webhook = Webhook(CHANNEL, ENDPOINT, _accept, answer=lambda raw: HttpResponse(status=200), process=process_webhook,
                  check=parse_webhook, retry_later=(UnknownMessage,)).as_view()
