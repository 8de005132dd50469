"""Agent replies and notes: stored first as queued, delivered by a background task, never twice as
far as the provider allows: an unconfirmed send is reconciled with the provider before it is repeated."""

import dataclasses
import logging
import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta

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
    SendResult,
    TransientSendError,
    UnconfirmedSend,
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
    _check_inbox_ready(inbox)
    return inbox, identity


def _check_inbox_ready(inbox: Inbox) -> None:
    """The adapter's own check (credentials present), the one its send path makes too."""
    try:
        adapter = get_adapter(inbox.channel)
    except NoAdapter as exc:
        raise CannotSend(f"{exc}, so this reply cannot go out.") from exc
    check_ready = getattr(adapter, "check_ready", None)
    if check_ready is None:
        return
    try:
        check_ready(inbox.credentials, inbox.settings)
    except PermanentSendError as exc:
        raise CannotSend(f"The {inbox.name} inbox cannot send: {exc}") from exc


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


@dataclasses.dataclass(frozen=True)
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
                send_check_at=now + _lease(),  # the sweeper's, should its task be lost
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


# ------------------------------------------------------------------------------------------ delivery
# A reply is sent at most once as far as its provider allows (docs/sending.md). Its state, besides
# `status` (queued → sent…, or unconfirmed while Heron does not know whether the provider has it):
# - `send_check_at`: when the sweeper must look at it again (a retry that is due, a send whose worker
#   died mid-call); NULL once it is settled, so the sweeper reads a small partial index.
# - `metadata["send"]`: "flight" (the token of the attempt a worker is making now), "attempt_at" (when
#   the latest attempt started), "reason" (why it is unconfirmed), "checks" (asks of the provider that
#   could not tell), "answer" (the provider's raw answer when it could not be read).
# Only the worker holding the flight token settles a failure; a success is recorded whoever finds it.
ANSWER_KEPT_CHARS = 2000


def _max_attempts() -> int:
    return settings.HERON["SEND_MAX_RETRIES"] + 1


def _backoff(failures: int) -> float:
    return settings.HERON["SEND_RETRY_BACKOFF_SECONDS"] * 2 ** max(failures - 1, 0)


def _lease() -> timedelta:
    return timedelta(seconds=settings.HERON["SEND_LEASE_SECONDS"])


def _send_state(message: Message) -> dict:
    return message.metadata.setdefault("send", {})


@dataclasses.dataclass(frozen=True)
class _Claim:
    message_id: int
    inbox_id: int
    token: str
    outbound: OutboundMessage
    reconcile: bool  # the latest attempt's outcome is unknown: ask the provider before sending again
    since: datetime  # no attempt of this message can have reached the provider before this
    attempt_at: datetime | None


def deliver(message_id: int, *, retried_by_task: bool = False) -> float | None:
    """Send a queued message through its channel's adapter, or find out what became of an unconfirmed one.

    Returns None when the message is settled (or another worker holds it), else the seconds after
    which it must run again. `retried_by_task`: the caller schedules that run itself, so the sweeper
    waits a lease longer before it steps in.
    """
    claim = _claim(message_id)
    if claim is None:
        return None
    try:
        adapter = get_adapter(claim.outbound.channel)
    except NoAdapter as exc:
        return _settle(claim, retried_by_task, failure=PermanentSendError(str(exc), provider_status=""))
    if claim.reconcile:
        try:
            found = _reconcile(adapter, claim)
        except TransientSendError as exc:
            return _settle(claim, retried_by_task, check_failed=exc)
        except PermanentSendError as exc:
            return _settle(claim, retried_by_task, cannot_tell=exc)
        if found:
            return _settle(claim, retried_by_task, result=found)
        if claim.attempt_at and timezone.now() < claim.attempt_at + _lease():
            # A provider may list what it accepted only once it has left its queue: ask again later.
            wait = (claim.attempt_at + _lease() - timezone.now()).total_seconds()
            return _settle(claim, retried_by_task, wait=wait)
        claim = _next_attempt(claim)
        if claim is None:
            return None
    try:
        result = adapter.send(claim.outbound)
    except UnconfirmedSend as exc:
        return _settle(claim, retried_by_task, unconfirmed=exc)
    except TransientSendError as exc:
        return _settle(claim, retried_by_task, retry=exc)
    except PermanentSendError as exc:
        return _settle(claim, retried_by_task, failure=exc)
    return _settle(claim, retried_by_task, result=result)


