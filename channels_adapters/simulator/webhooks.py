"""POST /webhooks/simulator/inbound/ and /status/: signed JSON, like a real provider's webhooks."""

from django.http import HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from channels_adapters.base import InboundMessage
from channels_adapters.common import (
    LoopAccept,
    LoopRequest,
    UnknownMessage,
    accepted_on_loop,
    forbidden,
    store_for_kept_inbox,
)
from channels_adapters.simulator import parse
from channels_adapters.simulator.signing import HEADER, is_valid
from inbox.inbox_cache import inboxes_at, kept_inboxes_at
from inbox.models import Inbox, RawInboundEvent
from inbox.services.delivery import apply_delivery_update
from inbox.services.ingest import record_inbound
from inbox.services.raw_events import BadPayload, is_deferred, raw_event_for, register_processor


def _inbox_for(body: bytes, *, fresh: bool) -> tuple[Inbox | None, HttpResponse | None]:
    try:
        address = parse.inbox_address(body)
    except BadPayload as exc:  # not JSON, too deep, no "inbox"
        return None, JsonResponse({"detail": str(exc)}, status=400)
    inbox = next(iter(inboxes_at("simulator", address, fresh=fresh)), None)
    if inbox is None:
        return None, JsonResponse({"detail": "'inbox' must name a simulator inbox address."}, status=400)
    return inbox, None


def _kept_event(endpoint: str):
    def kept_event(request: LoopRequest) -> RawInboundEvent | None:
        """What the view keeps, with the inbox from the kept inboxes alone (for the event loop: LoopAccept)."""
        if not is_valid(request.body, request.headers.get(HEADER, "")):
            return None
        try:
            address = parse.inbox_address(request.body)
        except BadPayload:
            return None
        inbox = next(iter(kept_inboxes_at("simulator", address) or []), None)
        return raw_event_for(request, channel="simulator", endpoint=endpoint, inbox=inbox) if inbox else None

    return kept_event


def _no_content() -> HttpResponse:
    return HttpResponse(status=204)


def _webhook(endpoint: str):
    def view(request):
        if not is_valid(request.body, request.headers.get(HEADER, "")):
            return forbidden("Invalid or missing X-Heron-Signature.")
        refusal = store_for_kept_inbox(
            request, lambda fresh: _inbox_for(request.body, fresh=fresh), channel="simulator", endpoint=endpoint,
            retry_later=(UnknownMessage,),
        )
        return refusal or _no_content()

    if is_deferred(endpoint):
        view = accepted_on_loop(LoopAccept(kept_event=_kept_event(endpoint), answer=_no_content))(view)
    return csrf_exempt(require_POST(view))


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


register_processor("simulator.inbound", process_inbound, check=parse_inbound)
register_processor("simulator.status", process_status)
inbound = _webhook("simulator.inbound")
status = _webhook("simulator.status")
