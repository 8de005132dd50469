"""Agent replies and notes: stored first as queued, delivered by a background task, never twice."""

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone

from channels_adapters.base import (
    OutboundAttachment,
    OutboundMessage,
    PermanentSendError,
    RecipientOptedOut,
    TransientSendError,
)
from inbox.adapters import NoAdapter, get_adapter
from inbox.models import (
    Attachment,
    Contact,
    Conversation,
    DeliveryStatus,
    Direction,
    Identity,
    Inbox,
    Message,
    MessageKind,
)
from inbox.public_media import public_media_url
from inbox.services.consent import record_provider_opt_out
from inbox.services.events import published_together, record_conversation_event, record_message_event
from inbox.services.identities import CHANNEL_IDENTITY_KIND, normalize_email

log = logging.getLogger("heron.outbound")


class CannotSend(ValueError):
    """The reply cannot go out as asked; the text says why, for the agent."""


def reply_target(conversation: Conversation, channel: str | None) -> tuple[Inbox, Identity]:
    """Which inbox sends, and to which of the contact's identities."""
    channel = channel or _default_reply_channel(conversation.inbox.channel)
    if channel == conversation.inbox.channel:
        inbox = conversation.inbox
    else:
        # Only the team's own inboxes: the customer's answer to another team's number would start
        # a conversation there (`ingest.continuable_conversations`).
        inbox = Inbox.objects.filter(channel=channel, team=conversation.inbox.team_id).order_by("id").first()
        if inbox is None:
            raise CannotSend(f"This conversation's team has no {channel} inbox, so this reply cannot go out by {channel}.")
    kind = CHANNEL_IDENTITY_KIND.get(channel)
    identities = conversation.contact.identities.filter(kind=kind).order_by("-created_at")
    last_inbound = (
        conversation.messages.filter(direction=Direction.IN, channel=channel, identity__isnull=False)
        .order_by("-created_at")
        .values_list("identity_id", flat=True)
        .first()
    )
    identity = identities.filter(pk=last_inbound).first() if last_inbound else None
    identity = identity or identities.first()
    if identity is None:
        raise CannotSend(f"This contact has no {kind} address, so a {channel} reply has nowhere to go.")
    if identity.opted_out:
        raise CannotSend(
            f"{identity.value} has opted out of messages (replied STOP). "
            "They must text START before you can message them again."
        )
    _check_reply_window(channel, identity)
    return inbox, identity


def _check_reply_window(channel: str, identity: Identity) -> None:
    """Some channels only allow answers for a while after the customer's last message (Google: 30 days)."""
    try:
        window_days = getattr(get_adapter(channel), "reply_window_days", None)
    except NoAdapter:
        return
    if not window_days:
        return
    last = (
        Message.objects.filter(identity=identity, direction=Direction.IN)
        .order_by("-created_at")
        .values_list("created_at", flat=True)
        .first()
    )
    if last is None or timezone.now() - last > timedelta(days=window_days):
        raise CannotSend(
            f"The {channel.replace('_', ' ')} reply window is closed: replies are only allowed within "
            f"{window_days} days of the customer's last message."
        )


@dataclass(frozen=True)
class ReplyOption:
    channel: str
    available: bool
    reason: str = ""
    to: str = ""
    inbox: int | None = None


def reply_options(conversation: Conversation) -> tuple[str, list[ReplyOption]]:
    """The channels an agent could answer on, each with why not when it cannot; and the default one.

    Lets the composer disable a channel with the same reason the send would fail with.
    """
    default = _default_reply_channel(conversation.inbox.channel)
    kinds = set(conversation.contact.identities.values_list("kind", flat=True))
    channels = [default] + sorted(
        channel for channel, kind in CHANNEL_IDENTITY_KIND.items()
        if kind in kinds and channel != default and _default_reply_channel(channel) == channel
        and channel in settings.CHANNEL_ADAPTERS
    )
    options = []
    for channel in channels:
        try:
            inbox, identity = reply_target(conversation, channel)
        except CannotSend as exc:
            options.append(ReplyOption(channel=channel, available=False, reason=str(exc)))
        else:
            options.append(ReplyOption(channel=channel, available=True, to=identity.value, inbox=inbox.pk))
    return default, options


def _default_reply_channel(channel: str) -> str:
    """A channel that cannot carry text (voice) names the one replies go by (SMS)."""
    try:
        return getattr(get_adapter(channel), "reply_channel", channel)
    except NoAdapter:
        return channel


