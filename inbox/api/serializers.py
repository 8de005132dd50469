"""API shapes. The websocket sends the same shapes (see docs/realtime.md)."""

import json
from datetime import UTC, datetime

from django.conf import settings
from django.contrib.auth import get_user_model
from rest_framework import serializers

from inbox.models import (
    Attachment,
    CannedResponse,
    Contact,
    Conversation,
    Identity,
    IdentityKind,
    Inbox,
    Label,
    Message,
    Priority,
    Status,
    Team,
)
from inbox.public_media import inline_image_url
from inbox.selectors import CONVERSATION_ROW, LABEL_SEPARATOR
from inbox.services.identities import CHANNEL_IDENTITY_KIND, InvalidIdentity, normalize_phone

User = get_user_model()


def initials(name: str) -> str:
    words = (name or "?").split()
    return "".join(w[0] for w in words[:2]).upper()


def display_name(user) -> str:
    return person_name(user.first_name, user.last_name, user.email, user.username)


def person_name(first_name: str, last_name: str, email: str, username: str) -> str:
    """`display_name` from the columns, for rows read without a User instance."""
    return f"{first_name} {last_name}".strip() or email or username


class UserRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.SerializerMethodField()

    def get_name(self, user) -> str:
        return display_name(user)


class TeamSerializer(serializers.ModelSerializer):
    class Meta:
        model = Team
        fields = ["id", "name"]


class LabelSerializer(serializers.ModelSerializer):
    class Meta:
        model = Label
        fields = ["id", "name", "color"]


class CannedResponseSerializer(serializers.ModelSerializer):
    class Meta:
        model = CannedResponse
        fields = ["id", "shortcut", "text"]


class AgentSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.SerializerMethodField()
    email = serializers.EmailField()
    role = serializers.CharField(source="heron.role")
    teams = TeamSerializer(source="heron.teams.all", many=True)

    def get_name(self, user) -> str:
        return display_name(user)


class IdentitySerializer(serializers.ModelSerializer):
    class Meta:
        model = Identity
        fields = ["id", "kind", "value", "display_name", "opted_out", "opted_out_at"]


class ContactRefSerializer(serializers.ModelSerializer):
    avatar_initials = serializers.SerializerMethodField()

    class Meta:
        model = Contact
        fields = ["id", "name", "avatar_initials"]

    def get_avatar_initials(self, contact) -> str:
        return initials(contact.name)


class ContactSerializer(ContactRefSerializer):
    identities = IdentitySerializer(many=True, read_only=True)
    labels = serializers.SerializerMethodField()
    conversations_count = serializers.SerializerMethodField()
    merged_from = serializers.SerializerMethodField()

    class Meta:
        model = Contact
        fields = ["id", "name", "avatar_initials", "identities", "labels", "conversations_count", "merged_from",
                  "created_at"]
        read_only_fields = ["id", "created_at"]

    def get_labels(self, contact) -> list[str]:
        return sorted(label.name for label in contact.labels.all())

    def get_conversations_count(self, contact) -> int:
        count = getattr(contact, "conversations_count", None)  # annotated by the list: 0 is an answer
        return contact.conversations.count() if count is None else count

    def get_merged_from(self, contact) -> list[dict]:
        # Filtered here rather than in SQL so the list's prefetch of `merges` serves every row.
        return [
            {"merge_id": m.id, "contact_id": m.merged_contact_id, "name": m.merged_contact.name}
            for m in contact.merges.all() if m.undone_at is None
        ]


class ContactUpdateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200, required=False, allow_blank=True)
    # The whole new set, validated like a conversation's labels.
    labels = serializers.ListField(child=serializers.SlugField(max_length=50), required=False, max_length=50)

    def validate(self, attrs):
        if not attrs:
            raise serializers.ValidationError("Give a name or labels to change.")
        return attrs


class InboxRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Inbox
        fields = ["id", "name", "channel"]


class LastMessageSerializer(serializers.ModelSerializer):
    # The agent who wrote it (null for customers and automation), so a list can say "You:" only for one's own.
    sender_user = serializers.IntegerField(source="sender_user_id", read_only=True, allow_null=True)

    class Meta:
        model = Message
        fields = ["id", "text", "channel", "direction", "kind", "sender_user", "created_at"]


