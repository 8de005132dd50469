"""What every adapter's webhook does after its own signature check: keep the raw request, then process it."""

from django.http import HttpRequest, JsonResponse

from inbox.models import Inbox
from inbox.services.raw_events import process_raw_event, store_raw_event


def store_and_process(request: HttpRequest, *, channel: str, endpoint: str, inbox: Inbox | None):
    """Returns None when processing succeeded, else the error response to send.

    Call only after the signature check passed: a forged request must leave no trace.
    """
    raw = store_raw_event(request, channel=channel, endpoint=endpoint, inbox=inbox)
    error = process_raw_event(raw)
    if error is None:
        return None
    if isinstance(error, ValueError):
        return JsonResponse({"detail": str(error), "raw_event": raw.pk}, status=400)
    return JsonResponse({"detail": "Stored for replay; processing failed.", "raw_event": raw.pk}, status=500)


def forbidden(reason: str) -> JsonResponse:
    return JsonResponse({"detail": reason}, status=403)
