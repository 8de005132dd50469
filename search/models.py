from django.conf import settings
from django.db import models

# Longer queries are refused with a 400 that says so (search.query.QueryTooLong).
MAX_QUERY_LENGTH = 500


class SavedView(models.Model):
    """A search and its list filters kept under a name: its owner's, or shared with a team.

    What it finds is always read through the reader's own visibility (`search.selectors`): a
    shared view shows each member only what they may see, and counts only that."""

    name = models.CharField(max_length=100)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    team = models.ForeignKey("inbox.Team", null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    q = models.CharField(max_length=MAX_QUERY_LENGTH, blank=True)
    # The conversation list's filters (status, channel, inbox, team, assignee, label, priority,
    # since, until), as query parameters.
    filters = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return self.name
