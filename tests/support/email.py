"""Email test helpers: MIME builders, anymail webhook posts, and a real SMTP sink (aiosmtpd)."""

from __future__ import annotations

import asyncio
import base64
import json
import threading
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from aiosmtpd.controller import Controller
from django.utils import timezone

from channels_adapters.email.simulate import postmark_payload, webhook_auth
from tests.support.servers import free_port


def mime(
    *, sender="Alice Customer <alice@example.org>", to="support@heron.local", subject="Order not delivered",
    text="Hi, my order hasn't arrived.", html: str | None = None, message_id: str | None = None,
    in_reply_to: str | None = None, references: str | None = None, cc: str | None = None,
    headers: dict | None = None, attachments: tuple = (),
) -> bytes:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = to
    if cc:
        msg["Cc"] = cc
    msg["Subject"] = subject
    msg["Date"] = format_datetime(timezone.now())
    msg["Message-ID"] = message_id or make_msgid(domain="mail.example.org")
    if in_reply_to:
        msg["In-Reply-To"] = in_reply_to
    if references:
        msg["References"] = references
    for name, value in (headers or {}).items():
        msg[name] = value
    msg.set_content(text)
    if html is not None:
        msg.add_alternative(html, subtype="html")
    for filename, content, maintype, subtype in attachments:
        msg.add_attachment(content, maintype=maintype, subtype=subtype, filename=filename)
    return msg.as_bytes()


def basic_auth_header(secret: tuple[str, str] | None = None) -> str:
    user, password = secret or webhook_auth()
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def post_postmark(client, raw: bytes, *, auth: str | None = None, recipient: str = ""):
    """Postmark's inbound webhook with "Include raw email content", through the Django test client."""
    return client.post(
        "/anymail/postmark/inbound/", data=json.dumps(postmark_payload(raw, recipient)),
        content_type="application/json", HTTP_AUTHORIZATION=auth if auth is not None else basic_auth_header(),
    )


@dataclass
class Envelope:
    mail_from: str
    rcpt_tos: list[str]
    content: bytes

    @property
    def message(self) -> EmailMessage:
        return message_from_bytes(self.content, policy=policy.default)


@dataclass
class SmtpSink:
    """aiosmtpd on loopback, recording every envelope; addresses containing "reject" get a 550.

    `drop_after_data(times)`: the next messages are received whole and kept, then the connection
    drops before the server answers (the client never hears "250"). `defer_data(times)`: the next
    messages are answered "451, try again later" and not kept (they go to `deferred`).
    `hold_data(seconds)`: the next message is kept, and answered only after `seconds`.
    """

    host: str = "127.0.0.1"
    port: int = field(default_factory=free_port)
    envelopes: list[Envelope] = field(default_factory=list)
    deferred: list[Envelope] = field(default_factory=list)
    _drops: int = 0
    _defers: int = 0
    _holds: list[float] = field(default_factory=list)

    def drop_after_data(self, times: int = 1) -> None:
        self._drops += times

    def defer_data(self, times: int = 1) -> None:
        self._defers += times

    def hold_data(self, seconds: float) -> None:
        self._holds.append(seconds)

    def __post_init__(self):
        self._lock = threading.Lock()
        self.controller = Controller(self, hostname=self.host, port=self.port)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if "reject" in address:
            return f"550 5.1.1 <{address}>: Recipient address rejected: User unknown"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        received = Envelope(envelope.mail_from, list(envelope.rcpt_tos), envelope.original_content or envelope.content)
        with self._lock:
            if self._defers:
                self._defers -= 1
                self.deferred.append(received)
                return "451 4.3.0 Try again later"
            self.envelopes.append(received)
            drop, self._drops = self._drops > 0, max(self._drops - 1, 0)
            hold = self._holds.pop(0) if self._holds else 0
        await asyncio.sleep(hold)
        if drop:
            server.transport.abort()  # after the final ".", before any answer
        return "250 Message accepted for delivery"

    def start(self) -> SmtpSink:
        self.controller.start()
        return self

    def stop(self) -> None:
        self.controller.stop()

    @property
    def inbox_settings(self) -> dict:
        return {"smtp": {"host": self.host, "port": self.port, "use_tls": False}}
