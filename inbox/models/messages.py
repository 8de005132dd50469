from django.conf import settings
from django.db import models
from django.db.models import BooleanField, Func, Q
from django.utils import timezone


class Direction(models.TextChoices):
    IN = "in"
    OUT = "out"


class MessageKind(models.TextChoices):
    MESSAGE = "message"
    NOTE = "note"
    CALL = "call"
    VOICEMAIL = "voicemail"
    ACTIVITY = "activity"
    CAMPAIGN = "campaign"


class DeliveryStatus(models.TextChoices):
    RECEIVED = "received"
    QUEUED = "queued"
    # The provider may or may not have the message (its answer was lost): Heron asks it before
    # sending again (inbox/services/outbound.py, docs/sending.md).
    UNCONFIRMED = "unconfirmed"
    SENT = "sent"
    DELIVERED = "delivered"
    READ = "read"
    FAILED = "failed"


# Statuses only move forward; failed is terminal from anywhere.
STATUS_RANK = {
    DeliveryStatus.RECEIVED: 0,
    DeliveryStatus.QUEUED: 1,
    DeliveryStatus.UNCONFIRMED: 1,
    DeliveryStatus.SENT: 2,
    DeliveryStatus.DELIVERED: 3,
    DeliveryStatus.READ: 4,
    DeliveryStatus.FAILED: 5,
}


class HasExternalId(Func):
    """`external_id <> ''` with the empty string written into the SQL, not bound as a parameter.

    The unique index on (inbox, external_id) leaves out messages without a provider id, so a query
    can use it only when its own conditions imply that. PostgreSQL's reusable plan of a prepared
    statement (config/settings.py prepares repeated ones) cannot see a parameter's value: without
    this condition, written this way, that plan scans the table, so PostgreSQL planned the lookup
    again on every call instead (bench/RESULTS.md, eleventh session).
    """

    template = "%(expressions)s <> ''"
    output_field = BooleanField()


class MessageQuerySet(models.QuerySet):
    def with_external_id(self, external_id: str) -> "MessageQuerySet":
        """The message(s) a provider knows by this id (one per inbox), found through the unique index."""
        return self.filter(HasExternalId("external_id"), external_id=external_id)


class Message(models.Model):
    conversation = models.ForeignKey("inbox.Conversation", on_delete=models.CASCADE, related_name="messages")
    contact = models.ForeignKey("inbox.Contact", on_delete=models.CASCADE, related_name="messages")
    inbox = models.ForeignKey("inbox.Inbox", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    direction = models.CharField(max_length=3, choices=Direction.choices)
    kind = models.CharField(max_length=16, choices=MessageKind.choices, default=MessageKind.MESSAGE)
    channel = models.CharField(max_length=32)
    subject = models.CharField(max_length=500, blank=True)
    text = models.TextField(blank=True)
    html = models.TextField(blank=True)  # already sanitized with nh3
    sender_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # The identity the message came from or went to (phone number, email address).
    identity = models.ForeignKey("inbox.Identity", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    external_id = models.CharField(max_length=255, blank=True)
    status = models.CharField(max_length=16, choices=DeliveryStatus.choices, default=DeliveryStatus.RECEIVED)
    provider_status = models.CharField(max_length=64, blank=True)
    error_code = models.CharField(max_length=32, blank=True)
    error_message = models.CharField(max_length=500, blank=True)
    metadata = models.JSONField(default=dict, blank=True)
    # Outbound idempotency: a retried delivery task finds the attempt already recorded.
    send_attempts = models.PositiveIntegerField(default=0)
    # When the send sweeper must look at this unsettled reply again (a due retry, a lease running out);
    # NULL once it is settled, which keeps the sweeper's partial index small.
    send_check_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    objects = MessageQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["inbox", "external_id"], condition=~Q(external_id=""), name="message_unique_external_id"
            )
        ]
        indexes = [
            models.Index(fields=["conversation", "-created_at", "-id"], name="msg_conversation_created"),
            models.Index(fields=["contact", "-created_at", "-id"], name="msg_contact_created"),
            models.Index(fields=["send_check_at"], condition=Q(send_check_at__isnull=False), name="msg_send_check"),
        ]

    def __str__(self) -> str:
        return f"Message {self.pk} ({self.direction} {self.channel})"


class Attachment(models.Model):
    class State(models.TextChoices):
        PENDING = "pending"
        READY = "ready"
        FAILED = "failed"

    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField(upload_to="attachments/%Y/%m/", blank=True)
    filename = models.CharField(max_length=255, blank=True)
    content_type = models.CharField(max_length=255, blank=True)
    size = models.PositiveBigIntegerField(default=0)
    # Where to fetch it from when the provider hands us a URL (MMS media, recordings).
    source_url = models.URLField(max_length=1000, blank=True)
    state = models.CharField(max_length=8, choices=State.choices, default=State.READY)
    error = models.CharField(max_length=500, blank=True)
    download_attempts = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
