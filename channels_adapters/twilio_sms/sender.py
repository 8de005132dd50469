"""Outbound SMS/MMS through `client.messages.create`, with a status callback for delivery ticks.

Twilio takes no idempotency key for messages, so a send whose answer was lost (a timeout after the
request left, a reset, a 2xx that is not Twilio's JSON, a 5xx from something between us and Twilio)
is UnconfirmedSend, and `find_sent` looks the message up in Twilio's Messages list before the core
decides to send it again (docs/sending.md).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.conf import settings
from requests.exceptions import RequestException
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.rest import Client

from channels_adapters import twilio_common
from channels_adapters.base import (
    OutboundMessage,
    PermanentSendError,
    RecipientOptedOut,
    SendResult,
    TransientSendError,
    UnconfirmedSend,
)
from channels_adapters.common import request_never_left
from channels_adapters.twilio_sms import STATUS_PATH
from channels_adapters.twilio_sms.parse import STATUS_MAP, error_reason
from inbox.services.identities import InvalidIdentity, normalize_phone

log = logging.getLogger("heron.twilio_sms")


def status_callback_url() -> str:
    return settings.PUBLIC_BASE_URL + STATUS_PATH


UNSUBSCRIBED = "21610"  # Twilio: the recipient replied STOP to this sender
# Twilio's clock and ours may disagree: a message it lists as created this long before the first
# attempt may still be ours.
CLOCK_SKEW = timedelta(minutes=5)
LOOKUP_LIMIT = 100


def _absolute(url: str) -> str:
    """Twilio fetches media itself: a relative URL of ours must become a public one."""
    return settings.PUBLIC_BASE_URL + url if url.startswith("/") else url


def _e164(number: str) -> str:
    try:
        return normalize_phone(number)
    except InvalidIdentity:
        return number  # let Twilio say what is wrong with it


def _service_sid(message: OutboundMessage) -> str:
    credentials = message.inbox_credentials
    return credentials.get("messaging_service_sid") or message.inbox_settings.get("messaging_service_sid") or ""


def send(message: OutboundMessage) -> SendResult:
    client = twilio_common.client(message.inbox_credentials)
    kwargs: dict = {
        "to": message.to,
        "body": message.text,
        "status_callback": status_callback_url(),
    }
    service_sid = _service_sid(message)
    if service_sid:
        kwargs["messaging_service_sid"] = service_sid
    else:
        kwargs["from_"] = _e164(message.inbox_address)
    if message.attachments:
        kwargs["media_url"] = [_absolute(attachment.url) for attachment in message.attachments]
    try:
        created = client.messages.create(**kwargs)
    except TwilioRestException as exc:
        status = exc.status or 0
        if status >= 500 and exc.code in (None, status) and status != 503:
            # Not Twilio's own error answer (the SDK puts the HTTP status for a code it could not
            # read): a gateway between us gave up, and Twilio may have the message.
            raise UnconfirmedSend(f"Twilio's answer was lost: {status} {exc.msg}", answer=_last_answer(client)) from exc
        if status >= 500 or status == 429:
            raise TransientSendError(f"Twilio answered {status}: {exc.msg}") from exc
        code = str(exc.code) if exc.code else ""
        refusal = RecipientOptedOut if code == UNSUBSCRIBED else PermanentSendError
        raise refusal(error_reason(code, str(exc.msg or "Twilio refused the message")) or str(exc.msg),
                      code=code) from exc
    except RequestException as exc:
        if request_never_left(exc):  # connection refused, DNS, connect timeout: Twilio never saw it
            raise TransientSendError(f"Could not reach Twilio: {exc}") from exc
        raise UnconfirmedSend(f"Twilio's answer was lost: {exc}") from exc
    except (TwilioException, ValueError) as exc:  # a 2xx that is not Twilio's JSON
        raise UnconfirmedSend(f"Twilio's answer could not be read: {exc}", answer=_last_answer(client)) from exc
    if not created.sid:
        raise UnconfirmedSend("Twilio's answer names no message SID", answer=_last_answer(client))
    if created.error_code:
        log.info("Twilio accepted %s with error code %s", created.sid, created.error_code)
    return _result(created.sid, created.status)


def _result(sid: str, twilio_status) -> SendResult:
    provider_status = str(twilio_status or "queued")
    return SendResult(external_id=sid, provider_status=provider_status,
                      status=STATUS_MAP.get(provider_status, "queued"))


def _last_answer(client: Client) -> str:
    """What Twilio (or whatever answered for it) actually said: kept on the message for the agent."""
    answer = client.http_client.last_answer
    return f"{answer.status_code} {answer.text}" if answer is not None else ""


def find_sent(message: OutboundMessage, since: datetime) -> list[SendResult]:
    """The outbound messages Twilio holds from our number (or messaging service) to this customer with
    this text, created since `since` (less the clock skew), oldest first: the Messages list filtered
    by To, From and DateSent as Twilio documents it."""
    client = twilio_common.client(message.inbox_credentials)
    service_sid = _service_sid(message)
    filters: dict = {"to": message.to, "date_sent_after": since.date().isoformat(), "limit": LOOKUP_LIMIT}
    if not service_sid:
        filters["from_"] = _e164(message.inbox_address)
    try:
        listed = client.messages.list(**filters)
    except TwilioRestException as exc:
        if (exc.status or 0) >= 500 or exc.status == 429:
            raise TransientSendError(f"Twilio's Messages list answered {exc.status}: {exc.msg}") from exc
        raise PermanentSendError(f"Twilio refused to list messages: {exc.msg}", code=str(exc.code or "")) from exc
    except (RequestException, TwilioException, ValueError) as exc:
        raise TransientSendError(f"Could not ask Twilio: {exc}") from exc
    found = [
        m for m in listed
        if str(m.direction or "").startswith("outbound") and _same_text(message.text, m.body or "")
        and (not service_sid or m.messaging_service_sid == service_sid)
        and (m.date_created is None or m.date_created >= since - CLOCK_SKEW)
    ]
    found.sort(key=lambda m: m.date_created or since)
    return [_result(m.sid, m.status) for m in found]


def _same_text(ours: str, theirs: str) -> bool:
    """Twilio stores the body as sent; a messaging service may append to it (an opt-out line)."""
    return theirs.strip().startswith(ours.strip())
