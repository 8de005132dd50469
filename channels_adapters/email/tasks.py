"""Celery tasks for email: periodic IMAP polling (scheduled in channels_adapters/apps.py, EmailConfig)."""

from celery import shared_task


@shared_task(ignore_result=True)
def poll_imap_inbox(inbox_id: int) -> dict:
    from channels_adapters.email.imap import poll_inbox

    result = poll_inbox(inbox_id)
    return result.__dict__


@shared_task(ignore_result=True)
def poll_imap_inboxes() -> int:
    """Fan out: one task per IMAP-configured email inbox, so one slow server cannot hold up the others."""
    from inbox.models import Inbox

    count = 0
    for inbox in Inbox.objects.filter(channel="email").only("id", "settings"):
        if (inbox.settings.get("imap") or {}).get("host"):
            poll_imap_inbox.delay(inbox.pk)
            count += 1
    return count