class ConversationSerializer(serializers.ModelSerializer):
    contact = ContactRefSerializer(read_only=True)
    inbox = InboxRefSerializer(read_only=True)
    assignee = UserRefSerializer(read_only=True, allow_null=True)
    team = TeamSerializer(read_only=True, allow_null=True)
    labels = serializers.SerializerMethodField()
    last_message = LastMessageSerializer(read_only=True, allow_null=True)
    unread_count = serializers.SerializerMethodField()

    class Meta:
        model = Conversation
        fields = [
            "id", "contact", "inbox", "status", "snoozed_until", "assignee", "team", "priority", "labels",
            "subject", "last_message", "last_message_at", "waiting_since", "first_response_at", "resolved_at",
            "unread_count", "created_at",
        ]

    def get_labels(self, conversation) -> list[str]:
        # `conversation_list` prefetches them into a plain list; an event's conversation has none.
        labels = getattr(conversation, "label_list", None)
        return sorted(label.name for label in (conversation.labels.all() if labels is None else labels))

    def get_unread_count(self, conversation) -> int:
        return getattr(conversation, "unread_count", 0) or 0

    def to_representation(self, conversation) -> dict:
        """The declared fields above, built directly from a `selectors.conversation_rows` row; an
        instance (an event's, a PATCH answer) is read into the same row first. The inbox list renders
        50 of these per page and nested serializers cost most of its time.
        `test_fast_conversation_shape_matches_declared_fields` keeps the two in step."""
        row = conversation if isinstance(conversation, dict) else self._row_of(conversation)
        labels = row["label_names"]
        return {
            "id": row["id"],
            "contact": {"id": row["contact_id"], "name": row["contact__name"],
                        "avatar_initials": initials(row["contact__name"])},
            "inbox": {"id": row["inbox_id"], "name": row["inbox__name"], "channel": row["inbox__channel"]},
            "status": row["status"],
            "snoozed_until": _iso(row["snoozed_until"]),
            "assignee": {
                "id": row["assignee_id"],
                "name": person_name(row["assignee__first_name"], row["assignee__last_name"],
                                    row["assignee__email"], row["assignee__username"]),
            } if row["assignee_id"] is not None else None,
            "team": {"id": row["team_id"], "name": row["team__name"]} if row["team_id"] is not None else None,
            "priority": row["priority"],
            "labels": sorted(labels.split(LABEL_SEPARATOR)) if labels else [],
            "subject": row["subject"],
            "last_message": {
                "id": row["last_message_id"], "text": row["last_message__text"],
                "channel": row["last_message__channel"], "direction": row["last_message__direction"],
                "kind": row["last_message__kind"], "sender_user": row["last_message__sender_user_id"],
                "created_at": _iso(row["last_message__created_at"]),
            } if row["last_message_id"] is not None else None,
            "last_message_at": _iso(row["last_message_at"]),
            "waiting_since": _iso(row["waiting_since"]),
            "first_response_at": _iso(row["first_response_at"]),
            "resolved_at": _iso(row["resolved_at"]),
            "unread_count": row["unread_count"] or 0,
            "created_at": _iso(row["created_at"]),
        }

    def _row_of(self, conversation: Conversation) -> dict:
        """A model instance as the row `selectors.conversation_rows` would read for it."""
        row = {}
        for path in CONVERSATION_ROW:
            value = conversation
            for name in path.split("__"):
                value = None if value is None else getattr(value, name)
            row[path] = value
        row["unread_count"] = self.get_unread_count(conversation)
        # Read with `selectors.label_names()` (ingest does), or from the labels themselves.
        row["label_names"] = (
            conversation.label_names if hasattr(conversation, "label_names")
            else LABEL_SEPARATOR.join(self.get_labels(conversation))
        )
        return row


def _iso(value: datetime | None) -> str | None:
    """DRF's DateTimeField output for the API's UTC datetimes (ISO 8601, "+00:00" written "Z"),
    without its per-value settings and active-timezone lookups: a list page renders 350 of them."""
    if not value:
        return None
    text = value.astimezone(UTC).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


class ConversationUpdateSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=Status.choices, required=False)
    snoozed_until = serializers.DateTimeField(required=False, allow_null=True)
    assignee = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.filter(is_active=True), required=False, allow_null=True
    )
    team = serializers.PrimaryKeyRelatedField(queryset=Team.objects.all(), required=False, allow_null=True)
    priority = serializers.ChoiceField(choices=Priority.choices, required=False)
    labels = serializers.ListField(child=serializers.SlugField(max_length=50), required=False, max_length=50)

    def validate(self, attrs):
        if attrs.get("status") == Status.SNOOZED and not attrs.get("snoozed_until"):
            raise serializers.ValidationError({"snoozed_until": "Say until when the conversation is snoozed."})
        return attrs


class AttachmentSerializer(serializers.ModelSerializer):
    url = serializers.SerializerMethodField()
    inline_url = serializers.SerializerMethodField()
    status = serializers.CharField(source="state")

    class Meta:
        model = Attachment
        fields = ["id", "filename", "content_type", "size", "url", "inline_url", "status", "error"]

    def get_url(self, attachment) -> str | None:
        return f"/api/v1/attachments/{attachment.id}/" if attachment.state == Attachment.State.READY else None

    def get_inline_url(self, attachment) -> str | None:
        """For an email's inline (cid:) image: a signed, expiring link its sandboxed iframe can load
        without our session cookie."""
        return inline_image_url(attachment)


class SenderSerializer(serializers.Serializer):
    """Who wrote it: an agent for outbound and notes, the contact for inbound."""

    def to_representation(self, message):
        if message.sender_user_id:
            return {"type": "agent", "id": message.sender_user_id, "name": display_name(message.sender_user)}
        if message.direction == "in":
            return {"type": "contact", "id": message.contact_id, "name": message.contact.name}
        return None


