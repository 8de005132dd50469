"""Celery tasks: thin wrappers that give services retries and a worker to run on."""

from celery import shared_task
from django.conf import settings

from channels_adapters.base import TransientSendError
from inbox.models import Attachment
from inbox.services import attachments, conversations, outbound, raw_events


def _backoff(retries: int) -> float:
    return settings.HERON["SEND_RETRY_BACKOFF_SECONDS"] * (2**retries)


@shared_task(bind=True, max_retries=None, acks_late=True)
def deliver_message(self, message_id: int) -> None:
    """The service counts attempts and says when to run again; inline (no worker), the sweeper does."""
    delay = outbound.deliver(message_id, retried_by_task=not self.request.is_eager)
    if delay is not None and not self.request.is_eager:
        raise self.retry(countdown=delay)


@shared_task
def sweep_sends() -> int:
    return outbound.sweep_sends()


@shared_task(bind=True, max_retries=None, acks_late=True)
def download_attachment(self, attachment_id: int) -> None:
    try:
        attachments.download_attachment(attachment_id)
    except TransientSendError as exc:
        if self.request.retries >= settings.HERON["SEND_MAX_RETRIES"]:
            attachment = Attachment.objects.get(pk=attachment_id)
            attachments.mark_download_failed(attachment, f"Download kept failing: {exc}")
            return
        raise self.retry(exc=exc, countdown=_backoff(self.request.retries)) from exc


@shared_task
def wake_snoozed_conversations() -> int:
    return conversations.wake_snoozed_conversations()


@shared_task(bind=True, max_retries=None, acks_late=True)
def process_raw_events_task(self, raw_event_ids: list[int]) -> None:
    """Deferred webhooks. A ValueError is the sender's fault and final; anything else (database
    restarting, a bug fixed by a deploy) is retried with backoff for the events it hit, then left
    failed for replay."""
    failed = raw_events.process_queued_events(raw_event_ids, is_retry=self.request.retries > 0)
    if failed and self.request.retries < settings.HERON["SEND_MAX_RETRIES"]:
        raise self.retry(args=[failed], countdown=_backoff(self.request.retries))


@shared_task
def process_stale_raw_events() -> int:
    return raw_events.process_stale_events()
