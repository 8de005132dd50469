"""POST /webhooks/twilio/sms/ (a message comes in) and /webhooks/twilio/sms/status/ (status callbacks).

Order matters: find the inbox the request claims to be for, check Twilio's signature with that
inbox's auth token, and only then store anything. A forged or unknown request leaves no trace.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from django.db import transaction
from django.http import HttpResponse, HttpResponseBase
from twilio.twiml.messaging_response import MessagingResponse

from channels_adapters import twilio_common
from channels_adapters.common import UnknownMessage, Webhook, WebhookRequest
from channels_adapters.twilio_sms import parse
from inbox.inbox_cache import inboxes_of
from inbox.models import Inbox, RawInboundEvent
from inbox.services.consent import apply_consent, keyword_in
from inbox.services.delivery import apply_delivery_update
from inbox.services.identities import InvalidIdentity, normalize_phone
from inbox.services.ingest import record_inbound

CHANNEL = "sms"
INBOUND_ENDPOINT = "twilio_sms.inbound"
STATUS_ENDPOINT = "twilio_sms.status"
EMPTY_TWIML = str(MessagingResponse())


def find_inbox(params, *, our_number_field: str, fresh: bool = False) -> Inbox | None:
    """The SMS inbox a Twilio request is for: by MessagingServiceSid, else by AccountSid + our number.

    `our_number_field` is "To" for inbound messages and "From" for status callbacks of our sends.
    Credentials are encrypted, so SIDs are compared here rather than in SQL, among the inboxes the
    process keeps (inbox/inbox_cache.py), then, if none matches, among those stored now.
    """
    account_sid = params.get("AccountSid", "")
    service_sid = params.get("MessagingServiceSid", "")
    number = _our_number(params, our_number_field)

    def matches(inbox: Inbox) -> bool:
        if service_sid:
            return inbox.credentials.get("messaging_service_sid") == service_sid
        return (bool(number) and inbox.credentials.get("account_sid") == account_sid
                and twilio_common.is_inbox_number(inbox.address, number))

    inboxes = inboxes_of(CHANNEL, fresh=fresh)
    exact = inboxes.get(number)  # stored under its E.164 number: found without normalizing every address
    inbox = exact if exact is not None and matches(exact) else next(filter(matches, inboxes.values()), None)
    return inbox if inbox is not None or fresh else find_inbox(params, our_number_field=our_number_field, fresh=True)


def _our_number(params, our_number_field: str) -> str:
    try:
        return normalize_phone(params.get(our_number_field, ""))
    except InvalidIdentity:
        return ""


def _accept(our_number_field: str) -> Callable[[WebhookRequest], Inbox | HttpResponseBase]:
    return lambda request: twilio_common.verified_inbox(
        request, partial(find_inbox, our_number_field=our_number_field),
        not_found=f"No SMS inbox matches this MessagingServiceSid or AccountSid + {our_number_field}.")


def parse_inbound(raw: RawInboundEvent) -> parse.ParsedInbound:
    return parse.parse_inbound(
        bytes(raw.body), raw.inbox_id, idempotency_token=raw.headers.get("I-Twilio-Idempotency-Token", "")
    )


def process_inbound(raw: RawInboundEvent) -> str:
    parsed = parse_inbound(raw)
    with transaction.atomic():
        result = record_inbound(parsed.message, received_at=raw.received_at, inbox=raw.inbox)
        if not result.created:
            return RawInboundEvent.Result.DUPLICATE
        keyword = parsed.opt_out_type or keyword_in(parsed.message.text)
        if keyword:
            apply_consent(result.message, keyword)
    return RawInboundEvent.Result.PROCESSED


def process_status(raw: RawInboundEvent) -> str:
    update = parse.parse_status(bytes(raw.body), raw.inbox_id)
    if apply_delivery_update(update) is None:
        raise UnknownMessage(f"No message has MessageSid {update.external_id} (yet); replay later")
    return RawInboundEvent.Result.PROCESSED


inbound = Webhook(CHANNEL, INBOUND_ENDPOINT, _accept("To"),
                  answer=lambda raw: HttpResponse(EMPTY_TWIML, content_type="text/xml"),
                  process=process_inbound, check=parse_inbound, on_loop=True).as_view()
status = Webhook(CHANNEL, STATUS_ENDPOINT, _accept("From"), answer=lambda raw: HttpResponse(status=204),
                 process=process_status, retry_later=(UnknownMessage,)).as_view()
