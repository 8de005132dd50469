"""POST /webhooks/simulator/inbound/ and /status/: signed JSON, like a real provider's webhooks."""

from django.http import HttpResponse, HttpResponseBase, JsonResponse

from channels_adapters.base import InboundMessage
from channels_adapters.common import UnknownMessage, Webhook, WebhookRequest, forbidden
from channels_adapters.simulator import parse
from channels_adapters.simulator.signing import HEADER, is_valid
from inbox.inbox_cache import inboxes_of
from inbox.models import Inbox, RawInboundEvent
from inbox.services.delivery import apply_delivery_update
from inbox.services.ingest import record_inbound


def _accept(request: WebhookRequest) -> Inbox | HttpResponseBase:
    if not is_valid(request.body, request.headers.get(HEADER, "")):
        return forbidden("Invalid or missing X-Heron-Signature.")
    address = parse.inbox_address(request.body).lower()  # a BadPayload: not JSON, too deep, no "inbox"
    inbox = inboxes_of("simulator").get(address) or inboxes_of("simulator", fresh=True).get(address)
    return inbox or JsonResponse({"detail": "'inbox' must name a simulator inbox address."}, status=400)


def parse_inbound(raw: RawInboundEvent) -> InboundMessage:
    return parse.parse_inbound(bytes(raw.body), raw.inbox_id)


def process_inbound(raw: RawInboundEvent) -> str:
    result = record_inbound(parse_inbound(raw), received_at=raw.received_at, inbox=raw.inbox)
    return RawInboundEvent.Result.PROCESSED if result.created else RawInboundEvent.Result.DUPLICATE


def process_status(raw: RawInboundEvent) -> str:
    message = apply_delivery_update(parse.parse_status(bytes(raw.body), raw.inbox_id))
    if message is None:
        raise UnknownMessage("No message has this provider id (yet); replay later")
    return RawInboundEvent.Result.PROCESSED


inbound = Webhook("simulator", "simulator.inbound", _accept, answer=lambda raw: HttpResponse(status=204),
                  process=process_inbound, check=parse_inbound, on_loop=True).as_view()
status = Webhook("simulator", "simulator.status", _accept, answer=lambda raw: HttpResponse(status=204),
                 process=process_status, retry_later=(UnknownMessage,)).as_view()
