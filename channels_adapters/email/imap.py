"""IMAP polling for teams without an ESP: incremental by UID, UIDVALIDITY-aware, never marks mail read unless told.

Per-inbox configuration (inbox.settings["imap"]):
    {"host": "imap.example.com", "port": 993, "security": "ssl" | "starttls" | "none",
     "username": "support@example.com", "folder": "INBOX", "mark_seen": false, "auth": "password" | "xoauth2"}
Secrets live in the encrypted credentials: {"imap_password": "…"} or {"imap_oauth_token": "…"}.
State (inbox.settings["imap_state"]): {"uidvalidity": …, "last_uid": …}.
Health (inbox.settings["imap_health"]): last_success, last_error, last_error_at, consecutive_failures,
next_attempt_at, last_fetched. A failing mailbox is retried with backoff, never silently disabled.
"""

from __future__ import annotations

import imaplib
import logging
import socket
import ssl
import time
from dataclasses import dataclass
from datetime import timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from imap_tools import AND, MailBox, MailBoxStartTls, MailBoxUnencrypted, MailMessage, U

from channels_adapters import poll_command
from channels_adapters.email.inbound import ingest_mime
from inbox.models import Inbox

log = logging.getLogger("heron.email.imap")

CONNECT_ATTEMPTS = 3
RETRY_DELAY_SECONDS = 1.0
MAX_BACKOFF = timedelta(minutes=30)
TRANSIENT_ERRORS = (OSError, socket.timeout, ssl.SSLError, EOFError, ConnectionError, imaplib.IMAP4.abort)


class RawMailMessage(MailMessage):
    """imap-tools' message, keeping the exact bytes the server sent."""

    def __init__(self, fetch_data: list) -> None:
        super().__init__(fetch_data)
        self.raw = self._get_message_data_parts(fetch_data)[0]


@dataclass
class PollResult(poll_command.PollResult):
    fetched: int = 0
    duplicates: int = 0
    skipped: bool = False


def _mailbox(config: dict, timeout: float):
    host, security = config["host"], (config.get("security") or "ssl").lower()
    if security == "none":
        box = MailBoxUnencrypted(host, int(config.get("port") or 143), timeout=timeout)
    elif security == "starttls":
        box = MailBoxStartTls(host, int(config.get("port") or 143), timeout=timeout)
    else:
        box = MailBox(host, int(config.get("port") or 993), timeout=timeout)
    box.email_message_class = RawMailMessage
    return box


def _login(box, config: dict, credentials: dict):
    folder = config.get("folder") or "INBOX"
    if (config.get("auth") or "password") == "xoauth2":
        return box.xoauth2(config["username"], credentials.get("imap_oauth_token", ""), initial_folder=folder)
    return box.login(config["username"], credentials.get("imap_password", ""), initial_folder=folder)


def _update_settings(inbox_id: int, **sections) -> None:
    """Merge into inbox.settings under a row lock, so an admin's concurrent edit of other keys survives."""
    with transaction.atomic():
        inbox = Inbox.objects.select_for_update().get(pk=inbox_id)
        for key, values in sections.items():
            current = dict(inbox.settings.get(key) or {})
            current.update(values)
            inbox.settings[key] = current
        inbox.save(update_fields=["settings"])


