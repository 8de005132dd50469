"""Outbound SMS/MMS through `client.messages.create`, with a status callback for delivery ticks."""

from __future__ import annotations

import logging

from django.conf import settings
from requests.exceptions import RequestException
from twilio.base.exceptions import TwilioException, TwilioRestException

from channels_adapters import twilio_common
from channels_adapters.base import (
    OutboundMessage,
    PermanentSendError,
    RecipientOptedOut,
    SendResult,
    TransientSendError,
)
from channels_adapters.twilio_sms import STATUS_PATH
from channels_adapters.twilio_sms.parse import STATUS_MAP, error_reason
from inbox.services.identities import InvalidIdentity, normalize_phone

log = logging.getLogger("heron.twilio_sms")


def status_callback_url() -> str:
    return settings.PUBLIC_BASE_URL + STATUS_PATH


UNSUBSCRIBED = "21610"  # Twilio: the recipient replied STOP to this sender


def _absolute(url: str) -> str:
    """Twilio fetches media itself: a relative URL of ours must become a public one."""
    return settings.PUBLIC_BASE_URL + url if url.startswith("/") else url


def _e164(number: str) -> str:
    try:
        return normalize_phone(number)
    except InvalidIdentity:
        return number  # let Twilio say what is wrong with it


def send(message: OutboundMessage) -> SendResult:
    credentials = message.inbox_credentials
    client = twilio_common.client(credentials)
    kwargs: dict = {
        "to": message.to,
        "body": message.text,
        "status_callback": status_callback_url(),
    }
    service_sid = credentials.get("messaging_service_sid") or message.inbox_settings.get("messaging_service_sid")
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
        if status >= 500 or status == 429:
            raise TransientSendError(f"Twilio answered {status}: {exc.msg}") from exc
        code = str(exc.code) if exc.code else ""
        refusal = RecipientOptedOut if code == UNSUBSCRIBED else PermanentSendError
        raise refusal(error_reason(code, str(exc.msg or "Twilio refused the message")) or str(exc.msg),
                                 code=code) from exc
    except RequestException as exc:  # connection refused, timeout, DNS...
        raise TransientSendError(f"Could not reach Twilio: {exc}") from exc
    except TwilioException as exc:  # e.g. an unparsable answer
        raise TransientSendError(f"Twilio client error: {exc}") from exc
    provider_status = str(created.status or "queued")
    if created.error_code:
        log.info("Twilio accepted %s with error code %s", created.sid, created.error_code)
    return SendResult(external_id=created.sid, provider_status=provider_status,
                      status=STATUS_MAP.get(provider_status, "queued"))