def _claim(message_id: int) -> _Claim | None:
    """Take the message for one attempt (or one ask of the provider), unless it is settled or held."""
    with transaction.atomic():
        message = Message.objects.select_for_update(of=("self",)).select_related("inbox", "identity").get(pk=message_id)
        if message.status not in (DeliveryStatus.QUEUED, DeliveryStatus.UNCONFIRMED) or message.external_id:
            if message.send_check_at is not None:
                message.send_check_at = None
                message.save(update_fields=["send_check_at", "updated_at"])
            return None
        state, now = _send_state(message), timezone.now()
        if state.get("flight"):
            if message.send_check_at and message.send_check_at > now:
                return None  # a worker is sending it right now
            _mark_interrupted(message)
        reconcile = message.status == DeliveryStatus.UNCONFIRMED
        if not reconcile:
            message.send_attempts += 1
            state["attempt_at"] = now.isoformat()
        state["flight"] = token = uuid.uuid4().hex
        message.send_check_at = now + _lease()
        message.save(update_fields=["status", "error_message", "send_attempts", "metadata", "send_check_at",
                                    "updated_at"])
    attempt_at = state.get("attempt_at")
    return _Claim(
        message_id=message.pk, inbox_id=message.inbox_id, token=token, outbound=_outbound(message),
        reconcile=reconcile, since=message.created_at,
        attempt_at=datetime.fromisoformat(attempt_at) if attempt_at else None,
    )


def _mark_interrupted(message: Message) -> None:
    """Its worker died mid-call (the lease ran out): the outcome is unknown until the provider is asked."""
    state = _send_state(message)
    state.pop("flight", None)
    state["reason"] = "The send was interrupted before the provider answered (its worker stopped)"
    state["checks"] = 0
    message.status = DeliveryStatus.UNCONFIRMED
    message.error_message = f"Unconfirmed: {state['reason']}. Asking the provider whether it has the message."[:500]
    record_message_event("message.updated", message)


def _reconcile(adapter, claim: _Claim) -> SendResult | None:
    """What the provider holds of this message that no other message of the inbox has claimed."""
    reconcile = getattr(adapter, "reconcile", None)
    if reconcile is None:
        raise PermanentSendError(f"The {claim.outbound.channel} provider cannot be asked whether it got the "
                                 "message, so it was not sent again")
    found = reconcile(claim.outbound, claim.since)
    taken = set(
        Message.objects.filter(inbox=claim.inbox_id, external_id__in=[r.external_id for r in found])
        .exclude(pk=claim.message_id).values_list("external_id", flat=True)
    ) if found else set()
    return next((result for result in found if result.external_id not in taken), None)


def _next_attempt(claim: _Claim) -> _Claim | None:
    """The provider confirmed it has none: the message is queued again and sent, as a new attempt."""
    with transaction.atomic():
        message = Message.objects.select_for_update().get(pk=claim.message_id)
        state = _send_state(message)
        if state.get("flight") != claim.token:
            return None
        if message.send_attempts >= _max_attempts():
            _fail(message, f"{state.get('reason', 'Unconfirmed')}; the provider has no such message, and "
                           f"{message.send_attempts} attempts were made")
            return None
        now = timezone.now()
        message.status = DeliveryStatus.QUEUED
        message.send_attempts += 1
        state["attempt_at"] = now.isoformat()
        for key in ("reason", "checks"):
            state.pop(key, None)
        message.send_check_at = now + _lease()
        message.save(update_fields=["status", "send_attempts", "metadata", "send_check_at", "updated_at"])
    return dataclasses.replace(claim, reconcile=False, attempt_at=now)


