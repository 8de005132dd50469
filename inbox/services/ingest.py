"""The one way a customer's message enters Heron, whatever the channel."""

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import nh3
from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from channels_adapters.base import InboundMessage
from inbox import plain_writes
from inbox.inbound_reads import (
    contact_conversation,
    latest_unresolved_conversation,
    message_id_for_external_id,
)
from inbox.models import (
    Attachment,
    Contact,
    Conversation,
    DeliveryStatus,
    Direction,
    Identity,
    Inbox,
    Label,
    Message,
    Status,
)
from inbox.selectors import label_names
from inbox.services.contacts import resolve_contact
from inbox.services.events import published_together, record_conversation_event, record_message_event

log = logging.getLogger("heron.ingest")

MAX_TEXT_LENGTH = 100_000
# The conversation fields recording an inbound message may change (see record_inbound).
INBOUND_CHANGES = (
    "last_message", "last_message_at", "inbox", "last_inbound_at", "waiting_since", "subject", "status",
    "snoozed_until", "resolved_at", "updated_at",
)


@dataclass(frozen=True)
class IngestResult:
    message: Message
    created: bool


# Remote images load only when an agent asks: adapters move their URL to data-remote-src (see email parse).
# Any element may keep a `style`, of which only the properties below survive.
_ATTRIBUTES = {
    **nh3.ALLOWED_ATTRIBUTES,
    "*": nh3.ALLOWED_ATTRIBUTES.get("*", set()) | {"style"},
    "img": nh3.ALLOWED_ATTRIBUTES["img"] | {"data-remote-src"},
}
# What an email's look needs (colours, fonts, table borders, spacing), and nothing that loads a URL
# (`background`, `background-image`, `list-style-image`, `border-image`) or escapes its box (`position`).
_STYLE_PROPERTIES = {
    "color", "background-color", "font", "font-family", "font-size", "font-style", "font-weight",
    "line-height", "letter-spacing", "text-align", "text-decoration", "text-transform", "text-indent",
    "vertical-align", "white-space", "word-break", "direction", "width", "max-width", "min-width", "height",
    "margin", "margin-top", "margin-right", "margin-bottom", "margin-left",
    "padding", "padding-top", "padding-right", "padding-bottom", "padding-left",
    "border", "border-top", "border-right", "border-bottom", "border-left", "border-color", "border-style",
    "border-width", "border-radius", "border-collapse", "border-spacing", "list-style-type", "display",
}


# A declaration that could load something or run script whatever its property (old IE's expression(),
# url(), escapes that spell either).
_UNSAFE_STYLE_VALUE = re.compile(r"url\s*\(|expression\s*\(|javascript:|\\|@import", re.IGNORECASE)


def _attribute_filter(element: str, attribute: str, value: str) -> str | None:
    lowered = value.strip().lower()
    if element == "img" and attribute == "src":
        # Inline images (cid:) only: a remote one (a tracking pixel) must never load by merely opening
        # the message, and a relative one would be fetched from Heron itself.
        return value if lowered.startswith("cid:") else None
    if attribute == "data-remote-src" and not lowered.startswith(("http://", "https://")):
        return None
    if attribute == "href" and not lowered.startswith(("http://", "https://", "mailto:", "#")):
        return None  # a relative link would open one of Heron's own pages
    if attribute == "style":
        return "; ".join(d for d in value.split(";") if d.strip() and not _UNSAFE_STYLE_VALUE.search(d)) or None
    return value


def sanitize_html(html: str) -> str:
    """Inert HTML for display: nh3 removes scripts, handlers, javascript: URLs, remote and relative images,
    and every style property outside `_STYLE_PROPERTIES`."""
    if not html:
        return ""
    return nh3.clean(
        html, link_rel="noopener noreferrer nofollow", url_schemes={"http", "https", "mailto", "cid"},
        attributes=_ATTRIBUTES, attribute_filter=_attribute_filter, filter_style_properties=_STYLE_PROPERTIES,
    )


