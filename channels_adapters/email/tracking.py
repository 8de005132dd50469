"""anymail's `tracking` signal → a stored raw event → the ESP's word on one of our outbound emails.

anymail has authenticated the webhook (basic auth, ESP signature) before the signal fires; a forged
request is answered 400 by anymail and never reaches this module, so nothing is stored for it.
The signal carries no request, so the raw event keeps anymail's normalized fields next to the ESP's own
event, verbatim; replaying it (`manage.py replay_raw_events`) runs the same processor.
"""

from __future__ import annotations

import hashlib
import json

from anymail.signals import AnymailTrackingEvent, EventType, RejectReason, tracking
from django.dispatch import receiver
from django.http import QueryDict

from channels_adapters.common import json_object
from inbox.models import RawInboundEvent
from inbox.services.email_tracking import TrackingReport, apply_tracking_report
from inbox.services.raw_events import BadPayload, process_raw_event, register_processor

ENDPOINT = "email.tracking"

# anymail's normalized event types that say something about delivery. Others (queued, unsubscribed,
# autoresponded, …) are kept as raw events but change nothing.
STATUS_FOR_EVENT = {
    EventType.DEFERRED: "sent",  # delayed by the receiving server; a delivered or bounced follows
    EventType.DELIVERED: "delivered",
    EventType.OPENED: "read",
    EventType.CLICKED: "read",
    EventType.BOUNCED: "failed",
    EventType.REJECTED: "failed",
    EventType.FAILED: "failed",
    EventType.COMPLAINED: "failed",
}

# When the ESP gives no description and no server answer, the agent still reads why.
REASON_FOR_REJECT = {
    RejectReason.INVALID: "The address is invalid.",
    RejectReason.BOUNCED: "The recipient's mail server refused the message.",
    RejectReason.TIMED_OUT: "The ESP gave up after repeated delivery attempts.",
    RejectReason.BLOCKED: "The ESP blocked sending to this address.",
    RejectReason.SPAM: "The recipient reported the message as spam.",
    RejectReason.UNSUBSCRIBED: "The recipient unsubscribed; the ESP no longer sends to them.",
}
REASON_FOR_EVENT = {
    EventType.BOUNCED: "The message bounced.",
    EventType.REJECTED: "The ESP refused to send the message.",
    EventType.FAILED: "The ESP could not send the message.",
    EventType.COMPLAINED: "The recipient reported the message as spam.",
}

# Where ESPs put their own name for the event (Postmark "HardBounce", SendGrid "dropped", Mailgun "failed").
ESP_TYPE_KEYS = ("Type", "RecordType", "event", "eventType", "notificationType", "type")


class UnknownEmail(LookupError):
    """No sent email has this ESP message id (yet): kept for replay, no error for the ESP."""


@receiver(tracking, dispatch_uid="heron.email.tracking")
def handle_tracking(sender, event: AnymailTrackingEvent, esp_name: str, **kwargs) -> None:
    raw = RawInboundEvent.objects.create(
        channel="email", endpoint=ENDPOINT, url=f"/anymail/{esp_name.lower().replace(' ', '_')}/tracking/",
        headers={"X-Heron-Source": f"anymail:{esp_name}"}, content_type="application/json",
        body=json.dumps(_stored_event(event, esp_name), default=str).encode(),
    )
    error = process_raw_event(raw)
    if error is not None and not isinstance(error, ValueError | UnknownEmail):
        # Ours, not the ESP's: a 500 makes it retry (the event key dedupes); the raw event is kept meanwhile.
        raise error


def _stored_event(event: AnymailTrackingEvent, esp_name: str) -> dict:
    esp_event = event.esp_event
    if isinstance(esp_event, QueryDict):  # Mailgun's legacy form posts
        esp_event = dict(esp_event.lists())
    return {
        "esp": esp_name, "event_type": event.event_type, "message_id": event.message_id,
        "recipient": event.recipient, "timestamp": event.timestamp.isoformat() if event.timestamp else None,
        "event_id": event.event_id, "reject_reason": event.reject_reason, "description": event.description,
        "mta_response": event.mta_response, "click_url": event.click_url, "esp_event": esp_event,
    }


def tracking_report(data: dict) -> TrackingReport | None:
    """The stored event as a report on one message; None for events that say nothing about delivery."""
    event_type = data.get("event_type")
    status = STATUS_FOR_EVENT.get(event_type)
    if status is None:
        return None
    message_id = data.get("message_id")
    if not message_id or not isinstance(message_id, str):
        raise BadPayload(f"The ESP's {event_type} event names no message.")
    failed = status == "failed"
    return TrackingReport(
        esp_message_id=message_id, recipient=_text(data.get("recipient")), event_key=_event_key(data),
        provider_status=_esp_event_type(data.get("esp_event")) or event_type, status=status,
        error_code=(_text(data.get("reject_reason")) or event_type) if failed else "",
        error_message=_failure_reason(data) if failed else "",
    )


def _text(value) -> str:
    return value.strip() if isinstance(value, str) else ""


def _event_key(data: dict) -> str:
    """Identifies the event by what it says, not by a delivery token: some ESPs sign each retry anew."""
    fields = [data.get(k) for k in ("esp", "event_type", "message_id", "recipient", "timestamp", "description",
                                     "mta_response", "click_url")]
    return hashlib.sha256(json.dumps(fields, default=str).encode()).hexdigest()[:32]


def _esp_event_type(esp_event) -> str:
    """The ESP's own name for what happened, kept as the message's provider_status."""
    if not isinstance(esp_event, dict):
        return ""
    if isinstance(esp_event.get("event-data"), dict):  # Mailgun
        esp_event = esp_event["event-data"]
    for key in ESP_TYPE_KEYS:
        value = esp_event.get(key)
        if isinstance(value, str) and value:
            severity = esp_event.get("severity")  # Mailgun: "failed" is temporary (deferred) or permanent
            return f"{value} ({severity})" if isinstance(severity, str) and severity else value
    return ""


def _failure_reason(data: dict) -> str:
    """The ESP's description and the receiving server's answer, else a sentence for the reject reason."""
    parts: list[str] = []
    for part in (_text(data.get("description")), _text(data.get("mta_response"))):
        if part and part not in parts:
            parts.append(part)
    return (" — ".join(parts) or REASON_FOR_REJECT.get(data.get("reject_reason"))
            or REASON_FOR_EVENT.get(data.get("event_type"), "The ESP reported a delivery failure."))


def process_tracking(raw: RawInboundEvent) -> str:
    report = tracking_report(json_object(bytes(raw.body)))
    if report is None:
        return RawInboundEvent.Result.DUPLICATE  # nothing about delivery: kept, not acted on
    result = apply_tracking_report(report)
    if result is None:
        raise UnknownEmail(f"No sent email has ESP message id {report.esp_message_id!r} (yet); replay later")
    if raw.inbox_id != result.message.inbox_id:
        RawInboundEvent.objects.filter(pk=raw.pk).update(inbox_id=result.message.inbox_id)
    return RawInboundEvent.Result.PROCESSED if result.applied else RawInboundEvent.Result.DUPLICATE


register_processor(ENDPOINT, process_tracking)
