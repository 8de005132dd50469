"""The contract between channel adapters and Heron's core, and only the contract.

Adapters turn provider payloads into these dataclasses and hand them to `inbox.services`;
the core hands `OutboundMessage` to an adapter's `send()`. This module imports nothing of
Heron so both sides can import it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol


@dataclass(frozen=True)
class SenderIdentity:
    kind: str  # "phone" | "email" | "google_business" | ...
    value: str  # raw as the provider sent it; the core normalizes
    display_name: str = ""


@dataclass(frozen=True)
class InboundMedia:
    """A file the provider holds; the core downloads it in the background."""

    url: str
    content_type: str = ""


@dataclass(frozen=True)
class InboundAttachment:
    """A file that arrived inside the payload (email attachments)."""

    filename: str
    content_type: str
    content: bytes
    content_id: str = ""


@dataclass(frozen=True)
class InboundMessage:
    channel: str
    inbox_id: int
    sender: SenderIdentity
    external_id: str
    text: str = ""
    html: str = ""
    subject: str = ""
    kind: str = "message"  # message | call | voicemail | activity
    # An explicit conversation the adapter already knows (email In-Reply-To, a token).
    thread_conversation_id: int | None = None
    media: tuple[InboundMedia, ...] = ()
    attachments: tuple[InboundAttachment, ...] = ()
    metadata: dict = field(default_factory=dict)
    sent_at: datetime | None = None
    # Auto-replies and bounces must never reopen a conversation.
    is_automated: bool = False


@dataclass(frozen=True)
class DeliveryUpdate:
    """A provider's word on an outbound message, e.g. a Twilio status callback."""

    inbox_id: int
    external_id: str
    provider_status: str
    status: str  # normalized: queued | sent | delivered | read | failed
    error_code: str = ""
    error_message: str = ""


@dataclass(frozen=True)
class OutboundAttachment:
    """A file an agent attached to a reply: the bytes for providers that take them (email), and a
    public, signed, expiring URL for providers that fetch media themselves (MMS)."""

    filename: str
    content_type: str
    content: bytes
    url: str


@dataclass(frozen=True)
class OutboundMessage:
    message_id: int
    channel: str
    inbox_address: str
    inbox_credentials: dict
    inbox_settings: dict
    to: str  # normalized identity value
    text: str
    subject: str = ""
    html: str = ""
    attachments: tuple[OutboundAttachment, ...] = ()
    # Email threading: our Message-ID for this message, and the ids it answers.
    thread_headers: dict = field(default_factory=dict)
    cc: tuple[str, ...] = ()  # email only


@dataclass(frozen=True)
class SendResult:
    external_id: str
    provider_status: str
    status: str = "sent"
    # What the agent should know about this send, shown on the message (e.g. the server never confirmed it).
    note: str = ""


class TransientSendError(Exception):
    """The provider may accept the same message later (timeouts, 5xx, rate limits): retry."""


class UnconfirmedSend(TransientSendError):
    """The provider may or may not have accepted the message: a timeout after the request left, a
    connection reset, an answer that cannot be read. Never sent again blindly: the core asks the
    adapter's `reconcile()` first. A TransientSendError, so code that only retries treats it as one."""

    def __init__(self, message: str, answer: str = ""):
        super().__init__(message)
        self.answer = answer  # the provider's raw answer, when there was one, kept for the agent


class PermanentSendError(Exception):
    """The provider refused the message for good; the message is marked failed with this reason."""

    def __init__(self, message: str, code: str = "", provider_status: str = "failed"):
        super().__init__(message)
        self.code = code
        self.provider_status = provider_status


class RecipientOptedOut(PermanentSendError):
    """The provider refuses because the recipient unsubscribed (e.g. Twilio 21610): stop messaging them."""


class ChannelAdapter(Protocol):
    """What `settings.CHANNEL_ADAPTERS` points at. Webhook views live in the adapter's package."""

    channel: str
    # Name → path of the webhooks a provider must be pointed at, shown when an inbox is set up.
    webhook_paths: dict[str, str]

    def send(self, message: OutboundMessage) -> SendResult: ...

    def fetch_media(self, url: str, credentials: dict) -> tuple[bytes, str]:
        """Download a provider-held file (MMS media, a recording): (content, content type).

        Raise TransientSendError to have the download retried."""
        ...


class ChecksReadiness(Protocol):
    """An adapter that can tell, without calling the provider, that an inbox cannot send at all."""

    def check_ready(self, credentials: dict, settings: dict) -> None:
        """Raise PermanentSendError (the reason for the agent) when the inbox cannot send, e.g. its
        credentials are missing. Reply options and the send refuse with it before anything is queued;
        the adapter's send path must run the same check, not a second copy of it."""
        ...


class Reconciles(Protocol):
    """An adapter that can find out whether its provider got a message whose send was unconfirmed."""

    def reconcile(self, message: OutboundMessage, since: datetime) -> list[SendResult]:
        """What the provider holds of this message (accepted since `since`), oldest first; [] when it
        confirms it has none, so the core sends it again. TransientSendError: cannot tell yet (asked
        again later). PermanentSendError: can never tell (the message fails, not resent). A provider
        that refuses a repeat of a client-chosen id may simply be sent the message again."""
        ...
