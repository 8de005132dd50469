"""API shapes. The websocket sends the same shapes (see docs/realtime.md)."""

from django.conf import settings
from django.contrib.auth import get_user_model
from rest_framework import serializers

from inbox.models import (
    Attachment,
    CannedResponse,
    Contact,
    Conversation,
    Identity,
    Inbox,
    Label,
    Message,
    Priority,
    Status,
    Team,
)
from inbox.public_media import inline_image_url

User = get_user_model()


def initials(name: str) -> str:
    words = (name or "?").split()
    return "".join(w[0] for w in words[:2]).upper()


def display_name(user) -> str:
    return user.get_full_name() or user.email or user.username


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
        """The declared fields above, built directly: the inbox list renders 50 of these per page and
        nested serializers cost most of its time. `test_fast_conversation_shape_matches_declared_fields`
        keeps the two in step."""
        contact, inbox, assignee, team, last = (
            conversation.contact, conversation.inbox, conversation.assignee, conversation.team,
            conversation.last_message,
        )
        return {
            "id": conversation.pk,
            "contact": {"id": contact.pk, "name": contact.name, "avatar_initials": initials(contact.name)},
            "inbox": {"id": inbox.pk, "name": inbox.name, "channel": inbox.channel},
            "status": conversation.status,
            "snoozed_until": _iso(conversation.snoozed_until),
            "assignee": {"id": assignee.pk, "name": display_name(assignee)} if assignee else None,
            "team": {"id": team.pk, "name": team.name} if team else None,
            "priority": conversation.priority,
            "labels": self.get_labels(conversation),
            "subject": conversation.subject,
            "last_message": {
                "id": last.pk, "text": last.text, "channel": last.channel, "direction": last.direction,
                "kind": last.kind, "sender_user": last.sender_user_id, "created_at": _iso(last.created_at),
            } if last else None,
            "last_message_at": _iso(conversation.last_message_at),
            "waiting_since": _iso(conversation.waiting_since),
            "first_response_at": _iso(conversation.first_response_at),
            "resolved_at": _iso(conversation.resolved_at),
            "unread_count": self.get_unread_count(conversation),
            "created_at": _iso(conversation.created_at),
        }


_DATETIME = serializers.DateTimeField()


def _iso(value) -> str | None:
    """DRF's DateTimeField output (UTC rendered with a trailing Z), from one shared field: building
    a field per value cost a third of the list's serialization."""
    return _DATETIME.to_representation(value) if value else None


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


class NewMessageSerializer(serializers.Serializer):
    text = serializers.CharField(max_length=20_000, trim_whitespace=False, allow_blank=False)
    channel = serializers.CharField(max_length=32, required=False, allow_blank=True)
    private = serializers.BooleanField(required=False, default=False)
    subject = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")
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
    team = serializers.SlugRelatedField(
        slug_field="name", queryset=Team.objects.all(), required=False, allow_null=True
    )

    class Meta:
        model = Inbox
        fields = ["id", "name", "channel", "address", "team", "credentials", "settings", "webhook_urls", "created_at"]
        read_only_fields = ["id", "created_at"]

    def get_webhook_urls(self, inbox) -> dict:
        from inbox.services.inboxes import webhook_urls_for

        return webhook_urls_for(inbox)
