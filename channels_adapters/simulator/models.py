from django.db import models


class SimulatedSend(models.Model):
    """The simulator provider's outbox: what Heron asked it to send."""

    external_id = models.CharField(max_length=64, unique=True)
    inbox_address = models.CharField(max_length=320)
    to = models.CharField(max_length=320)
    text = models.TextField(blank=True)
    subject = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
