"""Outbound email through Django's mail machinery: per-inbox SMTP, or the project's EMAIL_BACKEND (anymail ESP)."""

from __future__ import annotations

import logging
import smtplib
from datetime import datetime
from email.utils import formataddr

from django.core.mail import EmailMultiAlternatives, mailers
from django.utils.crypto import salted_hmac
from django.utils.html import escape, linebreaks
from django.utils.module_loading import import_string

from channels_adapters.base import OutboundMessage, PermanentSendError, SendResult, TransientSendError
from channels_adapters.email import smtp
from channels_adapters.email import threading as th

log = logging.getLogger("heron.email")


def mailer_for(inbox_settings: dict, credentials: dict, *, inbox_key: str = "inbox"):
    """The inbox's own SMTP server when configured, else a per-inbox backend path, else MAILERS["default"]."""
    server = inbox_settings.get("smtp") or {}
    if server.get("host"):
        return smtp.EmailBackend(
            alias=inbox_key, host=server["host"], port=int(server.get("port") or 587),
            username=server.get("username") or "", password=credentials.get("smtp_password", ""),
            use_tls=bool(server.get("use_tls", False)), use_ssl=bool(server.get("use_ssl", False)),
            timeout=float(server.get("timeout") or 30),
        )
    backend = inbox_settings.get("email_backend")  # e.g. "anymail.backends.postmark.EmailBackend"
    if backend:
        return import_string(backend)(alias=inbox_key, **(inbox_settings.get("email_backend_options") or {}))
    return mailers.default


def build_email(message: OutboundMessage, context) -> tuple[EmailMultiAlternatives, str]:
    """The MIME message for one agent reply, and the Message-ID we gave it."""
    domain = message.inbox_settings.get("message_id_domain") or th.domain_of(message.inbox_address)
    headers = dict(message.thread_headers or {})
    message_id = headers.pop("Message-ID", "") or th.make_message_id(
        context.conversation_id, message.message_id, domain, _message_id_token(message, context)
    )
    in_reply_to = headers.pop("In-Reply-To", "") or (f"<{context.in_reply_to}>" if context.in_reply_to else "")
    references = headers.pop("References", "") or (
        th.references_for_reply(list(context.references), context.in_reply_to) if context.in_reply_to else ""
    )
    subject = message.subject or context.subject or "Your message"
    if context.in_reply_to and not subject.lower().lstrip().startswith("re:"):
        subject = f"Re: {subject}"
    if message.inbox_settings.get("subject_tag", True):
        subject = th.add_ticket_tag(subject, context.conversation_id)
    display_name = message.inbox_settings.get("display_name") or context.inbox_name
    sender = formataddr((display_name, message.inbox_address)) if display_name else message.inbox_address
    mail_headers = {"Message-ID": message_id, "Auto-Submitted": "no", "X-Heron-Conversation": str(context.conversation_id)}
    if in_reply_to:
        mail_headers["In-Reply-To"] = in_reply_to
    if references:
        mail_headers["References"] = references
    mail_headers.update(headers)
    email = EmailMultiAlternatives(
        subject=subject, body=message.text, from_email=sender, to=[message.to], cc=list(message.cc),
        reply_to=[formataddr((display_name, th.plus_address(message.inbox_address, context.conversation_id)))
                  if display_name else th.plus_address(message.inbox_address, context.conversation_id)],
        headers=mail_headers,
    )
    email.attach_alternative(message.html or linebreaks(escape(message.text)), "text/html")
    for attachment in message.attachments:
        email.attach(attachment.filename or "attachment", attachment.content, attachment.content_type or None)
    return email, th.normalize_message_id(message_id)


def _message_id_token(message: OutboundMessage, context) -> str:
    """The same for every attempt to send this message, so its Message-ID is too."""
    created = context.created_at.isoformat() if context.created_at else ""
    seed = f"{context.conversation_id}.{message.message_id}.{created}"
    return salted_hmac("heron.email.message-id", seed, algorithm="sha256").hexdigest()[:12]


def send(message: OutboundMessage) -> SendResult:
    from inbox.services.email_threading import reply_context
    from inbox.services.email_tracking import remember_esp_message_id

    context = reply_context(message.message_id)
    email, message_id = build_email(message, context)
    try:
        mailer = mailer_for(message.inbox_settings, message.inbox_credentials, inbox_key=f"inbox-{message.inbox_address}")
        mailer.send_messages([email])
    except smtp.AnswerLost as exc:
        return SendResult(
            external_id=message_id, provider_status="unconfirmed", status="sent",
            note=f"The mail server got the whole message but never confirmed it ({exc or 'no answer'}). "
                 "Not sent again: servers store a message before they answer, so it most likely has it.",
        )
    except (smtplib.SMTPRecipientsRefused, smtplib.SMTPSenderRefused) as exc:
        raise _classify(exc) from exc
    except smtplib.SMTPResponseException as exc:
        raise _classify(exc) from exc
    except (TimeoutError, smtplib.SMTPServerDisconnected, smtplib.SMTPConnectError, ConnectionError, OSError) as exc:
        raise TransientSendError(f"SMTP unavailable: {exc}") from exc
    except Exception as exc:  # anymail ESP errors: 5xx/429 retry, other refusals are final
        status = getattr(exc, "status_code", None)
        if exc.__class__.__module__.startswith("anymail"):
            if status is None or status >= 500 or status == 429:
                raise TransientSendError(str(exc)) from exc
            raise PermanentSendError(str(exc), code=str(status)) from exc
        raise
    esp_message_id = _esp_message_id(email)
    if esp_message_id:
        remember_esp_message_id(message.message_id, esp_message_id)
    return SendResult(external_id=message_id, provider_status="sent", status="sent")


def _esp_message_id(email: EmailMultiAlternatives) -> str:
    """The id an anymail ESP backend got for the message: its tracking webhooks name the message by it.

    Our Message-ID stays the message's external_id (replies thread on it); SMTP sends have no ESP id.
    """
    esp_id = getattr(getattr(email, "anymail_status", None), "message_id", None)
    return "" if esp_id is None or isinstance(esp_id, set) else str(esp_id)


def _classify(exc: Exception) -> Exception:
    code = getattr(exc, "smtp_code", None)
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [c for c, _ in exc.recipients.values()]
        code = codes[0] if codes else None
    if code and 400 <= int(code) < 500:
        return TransientSendError(f"SMTP temporary failure {code}: {exc}")
    return PermanentSendError(f"The mail server refused the message: {exc}", code=str(code or ""),
                              provider_status="rejected")


def reconcile(message: OutboundMessage, since: datetime) -> list[SendResult]:
    """A mail server cannot be asked whether it kept a message; an interrupted send is not repeated."""
    raise PermanentSendError("A mail server cannot be asked whether it got a message, so it was not sent again "
                             "(that could deliver it twice). Send it again if the customer did not get it.")
