"""What every adapter shares: keeping and processing a verified webhook, reading a JSON body strictly,
downloading a customer's media file from the provider's storage, and telling a send that never
reached the provider from one whose answer was lost."""

from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property

import httpx
import requests
from django.db import IntegrityError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.datastructures import CaseInsensitiveMapping
from django.utils.encoding import escape_uri_path, iri_to_uri
from django.utils.http import parse_header_parameters
from urllib3.exceptions import NewConnectionError
from urllib3.exceptions import SSLError as Urllib3SSLError

from channels_adapters.base import PermanentSendError, TransientSendError
from config import json_input
from inbox.inbox_cache import forget_inboxes
from inbox.models import Inbox, RawInboundEvent
from inbox.services.raw_events import (
    BadPayload,
    check_raw_event,
    defer_raw_event,
    is_deferred,
    process_raw_event,
    store_raw_event,
)

# Far above any provider's own cap (Twilio's MMS total is 5 MB): anything larger is not a customer's file.
MAX_MEDIA_BYTES = 25 * 1024 * 1024


def store_and_process(
    request: HttpRequest, *, channel: str, endpoint: str, inbox: Inbox | None,
    retry_later: tuple[type[Exception], ...] = (),
):
    """Returns None when the event was processed (or, for a deferred endpoint, checked and queued),
    else the error response to send.

    Call only after the signature check passed: a forged request must leave no trace.
    Errors in `retry_later` (e.g. a status callback for a message not stored yet) stay failed on the
    raw event for replay, but are no error for the provider.
    """
    try:
        raw = store_raw_event(request, channel=channel, endpoint=endpoint, inbox=inbox)
    except IntegrityError:  # the inbox was deleted since this process found it (inbox/inbox_cache.py)
        forget_inboxes()
        raise InboxGone from None
    if is_deferred(endpoint):
        error = check_raw_event(raw)
        if error is None:
            defer_raw_event(raw)
            return None
    else:
        error = process_raw_event(raw)
    if error is None or isinstance(error, retry_later):
        return None
    if isinstance(error, ValueError):
        return JsonResponse({"detail": str(error), "raw_event": raw.pk}, status=400)
    return JsonResponse({"detail": "Stored for replay; processing failed.", "raw_event": raw.pk}, status=500)


class InboxGone(LookupError):
    """The kept inbox a request was checked against has been deleted by another process."""


class UnknownMessage(LookupError):
    """A status update or receipt for a message Heron has not stored (yet): kept failed for replay,
    and no error for the provider (pass it as `retry_later`)."""


def store_for_kept_inbox(
    request: HttpRequest, verified_inbox: Callable[[bool], tuple[Inbox | None, HttpResponse | None]], *,
    channel: str, endpoint: str, retry_later: tuple[type[Exception], ...] = (),
) -> HttpResponse | None:
    """`store_and_process` for a webhook whose inbox comes from inbox/inbox_cache.py.

    `verified_inbox(fresh)` finds and checks the inbox, returning it or the refusal to send. If the
    kept inbox was deleted meanwhile (and perhaps added again for the same address), the request is
    checked once more against the database rather than refused: a provider may never retry it.
    """
    for fresh in (False, True):
        inbox, refusal = verified_inbox(fresh)
        if refusal is not None:
            return refusal
        try:
            return store_and_process(request, channel=channel, endpoint=endpoint, inbox=inbox,
                                     retry_later=retry_later)
        except InboxGone:
            continue
    return JsonResponse({"detail": "This inbox no longer exists."}, status=404)


@dataclass(frozen=True)
class LoopRequest:
    """A webhook as the event loop reads it, without building Django's request (which cost more than
    the rest of accepting it): the parts of `HttpRequest` that keeping a raw event uses, by the same
    names, for a `LoopAccept.kept_event` and inbox/services/raw_events.py."""

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
        return cls(scope["path"], scope.get("query_string", b"").decode(), CaseInsensitiveMapping(headers), body)

    @property
    def content_type(self) -> str:
        return parse_header_parameters(self.headers.get("Content-Type", ""))[0]

    @cached_property
    def META(self) -> dict[str, str]:  # noqa: N802 - Django's name, for code written against HttpRequest (anymail's)
        meta = {f"HTTP_{name.upper().replace('-', '_')}": value for name, value in self.headers.items()}
        for name in ("CONTENT_TYPE", "CONTENT_LENGTH"):
            if f"HTTP_{name}" in meta:
                meta[name] = meta.pop(f"HTTP_{name}")
        return meta

    def get_full_path(self) -> str:
        return escape_uri_path(self.path) + (f"?{iri_to_uri(self.query_string)}" if self.query_string else "")


@dataclass(frozen=True)
class LoopAccept:
    """How the event loop may accept a deferred webhook by itself (config/webhook_fast_path.py).

    `kept_event(request)` is the raw event (unsaved) the view would keep for the request, with its
    inbox from the kept inboxes alone (inbox/inbox_cache.py), once the request's signature checks
    out against it; None whenever the view must decide (not kept, a bad signature, anything
    unusual). It must not touch the database. `answer` is what the view answers an accepted
    request with. `checked` says that `kept_event` returns an event only once it passes its
    endpoint's check (raw_events.register_processor), run on what it had parsed already, so the loop
    does not parse the body a second time to check it.
    """

    kept_event: Callable[[LoopRequest], RawInboundEvent | None]
    answer: Callable[[], HttpResponse]
    checked: bool = False


def accepted_on_loop(spec: LoopAccept):
    """Marks a webhook view whose requests the event loop may accept as `spec` says; any request it
    does not accept still goes to the view."""

    def mark(view):
        view.loop_accept = spec
        return view

    return mark


# class-based views we do not own (anymail's) → how the loop may accept their requests
_accepted_on_loop_by_view_class: dict[type, LoopAccept] = {}


def accept_on_loop_for(view_class: type, spec: LoopAccept) -> None:
    """`accepted_on_loop` for another package's class-based view (every `as_view()` of it)."""
    _accepted_on_loop_by_view_class[view_class] = spec


def loop_accept_of(view) -> LoopAccept | None:
    """How the event loop may accept requests to this view function, if at all."""
    classes = getattr(getattr(view, "view_class", None), "__mro__", ())  # a subclass's view too (email/urls.py)
    return getattr(view, "loop_accept", None) or next(
        (_accepted_on_loop_by_view_class[c] for c in classes if c in _accepted_on_loop_by_view_class), None
    )


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
