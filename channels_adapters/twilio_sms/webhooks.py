"""POST /webhooks/twilio/sms/ (a message comes in) and /webhooks/twilio/sms/status/ (status callbacks).

Order matters: find the inbox the request claims to be for, check Twilio's signature with that
inbox's auth token, and only then store anything. A forged or unknown request leaves no trace.
"""

from __future__ import annotations

from django.db import transaction
from django.http import HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from twilio.twiml.messaging_response import MessagingResponse

from channels_adapters import twilio_common
from channels_adapters.common import (
    LoopAccept,
    LoopRequest,
    UnknownMessage,
    accepted_on_loop,
    forbidden,
    store_for_kept_inbox,
)
from channels_adapters.twilio_sms import parse
from inbox.inbox_cache import inboxes_at, kept_inboxes_at
from inbox.models import Inbox, RawInboundEvent
from inbox.services.consent import apply_consent, keyword_in
from inbox.services.delivery import apply_delivery_update
from inbox.services.identities import InvalidIdentity, normalize_phone
from inbox.services.ingest import record_inbound
from inbox.services.raw_events import BadPayload, raw_event_for, register_processor

CHANNEL = "sms"
INBOUND_ENDPOINT = "twilio_sms.inbound"
STATUS_ENDPOINT = "twilio_sms.status"


def find_inbox(params, *, our_number_field: str, fresh: bool = False) -> Inbox | None:
    """The SMS inbox a Twilio request is for: by MessagingServiceSid, else by AccountSid + our number.

    `our_number_field` is "To" for inbound messages and "From" for status callbacks of our sends.
    Credentials are encrypted, so SIDs are compared here rather than in SQL. An inbox stored under
    its E.164 number is found by an indexed query, and kept a few seconds (inbox/inbox_cache.py;
    `fresh` reads it again); only a request for a messaging service, or for a number typed another
    way, reads and decrypts every SMS inbox.
    """
    account_sid = params.get("AccountSid", "")
    service_sid = params.get("MessagingServiceSid", "")
    number = _our_number(params, our_number_field)
    if number and not service_sid:
        inbox = _of_account(inboxes_at(CHANNEL, number, fresh=fresh), account_sid)
        if inbox is not None:
            return inbox
    inboxes = list(Inbox.objects.filter(channel=CHANNEL).order_by("id"))
    if service_sid:
        for inbox in inboxes:
            if inbox.credentials.get("messaging_service_sid") == service_sid:
                return inbox
    if not number:
        return None
    for inbox in inboxes:
        if twilio_common.is_inbox_number(inbox.address, number) and inbox.credentials.get("account_sid") == account_sid:
            return inbox
    return None


def _our_number(params, our_number_field: str) -> str:
    try:
        return normalize_phone(params.get(our_number_field, ""))
    except InvalidIdentity:
        return ""


def _of_account(inboxes: list[Inbox], account_sid: str) -> Inbox | None:
    return next((inbox for inbox in inboxes if inbox.credentials.get("account_sid") == account_sid), None)


def _kept_event(request: LoopRequest) -> RawInboundEvent | None:
    """What `inbound` keeps, with `find_inbox` from the kept inboxes alone, once the signature and the
    endpoint's check pass (for the event loop: channels_adapters/common.py, LoopAccept). The body is
    read once, strictly: what Django would read with replacement characters is left to the view."""
    if request.content_type != twilio_common.FORM_CONTENT_TYPE:
        return None
    fields = twilio_common.form(request.body)
    params = twilio_common.FormParams(fields)
    number = _our_number(params, "To")
    if not number or params.get("MessagingServiceSid"):
        return None
    inbox = _of_account(kept_inboxes_at(CHANNEL, number) or [], params.get("AccountSid", ""))
    if inbox is None or not twilio_common.form_is_signed_for(
        twilio_common.public_url(request), params, request.headers.get(twilio_common.SIGNATURE_HEADER, ""),
        inbox.credentials,
    ):
        return None
    try:
        parse.inbound_from_form(fields, inbox.pk)  # the endpoint's check (`parse_inbound`), on the form read above
    except BadPayload:
        return None  # the view keeps it failed and answers 400
    return raw_event_for(request, channel=CHANNEL, endpoint=INBOUND_ENDPOINT, inbox=inbox)


EMPTY_TWIML = str(MessagingResponse())


def empty_twiml() -> HttpResponse:
    return HttpResponse(EMPTY_TWIML, content_type="text/xml")


def _verified_inbox(request, *, our_number_field: str, fresh: bool) -> tuple[Inbox | None, HttpResponse | None]:
    """The inbox the request is for, once its signature checks out; else the refusal to send."""
    inbox = find_inbox(request.POST, our_number_field=our_number_field, fresh=fresh)
    signed = inbox is not None and twilio_common.request_is_signed(request, inbox.credentials)
    if inbox is not None and not signed and not fresh:
        # Kept credentials may be older than a token rotation: decide on the stored ones.
        inbox = find_inbox(request.POST, our_number_field=our_number_field, fresh=True)
        signed = inbox is not None and twilio_common.request_is_signed(request, inbox.credentials)
    if inbox is None:
        return None, JsonResponse(
            {"detail": f"No SMS inbox matches this MessagingServiceSid or AccountSid + {our_number_field}."},
            status=404,
        )
    if not signed:
        return None, forbidden("Invalid or missing X-Twilio-Signature.")
    return inbox, None


@csrf_exempt
@require_POST
@accepted_on_loop(LoopAccept(kept_event=_kept_event, answer=empty_twiml, checked=True))
def inbound(request):
    refusal = store_for_kept_inbox(
        request, lambda fresh: _verified_inbox(request, our_number_field="To", fresh=fresh),
        channel=CHANNEL, endpoint=INBOUND_ENDPOINT,
    )
    return refusal or empty_twiml()


@csrf_exempt
@require_POST
def status(request):
    refusal = store_for_kept_inbox(
        request, lambda fresh: _verified_inbox(request, our_number_field="From", fresh=fresh),
        channel=CHANNEL, endpoint=STATUS_ENDPOINT, retry_later=(UnknownMessage,),
    )
    return refusal or HttpResponse(status=204)


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


register_processor(INBOUND_ENDPOINT, process_inbound, check=parse_inbound)
register_processor(STATUS_ENDPOINT, process_status)
