from datetime import datetime

from channels_adapters.base import OutboundMessage, SendResult, TransientSendError
from channels_adapters.email import sender

# django-anymail's inbound URLs (config/urls.py mounts anymail.urls under /anymail/).
ANYMAIL_INBOUND_PATHS = {
    "amazon_ses": "/anymail/amazon_ses/inbound/",
    "brevo": "/anymail/brevo/inbound/",
    "mailersend": "/anymail/mailersend/inbound/",
    "mailgun": "/anymail/mailgun/inbound_mime/",
    "mailjet": "/anymail/mailjet/inbound/",
    "mandrill": "/anymail/mandrill/",
    "postal": "/anymail/postal/inbound/",
    "postmark": "/anymail/postmark/inbound/",
    "resend": "/anymail/resend/inbound/",
    "sendgrid": "/anymail/sendgrid/inbound/",
    "sparkpost": "/anymail/sparkpost/inbound/",
}
# Their delivery reports (bounces, deliveries, opens): channels_adapters/email/tracking.py.
ANYMAIL_TRACKING_PATHS = {f"{esp}_tracking": f"/anymail/{esp}/tracking/" for esp in ANYMAIL_INBOUND_PATHS}


class EmailAdapter:
    """Email in through any anymail ESP webhook or IMAP (one parse path), out through Django's mail backends."""

    channel = "email"
    webhook_paths = {**ANYMAIL_INBOUND_PATHS, **ANYMAIL_TRACKING_PATHS}

    def send(self, message: OutboundMessage) -> SendResult:
        return sender.send(message)

    def reconcile(self, message: OutboundMessage, since: datetime) -> list[SendResult]:
        return sender.reconcile(message, since)

    def fetch_media(self, url: str, credentials: dict) -> tuple[bytes, str]:
        raise TransientSendError("Email attachments arrive inside the message; there is nothing to fetch.")
