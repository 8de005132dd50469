"""What an ESP reports about our outbound email (anymail tracking webhooks): which message, applied once.

ESPs name a message by their own id (anymail's `message_id`), not by our Message-ID header (which stays
the message's `external_id` for threading). The sender stores the ESP's id in `metadata.esp_message_id`;
reports are then applied through `apply_delivery_update`, so status only ever moves forward.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction

from channels_adapters.base import DeliveryUpdate
from inbox.models import Direction, Message
from inbox.services.delivery import apply_delivery_update

# Keys of the last reports applied to a message: enough to recognize an ESP's retries, bounded per message.
KEPT_EVENT_KEYS = 50


@dataclass(frozen=True)
class TrackingReport:
    """One ESP event about one outbound email, normalized by the email adapter."""

    esp_message_id: str
    recipient: str  # as the ESP gave it; narrows the search to that identity's messages
    event_key: str  # the same for a retried delivery of the same event
    provider_status: str
    status: str  # sent | delivered | read | failed
    error_code: str = ""
    error_message: str = ""


@dataclass(frozen=True)
class TrackingResult:
    message: Message
    applied: bool  # False: this event was applied before (a webhook retry)


def remember_esp_message_id(message_id: int, esp_message_id: str) -> None:
    """Called by the email sender as soon as the ESP accepted the message, so its reports find it."""
    with transaction.atomic():
        message = Message.objects.select_for_update().get(pk=message_id)
        message.metadata["esp_message_id"] = esp_message_id
        message.save(update_fields=["metadata", "updated_at"])


def apply_tracking_report(report: TrackingReport) -> TrackingResult | None:
    """Returns None when no sent email has that ESP id (yet): the caller keeps the report for replay."""
    with transaction.atomic():
        candidates = Message.objects.select_for_update(of=("self",)).filter(
            direction=Direction.OUT, channel="email", metadata__esp_message_id=report.esp_message_id,
        ).exclude(external_id="")  # not recorded as sent yet: apply_delivery_update could not find it
        recipient = report.recipient.strip().lower()
        if recipient:
            # Uses the identity index instead of scanning every outbound email's metadata.
            candidates = candidates.filter(identity__kind="email", identity__value=recipient)
        message = candidates.order_by("-id").first()
        if message is None:
            return None
        seen = message.metadata.get("esp_event_keys") or []
        if report.event_key in seen:
            return TrackingResult(message=message, applied=False)
        message = apply_delivery_update(DeliveryUpdate(
            inbox_id=message.inbox_id, external_id=message.external_id, provider_status=report.provider_status[:64],
            status=report.status, error_code=report.error_code[:32], error_message=report.error_message[:500],
        ))
        message.metadata["esp_event_keys"] = [*seen, report.event_key][-KEPT_EVENT_KEYS:]
        message.save(update_fields=["metadata"])
    return TrackingResult(message=message, applied=True)