def send_message(
    conversation: Conversation,
    user: AbstractBaseUser,
    *,
    text: str,
    channel: str | None = None,
    private: bool = False,
    subject: str = "",
    cc: Sequence[str] = (),
    mentions: Sequence[AbstractBaseUser] = (),
    files: Sequence[UploadedFile] = (),
) -> Message:
    """Store an agent's reply (queued) or note, then hand the reply to the delivery task.
    `cc`: more recipients of an email reply (raises CannotSend on any other channel)."""
    with transaction.atomic():
        conversation = Conversation.objects.select_for_update().select_related("inbox", "contact").get(
            pk=conversation.pk
        )
        now = timezone.now()
        if private:
            message = Message.objects.create(
                conversation=conversation, contact=conversation.contact, inbox=conversation.inbox,
                direction=Direction.OUT, kind=MessageKind.NOTE, channel=conversation.inbox.channel,
                text=text, sender_user=user, status=DeliveryStatus.SENT, created_at=now,
                metadata={"mentions": [{"id": u.pk, "name": u.get_full_name() or u.email} for u in mentions]}
                if mentions else {},
            )
        else:
            inbox, identity = reply_target(conversation, channel)
            if cc and inbox.channel != "email":
                raise CannotSend(f"Cc is for email replies; this reply goes out by {inbox.channel}.")
            message = Message.objects.create(
                conversation=conversation, contact=conversation.contact, inbox=inbox, identity=identity,
                direction=Direction.OUT, kind=MessageKind.MESSAGE, channel=inbox.channel, subject=subject,
                text=text, sender_user=user, status=DeliveryStatus.QUEUED, created_at=now,
                # The shape inbound email keeps its Cc in, so the timeline shows both alike.
                metadata={"cc": [{"name": "", "email": normalize_email(a)} for a in cc]} if cc else {},
            )
            conversation.waiting_since = None
            conversation.first_response_at = conversation.first_response_at or now
        for upload in files:
            Attachment.objects.create(
                message=message, file=upload, filename=upload.name[:255],
                content_type=(upload.content_type or "application/octet-stream")[:255], size=upload.size,
            )
        if not private:  # the list's snippet is what the customer and the team said to each other
            conversation.last_message = message
        conversation.last_message_at = now
        conversation.save()
        with published_together():  # one INSERT, one broadcast
            record_message_event("message.created", message)
            record_conversation_event("conversation.updated", conversation)
        if not private:
            # Registered after the events' publish callbacks, so "created" goes out before "sent".
            transaction.on_commit(lambda: _enqueue_delivery(message.pk))
    return message


def start_conversation(
    contact: Contact, user: AbstractBaseUser, *, inbox: Inbox, text: str, subject: str = ""
) -> Message:
    """The agent writes first (e.g. a follow-up by SMS): a new conversation, assigned to them."""
    with transaction.atomic():
        # Same lock order as ingest (contact, then the event lock) so the two never deadlock.
        contact = Contact.objects.select_for_update().get(pk=contact.pk)
        now = timezone.now()
        conversation = Conversation.objects.create(
            contact=contact, inbox=inbox, team=inbox.team, assignee=user, subject=subject[:500],
            created_at=now, last_message_at=now,
        )
        record_conversation_event("conversation.created", conversation)
        return send_message(conversation, user, text=text, channel=inbox.channel, subject=subject)


def _enqueue_delivery(message_id: int) -> None:
    from inbox.tasks import deliver_message

    deliver_message.delay(message_id)


def deliver(message_id: int) -> None:
    """Send one queued message through its channel's adapter.

    Raises TransientSendError when the provider may accept it later (the task retries).
    The message is marked in flight before the provider is called, so a task that died mid-call
    is not retried blindly: it is marked failed for an agent to look at, never sent twice.
    """
    with transaction.atomic():
        message = Message.objects.select_for_update(of=("self",)).select_related("inbox", "identity").get(pk=message_id)
        if message.status != DeliveryStatus.QUEUED or message.external_id:
            return
        if message.metadata.get("send_in_flight"):
            _fail(message, "The send was interrupted and its outcome is unknown; not resent to avoid a duplicate.")
            return
        message.send_attempts += 1
        message.metadata["send_in_flight"] = True
        message.save(update_fields=["send_attempts", "metadata", "updated_at"])

    try:
        result = get_adapter(message.channel).send(_outbound(message))
    except TransientSendError:
        with transaction.atomic():
            message = Message.objects.select_for_update().get(pk=message_id)
            message.metadata.pop("send_in_flight", None)
            message.save(update_fields=["metadata", "updated_at"])
        raise
    except (PermanentSendError, NoAdapter) as exc:
        with transaction.atomic():
            message = Message.objects.select_for_update().get(pk=message_id)
            _fail(message, str(exc), code=getattr(exc, "code", ""), provider_status=getattr(exc, "provider_status", ""))
            if isinstance(exc, RecipientOptedOut) and message.identity_id:
                record_provider_opt_out(message)
        return

    with transaction.atomic():
        message = Message.objects.select_for_update().get(pk=message_id)
        message.metadata.pop("send_in_flight", None)
        message.external_id = result.external_id
        message.provider_status = result.provider_status
        if message.status == DeliveryStatus.QUEUED:
            message.status = result.status
        message.save()
        record_message_event("message.updated", message)


def give_up(message_id: int, reason: str) -> None:
    """Transient errors went on too long: the agent must see the reply did not go out."""
    with transaction.atomic():
        message = Message.objects.select_for_update().get(pk=message_id)
        if message.status == DeliveryStatus.QUEUED:
            _fail(message, reason)


def _fail(message: Message, reason: str, code: str = "", provider_status: str = "") -> None:
    message.metadata.pop("send_in_flight", None)
    message.status = DeliveryStatus.FAILED
    message.error_message = reason[:500]
    message.error_code = code
    message.provider_status = provider_status or message.provider_status
    message.save()
    record_message_event("message.updated", message)


def _outbound_attachment(attachment: Attachment) -> OutboundAttachment:
    with attachment.file.open("rb") as f:
        content = f.read()
    return OutboundAttachment(
        filename=attachment.filename, content_type=attachment.content_type, content=content,
        url=public_media_url(attachment),
    )


def _outbound(message: Message) -> OutboundMessage:
    inbox = message.inbox
    return OutboundMessage(
        message_id=message.pk,
        channel=message.channel,
        inbox_address=inbox.address,
        inbox_credentials=inbox.credentials,
        inbox_settings=inbox.settings,
        to=message.identity.value,
        text=message.text,
        subject=message.subject,
        html=message.html,
        attachments=tuple(_outbound_attachment(a) for a in message.attachments.all() if a.file),
        thread_headers=message.metadata.get("thread_headers", {}),
        cc=tuple(address["email"] for address in message.metadata.get("cc", [])),
    )
