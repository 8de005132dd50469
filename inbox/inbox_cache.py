"""The inboxes a webhook may name, without a query per webhook.

Every webhook names its inbox (our number, an address) and is checked against that inbox's
credentials before anything is stored; reading and decrypting the inbox was a third of the CPU of
accepting an SMS. Each process keeps the inboxes of a channel it read for
`HERON_INBOX_CACHE_SECONDS` (default 10; 0 turns the cache off):

- a change saved by this process (the admin API, the admin site) is seen at once; one saved by
  another process, within that time;
- a caller that finds no inbox, or whose request's signature fails against a kept inbox, asks again
  with `fresh=True`, so a new inbox or a rotated auth token works at once; one whose INSERT finds
  the inbox deleted calls `forget_inboxes`.

The inboxes are shared between request threads and the event loop: read them, never change them.
"""

from __future__ import annotations

import time

from django.conf import settings
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from inbox.models import Inbox

# channel → (read at, its inboxes by lower-cased address). Process-wide, owned by this module: emptied
# by `forget_inboxes` when this process saves or deletes an inbox or finds one gone; entries expire.
_kept: dict[str, tuple[float, dict[str, Inbox]]] = {}


def inboxes_of(channel: str, *, fresh: bool = False) -> dict[str, Inbox]:
    """Every inbox of `channel` by its lower-cased address (email addresses match whatever their
    case), oldest first, with its team and its credentials decrypted. On the event loop a kept one
    is all there is: reading the database raises there (Django's SynchronousOnlyOperation)."""
    kept = None if fresh else _kept.get(channel)
    if kept is not None and time.monotonic() - kept[0] < settings.HERON["INBOX_CACHE_SECONDS"]:
        return kept[1]
    now = time.monotonic()
    inboxes = {inbox.address.lower(): inbox
               for inbox in Inbox.objects.filter(channel=channel).select_related("team").order_by("id")}
    for inbox in inboxes.values():
        inbox.credentials  # noqa: B018 - decrypted now, not on each request that reads them
    if settings.HERON["INBOX_CACHE_SECONDS"] > 0:
        _kept[channel] = (now, inboxes)
    return inboxes


def forget_inboxes() -> None:
    _kept.clear()


@receiver(post_save, sender=Inbox)
@receiver(post_delete, sender=Inbox)
def _inbox_changed(**kwargs) -> None:
    forget_inboxes()