def record_inbound(
    inbound: InboundMessage, *, find_thread: Callable[[Identity, Inbox], Conversation | None] | None = None,
    received_at: datetime | None = None, inbox: Inbox | None = None,
) -> IngestResult:
    """Store a customer's message on the right contact and conversation, exactly once.

    A retried webhook (same inbox + external id) returns the message stored the first time.
    A message continues a conversation only in an inbox of the same team (`continuable_conversations`),
    so a customer who writes to a second team starts a conversation there, on the same contact.
    `find_thread` lets a channel with its own threading (email headers) name the conversation among
    those; when it finds none, the message starts a new one instead of joining the contact's open one.
    `received_at` is when the webhook arrived (its raw event): workers may process two of a
    customer's messages out of order, but the timeline keeps the order they came in.
    `inbox` saves a query when the caller has it loaded with its team (a raw event's inbox).
    Raises `inbox.services.identities.InvalidIdentity` for a sender address that makes no sense.
    """
    if inbox is None or inbox.pk != inbound.inbox_id:
        inbox = Inbox.objects.select_related("team").get(pk=inbound.inbox_id)
    # No savepoint when the adapter already holds a transaction: nothing here is retried in place.
    with transaction.atomic(savepoint=False):
        # Locks the contact: two messages arriving together must not open two conversations, and a
        # retried webhook racing the first must see the message the first one stored.
        identity, new_contact = resolve_contact(
            inbound.sender.kind, inbound.sender.value, inbound.sender.display_name, lock=True
        )
        contact = identity.contact
        existing = _existing_message(inbound)
        if existing:
            return IngestResult(existing, created=False)

        now = received_at or timezone.now()
        if new_contact:  # a new customer has no conversation to continue
            conversation, created_conversation = _new_conversation(inbound, contact, inbox, now), True
        else:
            thread = find_thread(identity, inbox) if find_thread else None
            conversation, created_conversation = _pick_conversation(
                inbound, contact, inbox, now, thread=thread, thread_only=find_thread is not None
            )
        message = Message(
            conversation=conversation,
            contact=contact,
            inbox=inbox,
            identity=identity,
            direction=Direction.IN,
            kind=inbound.kind,
            channel=inbound.channel,
            subject=inbound.subject[:500],
            text=inbound.text[:MAX_TEXT_LENGTH],
            html=sanitize_html(inbound.html),
            external_id=inbound.external_id,
            status=DeliveryStatus.RECEIVED,
            metadata=inbound.metadata,
            created_at=now,
        )
        if conversation.last_message_at is None or now >= conversation.last_message_at:
            conversation.last_message = message
            conversation.last_message_at = now
        if not inbound.is_automated:
            conversation.inbox = inbox
            conversation.last_inbound_at = max(now, conversation.last_inbound_at or now)
            conversation.waiting_since = min(now, conversation.waiting_since or now)
        if inbound.subject and not conversation.subject:
            conversation.subject = inbound.subject[:500]
        # Only what a customer's message changes: an agent assigning or prioritizing the conversation
        # meanwhile must not be written back over with what this transaction read.
        plain_writes.insert_then_update(message, conversation, INBOUND_CHANGES)
        attachments, pending_downloads = _store_files(message, inbound)
        # The event payloads below read these; we know them, so no query is needed.
        message._prefetched_objects_cache = {"attachments": attachments}

        with published_together():  # a new customer's two events: one INSERT, one broadcast
            if created_conversation:
                record_conversation_event("conversation.created", conversation)
            record_message_event("message.created", message)
        for attachment_id in pending_downloads:
            transaction.on_commit(lambda pk=attachment_id: _enqueue_download(pk))
    return IngestResult(message, created=True)


def _existing_message(inbound: InboundMessage) -> Message | None:
    if not inbound.external_id:
        return None
    # Almost always a miss: ask for the id alone (a narrow query), and load the rest only on a hit.
    pk = message_id_for_external_id(inbound.inbox_id, inbound.external_id)
    return None if pk is None else Message.objects.select_related("conversation", "contact").get(pk=pk)


