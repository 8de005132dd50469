"""What every adapter shares: one way to keep and answer a webhook on any transport, reading a JSON
body strictly, downloading a customer's media file from the provider's storage, and telling a send
that never reached the provider from one whose answer was lost."""

from collections.abc import Callable
from dataclasses import InitVar, dataclass

import httpx
import requests
from django.db import IntegrityError
from django.http import HttpRequest, HttpResponseBase, JsonResponse
from django.utils.datastructures import CaseInsensitiveMapping
from django.utils.encoding import escape_uri_path, iri_to_uri
from django.utils.http import parse_header_parameters
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from urllib3.exceptions import NewConnectionError
from urllib3.exceptions import SSLError as Urllib3SSLError

from channels_adapters.base import PermanentSendError, TransientSendError
from config import json_input
from inbox import plain_writes
from inbox.inbox_cache import forget_inboxes
from inbox.models import Inbox, RawInboundEvent
from inbox.services.raw_events import (
    BadPayload,
    check_before_keeping,
    defer_raw_event,
    is_deferred,
    process_raw_event,
    register_processor,
)

# Far above any provider's own cap (Twilio's MMS total is 5 MB): anything larger is not a customer's file.
MAX_MEDIA_BYTES = 25 * 1024 * 1024


@dataclass(frozen=True)
class LoopRequest:
    """A webhook as the event loop reads it, without building Django's request (which cost more than
    the rest of accepting it): the parts of `HttpRequest` a `Webhook` reads, by the same names."""

    method: str
    path: str
    query_string: str
    headers: CaseInsensitiveMapping
    body: bytes

    @classmethod
    def from_scope(cls, scope: dict, body: bytes) -> "LoopRequest":
        headers: dict[str, str] = {}
        for name, value in scope["headers"]:  # a repeated header is joined, as Django joins it
            name, value = name.decode("latin1"), value.decode("latin1")
            headers[name] = f"{headers[name]},{value}" if name in headers else value
        return cls(scope["method"], scope["path"], scope.get("query_string", b"").decode(),
                   CaseInsensitiveMapping(headers), body)

    @property
    def content_type(self) -> str:
        return parse_header_parameters(self.headers.get("Content-Type", ""))[0]

    def get_full_path(self) -> str:
        return escape_uri_path(self.path) + (f"?{iri_to_uri(self.query_string)}" if self.query_string else "")


# What an endpoint reads a request through, on either transport.
WebhookRequest = HttpRequest | LoopRequest

# Headers worth keeping to re-verify or debug a delivery; never cookies or auth.
KEPT_HEADERS = (
    "Content-Type", "User-Agent", "X-Twilio-Signature", "I-Twilio-Idempotency-Token", "X-Goog-Signature",
    "X-Forwarded-For", "X-Forwarded-Proto", "X-Heron-Signature",
)


def kept_headers(request: WebhookRequest) -> dict[str, str]:
    return {name: request.headers[name] for name in KEPT_HEADERS if name in request.headers}


def raw_event_for(request: WebhookRequest, *, channel: str, endpoint: str, inbox: Inbox | None) -> RawInboundEvent:
    """The raw event that keeps this request (unsaved): its body, verbatim, and the headers worth keeping."""
    return RawInboundEvent(channel=channel, endpoint=endpoint, inbox=inbox, url=request.get_full_path(),
                           headers=kept_headers(request), content_type=request.content_type or "", body=request.body)


