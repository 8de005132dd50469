"""Provider status reports on outbound messages: forward-only, raw status always kept."""

from django.db import transaction

from channels_adapters.base import DeliveryUpdate
from inbox.models import DeliveryStatus, Message
from inbox.models.messages import STATUS_RANK
from inbox.services.events import record_message_event


def is_forward(current: str, new: str) -> bool:
    """queued → sent → delivered → read; failed is terminal and wins over anything but read."""
    if current == DeliveryStatus.FAILED:
        return False
    if new == DeliveryStatus.FAILED:
        return current != DeliveryStatus.READ
    return STATUS_RANK.get(new, -1) > STATUS_RANK.get(current, -1)


def apply_delivery_update(update: DeliveryUpdate) -> Message | None:
    """Returns the message, or None when no message has that provider id (yet)."""
    with transaction.atomic():
        message = (
            Message.objects.select_for_update()
            .filter(inbox_id=update.inbox_id).with_external_id(update.external_id)
            .first()
        )
        if message is None:
            return None
        changed = False
        if is_forward(message.status, update.status):
            message.status = update.status
            message.provider_status = update.provider_status
            changed = True
        elif not message.provider_status:
            message.provider_status = update.provider_status
            changed = True
        if update.error_code and not message.error_code:
            message.error_code = update.error_code
            message.error_message = update.error_message
            changed = True
        history = message.metadata.setdefault("status_history", [])
        history.append({"status": update.provider_status, "error_code": update.error_code})
        message.save()
        if changed:
            record_message_event("message.updated", message)
    return message