def _pick_conversation(
    inbound: InboundMessage, contact: Contact, inbox: Inbox, now, *, thread: Conversation | None,
    thread_only: bool,
) -> tuple[Conversation, bool]:
    """Explicit thread → latest unresolved → recently resolved (reopened) → new, each among the
    contact's conversations in `inbox`'s team (a thread `find_thread` names is one of those)."""
    conversation = thread if thread is not None and thread.contact_id == contact.pk else None
    if conversation is None and inbound.thread_conversation_id:
        # Never across customers or teams.
        conversation = contact_conversation(inbound.thread_conversation_id, contact.pk, inbox.team_id)
    if conversation is None and thread_only and not inbound.is_automated:
        return _new_conversation(inbound, contact, inbox, now), True
    if conversation is None:
        # The latest unresolved conversation (almost every message finds one), else one resolved
        # within the reopen window.
        conversation = latest_unresolved_conversation(contact.pk, inbox.team_id)
    if conversation is None:
        window = timedelta(hours=settings.HERON["REOPEN_WINDOW_HOURS"])
        conversation = (
            _conversations_of(contact, inbox).filter(status=Status.RESOLVED, resolved_at__gte=now - window).first()
        )
    if conversation is None and inbound.is_automated:
        conversation = _conversations_of(contact, inbox).first()

    if conversation is None:
        return _new_conversation(inbound, contact, inbox, now), True

    conversation.contact = contact  # the locked instance: no query when the payload names it
    if conversation.status != Status.OPEN and not inbound.is_automated:
        # A customer writing again wakes a snoozed, pending or resolved conversation.
        conversation.status = Status.OPEN
        conversation.snoozed_until = None
        conversation.resolved_at = None
    return conversation, False


def continuable_conversations(contact_id: int, inbox: Inbox) -> QuerySet[Conversation]:
    """The contact's conversations a message to `inbox` may continue, newest first: those of inboxes
    of the same team (or, for an inbox without a team, of inboxes without one). A conversation thus
    stays with the team it started in. `inbound_reads` writes the same condition in SQL (`_in_team`);
    tests/test_team_wall.py keeps the two equal."""
    return Conversation.objects.filter(contact_id=contact_id, inbox__team_id=inbox.team_id).order_by(
        "-last_message_at", "-id"
    )


def _conversations_of(contact: Contact, inbox: Inbox) -> QuerySet[Conversation]:
    """With what the events show of them (the common pick is `latest_unresolved_conversation`)."""
    return (
        continuable_conversations(contact.pk, inbox)
        .select_related("team", "assignee")
        .annotate(label_names=label_names())
    )


def _new_conversation(inbound: InboundMessage, contact: Contact, inbox: Inbox, now) -> Conversation:
    conversation = Conversation(
        contact=contact, inbox=inbox, team=inbox.team, status=Status.OPEN, created_at=now,
        last_message_at=now, subject=inbound.subject[:500],
    )
    plain_writes.insert(conversation)
    conversation._prefetched_objects_cache = {"labels": Label.objects.none()}
    conversation.label_names = None  # none yet: what the events show, without building a queryset
    return conversation


def _store_files(message: Message, inbound: InboundMessage) -> tuple[list[Attachment], list[int]]:
    """Files that came inside the payload are stored now; provider-held media is fetched later."""
    attachments = []
    for item in inbound.attachments:
        attachment = Attachment(
            message=message, filename=item.filename[:255], content_type=item.content_type[:255],
            size=len(item.content), state=Attachment.State.READY,
        )
        attachment.file.save(item.filename or "attachment", ContentFile(item.content), save=False)
        attachment.save()
        attachments.append(attachment)
    pending = []
    for index, media in enumerate(inbound.media):
        attachment = Attachment.objects.create(
            message=message, source_url=media.url, content_type=media.content_type[:255],
            filename=f"media-{index}", state=Attachment.State.PENDING,
        )
        attachments.append(attachment)
        pending.append(attachment.pk)
    return attachments, pending


def _enqueue_download(attachment_id: int) -> None:
    from inbox.tasks import download_attachment

    download_attachment.delay(attachment_id)