def poll_inbox(inbox_id: int, *, force: bool = False, timeout: float = 30,
               attempts: int = CONNECT_ATTEMPTS, retry_delay: float = RETRY_DELAY_SECONDS) -> PollResult:
    """Fetch new mail once. Connection errors are retried `attempts` times, then recorded with a backoff."""
    inbox = Inbox.objects.get(pk=inbox_id)
    config = inbox.settings.get("imap") or {}
    if not config.get("host") or not config.get("username"):
        return PollResult(skipped=True, error="IMAP is not configured for this inbox")
    health = inbox.settings.get("imap_health") or {}
    next_attempt = parse_datetime(health.get("next_attempt_at") or "")
    if not force and next_attempt and next_attempt > timezone.now():
        return PollResult(skipped=True, error="backing off after errors")

    last_exc: Exception | None = None
    for attempt in range(attempts):
        try:
            result = _poll_once(inbox, config, timeout)
        except TRANSIENT_ERRORS as exc:
            last_exc = exc
            log.warning("IMAP poll of inbox %s failed (attempt %s): %s", inbox_id, attempt + 1, exc)
            if attempt + 1 < attempts:
                time.sleep(retry_delay * (2**attempt))
            continue
        except Exception as exc:  # noqa: BLE001 - auth errors, protocol errors: report, don't crash the beat
            last_exc = exc
            break
        now = timezone.now()
        _update_settings(inbox_id, imap_health={
            "last_success": now.isoformat(), "consecutive_failures": 0, "next_attempt_at": None,
            "last_fetched": result.fetched, "last_attempts": attempt + 1,
        })
        return result

    failures = int(health.get("consecutive_failures") or 0) + 1
    backoff = min(timedelta(seconds=30 * 2 ** min(failures, 10)), MAX_BACKOFF)
    now = timezone.now()
    message = f"{type(last_exc).__name__}: {last_exc}"[:500]
    _update_settings(inbox_id, imap_health={
        "last_error": message, "last_error_at": now.isoformat(), "consecutive_failures": failures,
        "next_attempt_at": (now + backoff).isoformat(),
    })
    return PollResult(error=message)


def _poll_once(inbox: Inbox, config: dict, timeout: float) -> PollResult:
    result = PollResult()
    state = dict(inbox.settings.get("imap_state") or {})
    folder = config.get("folder") or "INBOX"
    with _login(_mailbox(config, timeout), config, inbox.credentials) as box:
        status = box.folder.status(folder, ["UIDVALIDITY", "UIDNEXT"])
        uidvalidity = int(status["UIDVALIDITY"])
        last_uid = int(state.get("last_uid") or 0)
        if state.get("uidvalidity") != uidvalidity:
            if state.get("uidvalidity") is not None:
                log.warning("inbox %s: UIDVALIDITY changed %s → %s; resyncing (deduped by Message-ID)",
                            inbox.pk, state.get("uidvalidity"), uidvalidity)
            last_uid = 0
            _update_settings(inbox.pk, imap_state={"uidvalidity": uidvalidity, "last_uid": 0})
        criteria = AND(uid=U(last_uid + 1, "*"))
        for msg in box.fetch(criteria, mark_seen=bool(config.get("mark_seen", False)), bulk=50):
            uid = int(msg.uid)
            if uid <= last_uid:
                continue  # "n:*" always returns the highest UID, even when it is below n (RFC 3501)
            result.fetched += 1
            outcome = ingest_raw(inbox, msg.raw, uid=uid, uidvalidity=uidvalidity)
            setattr(result, outcome, getattr(result, outcome) + 1)
            last_uid = uid
            _update_settings(inbox.pk, imap_state={"uidvalidity": uidvalidity, "last_uid": last_uid})
    return result


def ingest_raw(inbox: Inbox, raw: bytes, *, uid: int | None = None, uidvalidity: int | None = None) -> str:
    """One fetched message through the same raw-event + parse path as the webhooks. Returns the outcome."""
    host = (inbox.settings.get("imap") or {}).get("host", "")
    return ingest_mime(inbox, raw, url=f"imap://{host}/{uid or ''}", extra={
        "X-Heron-Source": "imap", "X-Heron-Imap-Uid": str(uid or ""), "X-Heron-Imap-Uidvalidity": str(uidvalidity or ""),
    })


def poll_all(*, force: bool = False) -> dict[int, PollResult]:
    results = {}
    for inbox in Inbox.objects.filter(channel="email").order_by("id"):
        if (inbox.settings.get("imap") or {}).get("host"):
            results[inbox.pk] = poll_inbox(inbox.pk, force=force)
    return results
