"""Phone calls and voicemails on the timeline, whatever the telephony provider.

One call is ONE message (kind "call", external_id = the provider's call id), created by the
adapter through `record_inbound` when the phone rings, so the caller lands on the same contact as
their SMS and email identities. Everything that happens to the call afterwards updates that
message in place:

- `record_call_update`: the call's progress (ringing → in-progress → completed, or a missed
  outcome: no-answer / busy / canceled / failed) and its duration;
- `record_voicemail`: a recording arrived → the message becomes kind "voicemail" and gets an
  audio Attachment (pending; downloaded by `inbox.tasks.download_attachment` through the
  channel adapter's `fetch_media`);
- `record_transcript`: the voicemail's transcript.

The provider's callbacks arrive in any order and may be retried: every function is an upsert,
keyed by the call id (and the recording id for the audio), and writes a `message.updated` event
only when something actually changed.

Metadata of a call/voicemail message:
    call_status         outcome shown to agents: ringing | in-progress | completed (an agent
                        answered) | no-answer | busy | canceled | failed (missed). A call that ends
                        without anyone answering is "no-answer", even when the provider says
                        "completed" (it answered the call itself, to play the voicemail greeting)
    answered            true once an agent took the call
    direction           "inbound"
    call_duration       seconds the call lasted (when the provider reported it)
    duration            what the timeline shows: the recording's length for a voicemail, else the
                        call's length
    recording_sid, recording_duration, recording_url (Heron's own URL of the audio attachment)
    transcript, transcript_status
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.core.files.base import ContentFile
from django.db import transaction

from channels_adapters.base import InboundMessage, SenderIdentity
from inbox.models import Attachment, Inbox, Message, MessageKind
from inbox.services.attachments import MIME_EXTENSIONS
from inbox.services.events import record_message_event
from inbox.services.ingest import record_inbound

log = logging.getLogger("heron.calls")

# Forward-only: a lower rank never replaces a higher one. Missed outcomes outrank "completed",
# because a call that reached voicemail still ends with the provider saying "completed".
STATUS_RANK = {
    "queued": 0, "initiated": 0, "ringing": 1, "in-progress": 2, "completed": 3,
    "no-answer": 4, "busy": 4, "canceled": 4, "failed": 4,
}
MISSED_STATUSES = frozenset({"no-answer", "busy", "canceled", "failed"})

TEXT_RINGING = "Incoming call"


class UnknownCall(LookupError):
    """An update for a call Heron has not seen (yet) and cannot create: kept for replay."""


@dataclass(frozen=True)
class CallResult:
    message: Message
    changed: bool


def _text_for(message: Message) -> str:
    md = message.metadata
    if message.kind == MessageKind.VOICEMAIL:
        return "Voicemail"
    status = md.get("call_status", "")
    if status in MISSED_STATUSES:
        return "Missed call"
    if status == "completed":
        return "Answered call"
    if status == "in-progress":
        return "Call in progress"
    return TEXT_RINGING


def start_call(inbox_id: int, call_id: str, caller: SenderIdentity, *, metadata: dict | None = None) -> CallResult:
    """The phone rings: the call message on the caller's contact and conversation (idempotent)."""
    inbox = Inbox.objects.only("channel").get(pk=inbox_id)
    result = record_inbound(InboundMessage(
        channel=inbox.channel, inbox_id=inbox_id, kind=MessageKind.CALL, external_id=call_id, sender=caller,
        text=TEXT_RINGING, metadata={"call_status": "ringing", "direction": "inbound", **(metadata or {})},
    ))
    return CallResult(result.message, result.created)


def _locked_call(inbox_id: int, call_id: str, caller: SenderIdentity | None) -> Message:
    """The call's message, locked for this transaction; created first when the caller is known."""
    exists = Message.objects.filter(inbox_id=inbox_id).with_external_id(call_id).exists()
    if not exists:
        if caller is None:
            raise UnknownCall(f"No call has the id {call_id} (yet); replay later")
        start_call(inbox_id, call_id, caller)
    return (
        Message.objects.select_for_update(of=("self",)).select_related("conversation", "contact")
        .filter(inbox_id=inbox_id).with_external_id(call_id).get()
    )


def _save(message: Message, before: tuple) -> bool:
    """Save and announce the message if its kind, text or metadata changed; True when it did."""
    message.text = _text_for(message)
    if (message.kind, message.text, message.metadata, message.provider_status) == before:
        return False
    message.save(update_fields=["kind", "text", "metadata", "provider_status", "updated_at"])
    record_message_event("message.updated", message)
    return True


def _snapshot(message: Message) -> tuple:
    return message.kind, message.text, dict(message.metadata), message.provider_status


