import json

from cryptography.fernet import InvalidToken
from django.db import models

from inbox.credential_keys import credential_fernet


class Channel(models.TextChoices):
    SMS = "sms"
    VOICE = "voice"
    EMAIL = "email"
    GOOGLE_BUSINESS = "google_business"
    GOOGLE_REVIEWS = "google_reviews"
    SIMULATOR = "simulator"


class Inbox(models.Model):
    """One configured channel endpoint: a Twilio number, an email address, a Google agent."""

    name = models.CharField(max_length=100)
    channel = models.CharField(max_length=32, choices=Channel.choices)
    # The address customers write to: E.164 number, email address, Google agent id...
    address = models.CharField(max_length=320)
    team = models.ForeignKey("inbox.Team", null=True, blank=True, on_delete=models.SET_NULL, related_name="inboxes")
    # Fernet-encrypted JSON (inbox/credential_keys.py); read and write through `credentials`.
    encrypted_credentials = models.BinaryField(default=b"", editable=False)
    settings = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["channel", "address"], name="inbox_unique_channel_address")]
        verbose_name_plural = "inboxes"

    def __str__(self) -> str:
        return f"{self.name} ({self.channel})"

    @property
    def credentials(self) -> dict:
        """Decrypted once per loaded row (and again after a change): webhooks check them on every
        request, and an inbox may be kept in memory for them (inbox/inbox_cache.py)."""
        token = bytes(self.encrypted_credentials or b"")
        if not token:
            return {}
        decrypted = self.__dict__.get("_decrypted_credentials")
        if decrypted is None or decrypted[0] != token:
            try:
                decrypted = (token, json.loads(credential_fernet().decrypt(token)))
            except InvalidToken:
                decrypted = (token, {})
            self.__dict__["_decrypted_credentials"] = decrypted
        return dict(decrypted[1])

    @credentials.setter
    def credentials(self, value: dict) -> None:
        self.encrypted_credentials = credential_fernet().encrypt(json.dumps(value).encode())