@dataclass(frozen=True)
class Webhook:
    """One provider endpoint, the same on every transport: Django's view (`as_view`) and the event
    loop (config/webhook_fast_path.py) both run `keep`, store the row it returns their own way (the
    only difference), then send `answer_kept`.

    `accept(request)` reads a request (Django's or a `LoopRequest`) and returns the inbox it is for,
    once its signature checks out against it, or the answer to send instead (nothing is kept); a
    BadPayload it raises is a 400. `answer(raw)` is what a kept request is answered. Errors in
    `retry_later` (e.g. a status callback for a message not stored yet) stay failed on the raw event
    for replay but are no error for the provider. `on_loop`: `accept` reads only what the process
    keeps (inbox/inbox_cache.py) and the endpoint is deferred, so the loop may take it without a
    thread; whatever needs the database there raises (Django refuses queries on the loop) and goes
    to the view.
    """

    channel: str
    endpoint: str
    accept: Callable[[WebhookRequest], Inbox | HttpResponseBase]
    answer: Callable[[RawInboundEvent], HttpResponseBase]
    process: InitVar[Callable[[RawInboundEvent], str]]
    check: InitVar[Callable[[RawInboundEvent], object] | None] = None
    retry_later: tuple[type[Exception], ...] = ()
    on_loop: bool = False

    def __post_init__(self, process, check) -> None:
        register_processor(self.endpoint, process, check=check)

    def keep(self, request: WebhookRequest) -> HttpResponseBase | tuple[RawInboundEvent, ValueError | None]:
        """The refusal to send, or the raw event to store (unsaved) with why its body failed the
        endpoint's check, if it did (the event is then kept failed). A forged request leaves no trace."""
        try:
            inbox = self.accept(request)
        except BadPayload as exc:  # unreadable before its signature could be checked
            return JsonResponse({"detail": str(exc)}, status=400)
        if isinstance(inbox, HttpResponseBase):
            return inbox
        raw = raw_event_for(request, channel=self.channel, endpoint=self.endpoint, inbox=inbox)
        return raw, check_before_keeping(raw)

    def answer_kept(self, raw: RawInboundEvent, refused: ValueError | None) -> HttpResponseBase:
        """Once `raw` is stored: a deferred event goes to a worker, any other is processed now."""
        error = refused
        if error is None and is_deferred(self.endpoint):
            defer_raw_event(raw)
        elif error is None:
            error = process_raw_event(raw)
        if isinstance(error, ValueError):
            return JsonResponse({"detail": str(error), "raw_event": raw.pk}, status=400)
        if error is None or isinstance(error, self.retry_later):
            return self.answer(raw)
        return JsonResponse({"detail": "Stored for replay; processing failed.", "raw_event": raw.pk}, status=500)

    def respond(self, request: HttpRequest) -> HttpResponseBase:
        """The view. If the inbox the request was checked against has been deleted by another process
        meanwhile (and perhaps added again), it is checked once more against the database rather
        than refused: a provider may never retry it."""
        for _ in range(2):
            kept = self.keep(request)
            if isinstance(kept, HttpResponseBase):
                return kept
            try:
                plain_writes.insert(kept[0])  # every webhook's one statement before its answer
            except IntegrityError:  # its inbox is gone (inbox/inbox_cache.py)
                forget_inboxes()
                continue
            return self.answer_kept(*kept)
        return JsonResponse({"detail": "This inbox no longer exists."}, status=404)

    def as_view(self) -> Callable[[HttpRequest], HttpResponseBase]:
        view = csrf_exempt(require_POST(self.respond))
        view.webhook = self
        return view


class UnknownMessage(LookupError):
    """A status update or receipt for a message Heron has not stored (yet): kept failed for replay,
    and no error for the provider (pass it as `retry_later`)."""


def forbidden(reason: str) -> JsonResponse:
    return JsonResponse({"detail": reason}, status=403)


def json_object(body: bytes) -> dict:
    """A webhook body that must be a JSON object; anything else is a BadPayload."""
    try:
        payload = json_input.loads(body)
    except json_input.JSONInputError as exc:
        raise BadPayload(str(exc)) from exc
    if not isinstance(payload, dict):
        raise BadPayload("Body must be a JSON object")
    if b"\\u0000" in body:
        payload = without_nul(payload)
    return payload


def checked_text(value: str, name: str, *, required: bool = False, limit: int = 255) -> str:
    """A payload's text field `name`, refused when it is required and blank, or longer than `limit`."""
    if required and not value.strip():
        raise BadPayload(f"'{name}' is missing")
    if len(value) > limit:
        raise BadPayload(f"'{name}' is longer than {limit} characters")
    return value


def without_nul(value):
    """`value` (text, or JSON-like data) without NUL characters, which PostgreSQL can store neither in
    text nor in jsonb: a provider's stray NUL must not make its message impossible to record."""
    if isinstance(value, str):
        return value.replace("\x00", "")
    if isinstance(value, dict):
        return {without_nul(key): without_nul(item) for key, item in value.items()}
    if isinstance(value, list):
        return [without_nul(item) for item in value]
    return value


def download_media(url: str, *, provider: str, auth: tuple[str, str] | None = None) -> tuple[bytes, str]:
    """GET a provider-held file, following redirects; returns (content, Content-Type).

    5xx, 429 and network errors raise TransientSendError (retried); other refusals raise
    PermanentSendError (the download is marked failed with the reason), as does a file over MAX_MEDIA_BYTES.
    """
    try:
        with httpx.stream("GET", url, auth=auth, follow_redirects=True, timeout=30) as response:
            if response.status_code >= 500 or response.status_code == 429:
                raise TransientSendError(f"{provider} media server answered {response.status_code}")
            if response.status_code >= 400:
                raise PermanentSendError(f"{provider} refused the media download ({response.status_code})",
                                         code=str(response.status_code))
            chunks, size = [], 0
            for chunk in response.iter_bytes():
                size += len(chunk)
                if size > MAX_MEDIA_BYTES:
                    raise PermanentSendError(f"Media is larger than {MAX_MEDIA_BYTES} bytes")
                chunks.append(chunk)
            return b"".join(chunks), response.headers.get("Content-Type", "")
    except httpx.HTTPError as exc:
        raise TransientSendError(f"Could not download media: {exc}") from exc


def request_never_left(exc: requests.RequestException) -> bool:
    """Whether a failed provider call (through `requests`, as twilio-python and google-auth make them)
    never reached the provider: no connection, or no TLS session, so sending again cannot duplicate.
    A read timeout, a reset or a close after the request was written leaves it unknown."""
    if isinstance(exc, requests.ConnectTimeout):
        return True
    reason = getattr(exc.args[0], "reason", None) if exc.args else None
    return isinstance(exc, requests.ConnectionError) and isinstance(reason, NewConnectionError | Urllib3SSLError)
