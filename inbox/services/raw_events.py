"""Keeping what providers sent, verbatim, before acting on it; and replaying what failed."""

import logging
from collections.abc import Callable

from django.http import HttpRequest
from django.utils import timezone

from inbox.models import Inbox, RawInboundEvent

log = logging.getLogger("heron.raw")

# Headers worth keeping to re-verify or debug a delivery; never cookies or auth.
KEPT_HEADERS = (
    "Content-Type", "User-Agent", "X-Twilio-Signature", "I-Twilio-Idempotency-Token", "X-Goog-Signature",
    "X-Forwarded-For", "X-Forwarded-Proto", "X-Heron-Signature",
)

# endpoint name → function that processes a stored event (registered by adapters at import).
_processors: dict[str, Callable[[RawInboundEvent], str]] = {}


def register_processor(endpoint: str, processor: Callable[[RawInboundEvent], str]) -> None:
    """An adapter says how to (re)process the raw events of one of its webhooks."""
    _processors[endpoint] = processor


def store_raw_event(request: HttpRequest, *, channel: str, endpoint: str, inbox: Inbox | None) -> RawInboundEvent:
    headers = {name: request.headers[name] for name in KEPT_HEADERS if name in request.headers}
    return RawInboundEvent.objects.create(
        channel=channel, endpoint=endpoint, inbox=inbox, url=request.get_full_path(), headers=headers,
        content_type=request.content_type or "", body=request.body,
    )


class BadPayload(ValueError):
    """A signed request whose content makes no sense (missing field, bad number): answer 4xx."""


def process_raw_event(raw: RawInboundEvent) -> Exception | None:
    """Run the endpoint's processor and record the outcome on the row; returns the error, if any.

    A `ValueError` (BadPayload, InvalidIdentity) is the sender's fault; anything else is ours,
    and the row stays "failed" for `replay_raw_events` once the cause is fixed.
    """
    processor = _processors.get(raw.endpoint)
    raw.attempts += 1
    error: Exception | None = None
    if processor is None:
        error = LookupError(f"No processor for endpoint {raw.endpoint!r}")
    else:
        try:
            raw.result = processor(raw)
        except Exception as exc:  # noqa: BLE001 - stored for replay, never lost
            error = exc
            if not isinstance(exc, ValueError):
                log.exception("processing raw event %s failed", raw.pk)
    if error is not None:
        raw.result = RawInboundEvent.Result.FAILED
        raw.error = f"{type(error).__name__}: {error}"
    else:
        raw.error = ""
    raw.processed_at = timezone.now()
    raw.save(update_fields=["result", "error", "attempts", "processed_at"])
    return error


def replay_failed_events(limit: int = 1000) -> dict[str, int]:
    counts: dict[str, int] = {}
    for raw in RawInboundEvent.objects.filter(result=RawInboundEvent.Result.FAILED).order_by("id")[:limit]:
        process_raw_event(raw)
        counts[raw.result] = counts.get(raw.result, 0) + 1
    return counts
