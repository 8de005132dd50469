"""What agents do to a conversation: status, assignment, priority, labels, read markers."""

from datetime import datetime

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from inbox.models import (
    Conversation,
    ConversationRead,
    DeliveryStatus,
    Direction,
    Label,
    Message,
    MessageKind,
    Status,
)
from inbox.services.events import record_conversation_event, record_message_event


def record_activity(conversation: Conversation, text: str, *, user=None, metadata: dict | None = None) -> Message:
    """A small line on the timeline: "Ana assigned Bob", "Resolved", "Opted out of SMS"."""
    activity = Message.objects.create(
        conversation=conversation, contact=conversation.contact, inbox=conversation.inbox,
        direction=Direction.OUT, kind=MessageKind.ACTIVITY, channel=conversation.inbox.channel,
        text=text, sender_user=user, status=DeliveryStatus.SENT, metadata=metadata or {},
    )
    record_message_event("message.created", activity)
    return activity


def _name(user) -> str:
    return user.get_full_name() or user.email or user.username


def update_conversation(
    conversation: Conversation,
    user: AbstractBaseUser,
    *,
    status: str | None = None,
    snoozed_until: datetime | None = None,
    assignee=...,
    team=...,
    priority: str | None = None,
    labels: list[str] | None = None,
) -> Conversation:
    """Apply an agent's changes; each visible change also leaves an activity on the timeline."""
    with transaction.atomic():
        conversation = Conversation.objects.select_for_update().get(pk=conversation.pk)
        activities: list[str] = []
        if status is not None and status != conversation.status:
            conversation.status = status
            conversation.snoozed_until = snoozed_until if status == Status.SNOOZED else None
            conversation.resolved_at = timezone.now() if status == Status.RESOLVED else None
            if status == Status.SNOOZED and snoozed_until:
                activities.append(f"{_name(user)} snoozed the conversation until {snoozed_until:%Y-%m-%d %H:%M} UTC")
            else:
                activities.append(f"{_name(user)} set the status to {status}")
        elif status == Status.SNOOZED and snoozed_until and snoozed_until != conversation.snoozed_until:
            conversation.snoozed_until = snoozed_until
            activities.append(f"{_name(user)} snoozed the conversation until {snoozed_until:%Y-%m-%d %H:%M} UTC")
        if assignee is not ... and assignee != conversation.assignee:
            conversation.assignee = assignee
            activities.append(
                f"{_name(user)} assigned the conversation to {_name(assignee)}"
                if assignee
                else f"{_name(user)} unassigned the conversation"
            )
        if team is not ... and team != conversation.team:
            conversation.team = team
            activities.append(f"{_name(user)} moved the conversation to team {team.name}" if team else
                              f"{_name(user)} removed the team")
        if priority is not None and priority != conversation.priority:
            conversation.priority = priority
            activities.append(f"{_name(user)} set the priority to {priority}")
        conversation.save()
        if labels is not None:
            wanted = {Label.objects.get_or_create(name=name)[0] for name in labels}
            current = set(conversation.labels.all())
            if wanted != current:
                conversation.labels.set(wanted)
                added = sorted(label.name for label in wanted - current)
                removed = sorted(label.name for label in current - wanted)
                parts = ([f"added {', '.join(added)}"] if added else []) + (
                    [f"removed {', '.join(removed)}"] if removed else []
                )
                activities.append(f"{_name(user)} {' and '.join(parts)} label(s)")
        for text in activities:
            record_activity(conversation, text, user=user)
        if activities:
            record_conversation_event("conversation.updated", conversation)
    return conversation


def mark_read(conversation: Conversation, user: AbstractBaseUser) -> None:
    ConversationRead.objects.update_or_create(
        conversation=conversation, user=user, defaults={"last_read_at": timezone.now()}
    )


def wake_snoozed_conversations(now: datetime | None = None) -> int:
    """Snoozed conversations whose time has come go back to open (run periodically)."""
    now = now or timezone.now()
    woken = 0
    for conversation in Conversation.objects.filter(status=Status.SNOOZED, snoozed_until__lte=now):
        with transaction.atomic():
            conversation.status = Status.OPEN
            conversation.snoozed_until = None
            conversation.save(update_fields=["status", "snoozed_until", "updated_at"])
            record_activity(conversation, "Snooze ended: the conversation is open again")
            record_conversation_event("conversation.updated", conversation)
        woken += 1
    return woken