class MessageSerializer(serializers.ModelSerializer):
    sender = SenderSerializer(source="*", read_only=True)
    attachments = AttachmentSerializer(many=True, read_only=True)

    class Meta:
        model = Message
        fields = [
            "id", "conversation", "contact", "inbox", "direction", "kind", "channel", "subject", "text", "html",
            "sender", "status", "provider_status", "error_code", "error_message", "external_id", "attachments",
            "metadata", "created_at",
        ]

    def to_representation(self, message) -> dict:
        """The declared fields above, built directly, like `ConversationSerializer`: timelines and every
        live event render messages. `test_fast_message_shape_matches_declared_fields` keeps the two in step."""
        return {
            "id": message.pk,
            "conversation": message.conversation_id,
            "contact": message.contact_id,
            "inbox": message.inbox_id,
            "direction": message.direction,
            "kind": message.kind,
            "channel": message.channel,
            "subject": message.subject,
            "text": message.text,
            "html": message.html,
            "sender": _SENDER.to_representation(message),
            "status": message.status,
            "provider_status": message.provider_status,
            "error_code": message.error_code,
            "error_message": message.error_message,
            "external_id": message.external_id,
            "attachments": _ATTACHMENTS.to_representation(message.attachments),
            "metadata": message.metadata,
            "created_at": _iso(message.created_at),
        }


# Shared by every message rendered: they keep no per-request state.
_SENDER = SenderSerializer()
_ATTACHMENTS = AttachmentSerializer(many=True)


class NewMessageSerializer(serializers.Serializer):
    text = serializers.CharField(max_length=20_000, trim_whitespace=False, allow_blank=False)
    channel = serializers.CharField(max_length=32, required=False, allow_blank=True)
    private = serializers.BooleanField(required=False, default=False)
    subject = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")
    # Email replies only: more recipients, kept on the message as `metadata.cc`.
    cc = serializers.ListField(child=serializers.EmailField(), required=False, default=list, max_length=20)
    # Agents @mentioned in a note; they are told through the event's `metadata.mentions`.
    mentions = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.filter(is_active=True, heron__isnull=False), many=True, required=False, default=list
    )

    files = serializers.ListField(child=serializers.FileField(allow_empty_file=False), required=False, default=list)

    def validate_files(self, files):
        if len(files) > settings.REPLY_ATTACHMENT_MAX_FILES:
            raise serializers.ValidationError(f"Attach at most {settings.REPLY_ATTACHMENT_MAX_FILES} files.")
        for upload in files:
            if upload.size > settings.REPLY_ATTACHMENT_MAX_BYTES:
                raise serializers.ValidationError(
                    f"{upload.name} is {upload.size // 1024} KB; the limit is "
                    f"{settings.REPLY_ATTACHMENT_MAX_BYTES // (1024 * 1024)} MB per file."
                )
        return files

    def validate(self, attrs):
        if attrs["mentions"] and not attrs["private"]:
            raise serializers.ValidationError({"mentions": "Only internal notes can mention colleagues."})
        if attrs["cc"] and attrs["private"]:
            raise serializers.ValidationError({"cc": "Notes are never sent: only an email reply has Cc."})
        return attrs


class NewIdentitySerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=["phone", "email", "google_business", "google_review", "simulator"])
    value = serializers.CharField(max_length=320)


class NewContactSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200, allow_blank=True, default="")
    identities = NewIdentitySerializer(many=True, required=False, default=list)


class NewConversationSerializer(serializers.Serializer):
    contact = serializers.IntegerField()
    inbox = serializers.IntegerField()
    text = serializers.CharField(max_length=20_000)
    subject = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")


class InboxSerializer(serializers.ModelSerializer):
    credentials = serializers.DictField(write_only=True, required=False, default=dict)
    webhook_urls = serializers.SerializerMethodField()
    team = serializers.PrimaryKeyRelatedField(queryset=Team.objects.all(), required=False, allow_null=True)

    class Meta:
        model = Inbox
        fields = ["id", "name", "channel", "address", "team", "credentials", "settings", "webhook_urls", "created_at"]
        read_only_fields = ["id", "created_at"]

    def validate_settings(self, value):
        if not isinstance(value, dict):
            raise serializers.ValidationError("Must be a JSON object.")
        if "\\u0000" in json.dumps(value):  # PostgreSQL's jsonb cannot hold one
            raise serializers.ValidationError("Must not contain NUL characters.")
        return value

    def get_webhook_urls(self, inbox) -> dict:
        from inbox.services.inboxes import webhook_urls_for

        return webhook_urls_for(inbox)

    def validate(self, attrs):
        """A phone inbox's number is kept in E.164, the form providers send: webhooks find it by it."""
        channel = attrs.get("channel", getattr(self.instance, "channel", ""))
        if "address" in attrs and CHANNEL_IDENTITY_KIND.get(channel) == IdentityKind.PHONE:
            try:
                attrs["address"] = normalize_phone(attrs["address"])
            except InvalidIdentity as exc:
                raise serializers.ValidationError({"address": str(exc)}) from None
        return attrs
