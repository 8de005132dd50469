"""The inbox a webhook names, without a query per webhook.

Every webhook names its inbox (our number, an address) and is checked against that inbox's
credentials before anything is stored; reading and decrypting the inbox was a third of the CPU of
accepting an SMS. Each process keeps the inboxes it found for `HERON_INBOX_CACHE_SECONDS`
(default 10; 0 turns the cache off):

- a change saved by this process (the admin API, the admin site) is seen at once; one saved by
  another process, within that time;
- a request whose signature fails against a kept inbox is checked again against the database
  (`fresh=True`), so a rotated auth token works at once;
- an address with no inbox is not kept: unknown and forged requests cannot fill the memory.

The inboxes are shared between request threads: read them, never change them.
"""

from __future__ import annotations

import time

from django.conf import settings
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from inbox.models import Inbox

# Far above the inboxes any team has; a bound, not a tuning knob.
MAX_ENTRIES = 10_000

_found: dict[tuple[str, str], tuple[float, list[Inbox]]] = {}
_by_address: dict[str, tuple[float, dict[str, Inbox]]] = {}


def inboxes_at(channel: str, address: str, *, fresh: bool = False) -> list[Inbox]:
    """The inboxes of `channel` stored under `address` (at most one: they are unique)."""
    kept = None if fresh else kept_inboxes_at(channel, address)
    if kept is not None:
        return kept
    inboxes = list(Inbox.objects.filter(channel=channel, address=address))
    if inboxes and settings.HERON["INBOX_CACHE_SECONDS"] > 0:
        if len(_found) >= MAX_ENTRIES:
            _found.clear()
        for inbox in inboxes:
            inbox.credentials  # noqa: B018 - decrypted now, not on each request that reads them
        _found[(channel, address)] = (time.monotonic(), inboxes)
    return inboxes


def kept_inboxes_at(channel: str, address: str) -> list[Inbox] | None:
    """What `inboxes_at` keeps for this address, or None where it would read the database: for code
    on the event loop, which must not wait for a query (config/webhook_fast_path.py)."""
    return _unexpired(_found.get((channel, address)))


def inboxes_by_address(channel: str, *, fresh: bool = False) -> dict[str, Inbox]:
    """Every inbox of `channel` by its lower-cased address (email addresses match whatever their
    case). A caller that finds no inbox here asks again with `fresh`, so an inbox another process
    has just added is found at once."""
    kept = None if fresh else kept_inboxes_by_address(channel)
    if kept is not None:
        return kept
    now = time.monotonic()
    inboxes = {inbox.address.lower(): inbox for inbox in Inbox.objects.filter(channel=channel).select_related("team")}
    if settings.HERON["INBOX_CACHE_SECONDS"] > 0:
        _by_address[channel] = (now, inboxes)
    return inboxes


def kept_inboxes_by_address(channel: str) -> dict[str, Inbox] | None:
    """What `inboxes_by_address` keeps, or None where it would read the database (for the event loop)."""
    return _unexpired(_by_address.get(channel))


def _unexpired(kept):
    """The kept value of a (kept at, value) entry, unless it is missing or older than the cache keeps."""
    if kept is None or time.monotonic() - kept[0] >= settings.HERON["INBOX_CACHE_SECONDS"]:
        return None
    return kept[1]


def forget_inboxes() -> None:
    _found.clear()
    _by_address.clear()


@receiver(post_save, sender=Inbox)
@receiver(post_delete, sender=Inbox)
def _inbox_changed(**kwargs) -> None:
    forget_inboxes()
