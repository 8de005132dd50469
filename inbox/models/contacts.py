from django.db import models


class IdentityKind(models.TextChoices):
    PHONE = "phone"
    EMAIL = "email"
    GOOGLE_BUSINESS = "google_business"
    GOOGLE_REVIEW = "google_review"
    SIMULATOR = "simulator"


class Contact(models.Model):
    name = models.CharField(max_length=200, blank=True)
    # The same labels as conversations: a trait of the customer (vip, churn-risk) rather than of one thread.
    labels = models.ManyToManyField("inbox.Label", blank=True, related_name="contacts")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return self.name or f"Contact {self.pk}"


class Identity(models.Model):
    """One way to reach a contact. `value` is normalized (E.164, lower-cased email) so it is unique."""

    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="identities")
    kind = models.CharField(max_length=32, choices=IdentityKind.choices)
    value = models.CharField(max_length=320)
    display_name = models.CharField(max_length=200, blank=True)
    opted_out = models.BooleanField(default=False)
    opted_out_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["kind", "value"], name="identity_unique_kind_value")]
        verbose_name_plural = "identities"

    def __str__(self) -> str:
        return f"{self.kind}:{self.value}"


class ContactMerge(models.Model):
    """Remembers what a merge moved, so it can be undone exactly."""

    into = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="merges")
    merged_contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="merged_into")
    identity_ids = models.JSONField(default=list)
    conversation_ids = models.JSONField(default=list)
    message_ids = models.JSONField(default=list)
    # Labels the merge added to `into` (it had them not before), taken off again by an un-merge.
    label_ids = models.JSONField(default=list)
    created_at = models.DateTimeField(auto_now_add=True)
    undone_at = models.DateTimeField(null=True, blank=True)