def record_call_update(
    inbox_id: int,
    call_id: str,
    *,
    status: str,
    duration: int | None = None,
    answered: bool = False,
    agents_status: str = "",
    provider_status: str = "",
    caller: SenderIdentity | None = None,
) -> CallResult:
    """The call progressed. `status` uses the vocabulary of STATUS_RANK; unknown values are kept raw only.

    `answered` says a person (an agent) took the call; a call that ends "completed" without ever
    being answered (the caller hung up while it rang, or reached voicemail) is a missed call:
    "no-answer". `agents_status` is the outcome of ringing the agents (kept as metadata
    "agents_status"). `provider_status` is the provider's raw word on the call, kept on the message
    unless it would move backwards. `caller` lets an update create the call when its first webhook
    never arrived.
    """
    with transaction.atomic():
        message = _locked_call(inbox_id, call_id, caller)
        before = _snapshot(message)
        md = message.metadata
        if answered:
            md["answered"] = True
            if message.kind != MessageKind.VOICEMAIL and status in ("in-progress", "completed"):
                md["call_status"] = status  # authoritative, whatever arrived before
        else:
            if status == "completed" and not md.get("answered"):
                status = "no-answer"
            current = md.get("call_status", "")
            if status in STATUS_RANK and STATUS_RANK[status] > STATUS_RANK.get(current, -1):
                if not (md.get("answered") and status == "no-answer"):
                    md["call_status"] = status
        if agents_status:
            md["agents_status"] = agents_status[:32]
        current_raw = message.provider_status
        if provider_status and STATUS_RANK.get(provider_status, 0) >= STATUS_RANK.get(current_raw, -1):
            message.provider_status = provider_status[:64]
        if duration is not None and duration >= 0:
            md["call_duration"] = duration
            if message.kind != MessageKind.VOICEMAIL:
                md["duration"] = duration
        changed = _save(message, before)
    return CallResult(message, changed)


def record_voicemail(
    inbox_id: int,
    call_id: str,
    recording_id: str,
    recording_url: str,
    duration: int | None,
    *,
    content_type: str = "audio/mpeg",
    content: bytes | None = None,
    caller: SenderIdentity | None = None,
) -> CallResult:
    """A voicemail was recorded: the call becomes a voicemail with the audio attached.

    The audio is downloaded in the background from `recording_url` (by the channel adapter's
    `fetch_media`), unless `content` already holds it. The same recording twice is one attachment.
    """
    pending: int | None = None
    with transaction.atomic():
        message = _locked_call(inbox_id, call_id, caller)
        before = _snapshot(message)
        md = message.metadata
        message.kind = MessageKind.VOICEMAIL
        md["recording_sid"] = recording_id
        if md.get("call_status") in (None, "", "ringing", "in-progress", "completed"):
            # Reaching voicemail means nobody answered, whatever order the callbacks came in.
            md["call_status"] = "no-answer"
        if duration is not None and duration >= 0:
            md["recording_duration"] = duration
            md["duration"] = duration
        attachment = message.attachments.filter(source_url=recording_url).first()
        if attachment is None:
            attachment = Attachment(
                message=message, source_url=recording_url, content_type=content_type[:255],
                filename=f"voicemail-{recording_id}"[:200], state=Attachment.State.PENDING,
            )
            if content is not None:
                attachment.filename += MIME_EXTENSIONS.get(attachment.content_type, "")
                attachment.file.save(attachment.filename, ContentFile(content), save=False)
                attachment.size = len(content)
                attachment.state = Attachment.State.READY
            attachment.save()
            if attachment.state == Attachment.State.PENDING:
                pending = attachment.pk
        md["recording_url"] = f"/api/v1/attachments/{attachment.pk}/"
        changed = _save(message, before)
        if pending is not None:
            transaction.on_commit(lambda: _enqueue_download(pending))
    return CallResult(message, changed or pending is not None)


def record_transcript(
    inbox_id: int,
    call_id: str,
    text: str,
    status: str,
    *,
    recording_id: str = "",
    caller: SenderIdentity | None = None,
) -> CallResult:
    """The voicemail's transcript (status "completed"), or word that transcription failed.

    Found by call id, else by recording id. It may arrive before the recording itself: the call
    becomes a voicemail now and the audio attaches when `record_voicemail` runs.
    """
    with transaction.atomic():
        if not call_id and recording_id:
            call_id = (
                Message.objects.filter(inbox_id=inbox_id, metadata__recording_sid=recording_id)
                .values_list("external_id", flat=True).first() or ""
            )
        if not call_id:
            raise UnknownCall(f"No voicemail has the recording id {recording_id!r} (yet); replay later")
        message = _locked_call(inbox_id, call_id, caller)
        before = _snapshot(message)
        md = message.metadata
        message.kind = MessageKind.VOICEMAIL
        if recording_id and not md.get("recording_sid"):
            md["recording_sid"] = recording_id
        if md.get("call_status") in (None, "", "ringing", "in-progress", "completed"):
            md["call_status"] = "no-answer"
        # A completed transcript is never replaced by a later failure report.
        if md.get("transcript_status") != "completed":
            md["transcript_status"] = status
            if status == "completed":
                md["transcript"] = text.strip()[:10_000]
        changed = _save(message, before)
    return CallResult(message, changed)


def _enqueue_download(attachment_id: int) -> None:
    from inbox.tasks import download_attachment

    download_attachment.delay(attachment_id)