def _settle(
    claim: _Claim, retried_by_task: bool, *, result: SendResult | None = None,
    failure: PermanentSendError | None = None, cannot_tell: PermanentSendError | None = None,
    unconfirmed: UnconfirmedSend | None = None, retry: TransientSendError | None = None,
    check_failed: TransientSendError | None = None, wait: float | None = None,
) -> float | None:
    """Record what one attempt (or one ask) came to; the seconds until the next, or None."""
    with transaction.atomic():
        message = Message.objects.select_for_update().get(pk=claim.message_id)
        state = _send_state(message)
        if result is not None:
            _record_sent(message, state, claim.token, result)
            return None
        if state.get("flight") != claim.token or message.external_id:
            return None  # stale: the lease ran out and another worker took the message over
        state.pop("flight")
        reason = state.get("reason", "")
        if failure is not None:
            _fail(message, str(failure), code=failure.code, provider_status=failure.provider_status)
            if isinstance(failure, RecipientOptedOut) and message.identity_id:
                record_provider_opt_out(message)
            return None
        if cannot_tell is not None:
            _fail(message, f"{reason}. {cannot_tell}")
            return None
        if unconfirmed is not None:
            message.status = DeliveryStatus.UNCONFIRMED
            state.update(reason=str(unconfirmed), checks=0)
            if unconfirmed.answer:
                state["answer"] = unconfirmed.answer[:ANSWER_KEPT_CHARS]
            message.error_message = (f"Unconfirmed: {unconfirmed}. Asking the provider whether it has the "
                                     "message before sending it again.")[:500]
            delay = _backoff(0)
        elif check_failed is not None:
            state["checks"] = checks = state.get("checks", 0) + 1
            if checks >= _max_attempts():
                _fail(message, f"{reason}. Could not find out whether the provider got it ({check_failed}); "
                               "not sent again, so that it cannot arrive twice.")
                return None
            delay = _backoff(checks)
            message.error_message = (f"Unconfirmed: {reason}. Asking the provider again (check {checks + 1} of "
                                     f"{_max_attempts()}, next in {delay:g} s): {check_failed}")[:500]
        elif retry is not None:
            if message.send_attempts >= _max_attempts():
                _fail(message, f"The provider kept failing: {retry}")
                return None
            delay = _backoff(message.send_attempts)
            message.error_message = (f"Retrying (attempt {message.send_attempts + 1} of {_max_attempts()}, "
                                     f"next in {delay:g} s): {retry}")[:500]
        else:
            delay = wait or 0.0
        due = timedelta(seconds=delay) + (_lease() if retried_by_task else timedelta(0))
        message.send_check_at = timezone.now() + due
        message.save()
        record_message_event("message.updated", message)
        return delay


def _record_sent(message: Message, state: dict, token: str, result: SendResult) -> None:
    """The provider has it: recorded whichever worker learned it, unless an earlier answer already was."""
    if state.get("flight") == token:
        state.pop("flight")
    if message.external_id:
        if message.external_id != result.external_id:
            log.error("message %s: the provider holds it as %s and as %s", message.pk, message.external_id,
                      result.external_id)
        message.save(update_fields=["metadata", "updated_at"])
        return
    message.external_id = result.external_id
    message.provider_status = result.provider_status
    message.status = result.status
    message.error_code = ""
    message.error_message = result.note[:500]
    for key in ("reason", "checks"):
        state.pop(key, None)
    if not state.get("flight"):
        message.send_check_at = None
    message.save()
    record_message_event("message.updated", message)


def sweep_sends(limit: int = 100) -> int:
    """Hand due sends to the delivery task again: retries whose task was lost, replies whose task
    never ran, and sends whose worker died mid-call (their lease ran out: they become unconfirmed
    and are reconciled with the provider). Each is claimed for a lease, so the next sweep skips it."""
    now = timezone.now()
    with transaction.atomic():
        due = list(
            Message.objects.select_for_update(skip_locked=True).filter(send_check_at__lte=now)
            .order_by("send_check_at")[:limit]
        )
        for message in due:
            if _send_state(message).get("flight"):
                _mark_interrupted(message)
            message.send_check_at = now + _lease()
            message.save(update_fields=["status", "error_message", "metadata", "send_check_at", "updated_at"])
    for message in due:  # claimed and committed: a task may take them now
        _enqueue_delivery(message.pk)
    return len(due)


def _fail(message: Message, reason: str, code: str = "", provider_status: str = "") -> None:
    _send_state(message).pop("flight", None)
    message.status = DeliveryStatus.FAILED
    message.error_message = reason[:500]
    message.error_code = code
    message.provider_status = provider_status or message.provider_status
    message.send_check_at = None
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
