"""Celery tasks for Business Profile reviews (scheduled in config/celery.py)."""

from celery import shared_task


@shared_task(ignore_result=True)
def poll_reviews_inbox(inbox_id: int) -> dict:
    from channels_adapters.google_reviews.poller import poll_inbox

    return poll_inbox(inbox_id).__dict__


@shared_task(ignore_result=True)
def poll_google_reviews() -> int:
    """Fan out: one task per reviews inbox, so one slow location cannot hold up the others."""
    from inbox.models import Inbox

    ids = list(Inbox.objects.filter(channel="google_reviews").values_list("id", flat=True))
    for inbox_id in ids:
        poll_reviews_inbox.delay(inbox_id)
    return len(ids)
