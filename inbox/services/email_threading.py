"""Email's business rules about conversations: which thread a message belongs to, bounces, reply context.

Provider-agnostic: the email adapter parses MIME and hands over `ThreadHints`; this module decides,
with the database, and never attaches a message to a conversation of another contact.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.utils import timezone

from channels_adapters.base import DeliveryUpdate, InboundMessage
from inbox.inbound_reads import (
    contact_conversation,
    email_conversations_by_message_id,
    latest_email_with_subject,
)
from inbox.models import Conversation, DeliveryStatus, Direction, Identity, Inbox, Message
from inbox.services.delivery import apply_delivery_update
from inbox.services.ingest import IngestResult, record_inbound

log = logging.getLogger("heron.email")

# Subject fallback: only the same sender identity, only this recent.
SUBJECT_MATCH_WINDOW = timedelta(days=7)


@dataclass(frozen=True)
class ThreadHints:
    # Message-IDs the email answers, most relevant first (In-Reply-To, then References newest → oldest).
    referenced_ids: tuple[str, ...] = ()
    # Conversation ids the adapter decoded from our own Message-IDs (heron.c<id>…), same order.
    our_conversation_ids: tuple[int, ...] = ()
    # Conversation ids from the plus-address token (support+c123@) and the "[#123]" subject tag.
    tokens: tuple[int, ...] = ()
    # Base subject (RFC 5256, casefolded); empty disables the subject fallback.
    base_subject: str = ""
    # A forwarded message starts its own conversation (its subject says nothing about our threads).
    is_forward: bool = False


def find_thread(identity: Identity, hints: ThreadHints, team_id: int | None, *, now=None) -> Conversation | None:
    """Referenced Message-IDs → token → base subject (same identity, within the window). Same contact
    only, and only a conversation of an inbox of team `team_id` (the inbox the email came to)."""
    now = now or timezone.now()
    contact_id = identity.contact_id

    if hints.referenced_ids:
        known = email_conversations_by_message_id(contact_id, hints.referenced_ids)
        for message_id in hints.referenced_ids:
            conversation = (
                contact_conversation(known[message_id], contact_id, team_id) if message_id in known else None
            )
            if conversation is not None:
                return conversation
    for conversation_id in (*hints.our_conversation_ids, *hints.tokens):
        conversation = contact_conversation(conversation_id, contact_id, team_id)
        if conversation is not None:
            return conversation
    if hints.base_subject and not hints.is_forward:
        earlier = latest_email_with_subject(identity.pk, hints.base_subject, now - SUBJECT_MATCH_WINDOW, team_id)
        if earlier:
            return contact_conversation(earlier, contact_id, team_id)
    return None


def ingest_email(
    inbound: InboundMessage, hints: ThreadHints, *, received_at: datetime | None = None, inbox: Inbox | None = None,
) -> IngestResult:
    """Store an inbound email in the conversation threading says, or a new one; exactly once per Message-ID.

    Email is threaded by headers, not by "the contact's open conversation": a new thread is new work.
    """
    return record_inbound(
        inbound, find_thread=lambda identity, inbox: find_thread(identity, hints, inbox.team_id),
        received_at=received_at, inbox=inbox,
    )


def record_bounce(
    inbox_id: int | None, referenced_ids: list[str], *, code: str = "", reason: str = ""
) -> Message | None:
    """A delivery failure report (DSN) for one of our messages: mark it failed. Never a conversation."""
    candidates = Message.objects.filter(direction=Direction.OUT, channel="email", external_id__in=referenced_ids)
    if inbox_id:
        candidates = candidates.filter(inbox_id=inbox_id)
    message = candidates.order_by("-created_at").first()
    if message is None:
        log.info("bounce for unknown Message-IDs %s ignored", referenced_ids[:3])
        return None
    return apply_delivery_update(DeliveryUpdate(
        inbox_id=message.inbox_id, external_id=message.external_id, provider_status="bounced",
        status=DeliveryStatus.FAILED, error_code=code[:32], error_message=(reason or "The message bounced.")[:500],
    ))


@dataclass(frozen=True)
class ReplyContext:
    conversation_id: int
    subject: str
    inbox_name: str
    # The customer's latest email we answer, and the chain it carried (bare ids, oldest first).
    in_reply_to: str = ""
    references: tuple[str, ...] = ()
    agent_name: str = ""
    created_at: datetime | None = None  # of the reply: with its ids, what its Message-ID is made of


def reply_context(message_id: int) -> ReplyContext:
    """What an outbound email needs to thread: the conversation, the message it answers, its references."""
    message = Message.objects.select_related("conversation", "inbox", "sender_user").get(pk=message_id)
    conversation = message.conversation
    parent = (
        Message.objects.filter(conversation=conversation, channel="email", created_at__lte=message.created_at)
        .exclude(pk=message.pk)
        .exclude(external_id="")
        .exclude(kind="note")
        .order_by("-created_at", "-id")
        .first()
    )
    references: tuple[str, ...] = ()
    in_reply_to = ""
    if parent is not None:
        in_reply_to = parent.external_id
        references = tuple(parent.metadata.get("references") or ())
    user = message.sender_user
    agent_name = (user.get_full_name() or "") if user else ""
    return ReplyContext(
        conversation_id=conversation.pk, subject=message.subject or conversation.subject,
        inbox_name=message.inbox.name if message.inbox else "", in_reply_to=in_reply_to, references=references,
        agent_name=agent_name, created_at=message.created_at,
    )
