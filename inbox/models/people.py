from django.conf import settings
from django.db import models


class Role(models.TextChoices):
    ADMIN = "admin"
    AGENT = "agent"
    MARKETER = "marketer"


class Team(models.Model):
    name = models.CharField(max_length=100, unique=True)

    def __str__(self) -> str:
        return self.name


class AgentProfile(models.Model):
    """Heron's view of a Django user: a role and the teams whose inboxes they work."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="heron")
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.AGENT)
    teams = models.ManyToManyField(Team, blank=True, related_name="members")

    def __str__(self) -> str:
        return f"{self.user} ({self.role})"


class CannedResponse(models.Model):
    shortcut = models.SlugField(max_length=50, unique=True)
    text = models.TextField()

    def __str__(self) -> str:
        return self.shortcut
