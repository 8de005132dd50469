from django.conf import settings
from django.db import models
from django.utils import timezone


class Status(models.TextChoices):
    OPEN = "open"
    PENDING = "pending"
    SNOOZED = "snoozed"
    RESOLVED = "resolved"


class Priority(models.TextChoices):
    NONE = "none"
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    URGENT = "urgent"


class Label(models.Model):
    name = models.SlugField(max_length=50, unique=True)
    color = models.CharField(max_length=7, default="#6b7280")

    def __str__(self) -> str:
        return self.name


class Conversation(models.Model):
    """A thread of work with one contact; it may span channels while it stays open."""

    contact = models.ForeignKey("inbox.Contact", on_delete=models.CASCADE, related_name="conversations")
    # Inbox of the last inbound message: where a reply goes by default.
    inbox = models.ForeignKey("inbox.Inbox", on_delete=models.PROTECT, related_name="conversations")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.OPEN)
    snoozed_until = models.DateTimeField(null=True, blank=True)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    team = models.ForeignKey("inbox.Team", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    priority = models.CharField(max_length=8, choices=Priority.choices, default=Priority.NONE)
    labels = models.ManyToManyField(Label, blank=True, related_name="conversations")
    subject = models.CharField(max_length=500, blank=True)
    # Denormalized so the list renders a snippet without a query per row.
    last_message = models.ForeignKey(
        "inbox.Message", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    last_message_at = models.DateTimeField(default=timezone.now)
    last_inbound_at = models.DateTimeField(null=True, blank=True)
    # Oldest customer message not yet answered: drives "waiting for" in the list.
    waiting_since = models.DateTimeField(null=True, blank=True)
    first_response_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [
            models.Index(fields=["-last_message_at", "-id"], name="conv_last_message"),
            models.Index(fields=["contact", "-last_message_at"], name="conv_contact_last"),
            models.Index(fields=["status", "-last_message_at"], name="conv_status_last"),
            models.Index(fields=["team", "-last_message_at"], name="conv_team_last"),
        ]

    def __str__(self) -> str:
        return f"Conversation {self.pk}"


class ConversationRead(models.Model):
    """How far one user has read a conversation: gives each agent their own unread markers."""

    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="reads")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    last_read_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["conversation", "user"], name="read_unique_user")]
