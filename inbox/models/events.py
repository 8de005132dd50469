from django.db import models


class Event(models.Model):
    """A change that browsers and integrations must hear about, in id order.

    Written in the same transaction as the change; the id is the catch-up cursor.
    See docs/realtime.md for the event types and their payloads.
    """

    type = models.CharField(max_length=64)
    conversation = models.ForeignKey(
        "inbox.Conversation", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    contact = models.ForeignKey("inbox.Contact", null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    data = models.JSONField(default=dict)
    # About a private note: never shown to those who may not read notes (`selectors.may_see_notes`).
    # A database default, so the writers that insert events in SQL need not name it.
    private = models.BooleanField(default=False, db_default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    def as_frame(self) -> dict:
        return {"id": self.pk, "type": self.type, "at": self.created_at.isoformat(), "data": self.data}


class RawInboundEvent(models.Model):
    """Every provider request that passed its signature check, kept verbatim so it can be replayed."""

    class Result(models.TextChoices):
        PENDING = "pending"
        PROCESSED = "processed"
        DUPLICATE = "duplicate"
        FAILED = "failed"

    channel = models.CharField(max_length=32)
    endpoint = models.CharField(max_length=100)  # which webhook: "sms", "sms_status", ...
    inbox = models.ForeignKey("inbox.Inbox", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    url = models.CharField(max_length=2000)
    headers = models.JSONField(default=dict)
    content_type = models.CharField(max_length=255, blank=True)
    body = models.BinaryField()
    result = models.CharField(max_length=16, choices=Result.choices, default=Result.PENDING)
    error = models.TextField(blank=True)
    attempts = models.PositiveIntegerField(default=0)
    received_at = models.DateTimeField(auto_now_add=True)
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["result", "received_at"], name="raw_result_received")]
