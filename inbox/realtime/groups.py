"""Channel-layer group names. A socket joins the groups of what its user may see (docs/realtime.md)."""

from inbox.models import Contact, Conversation, Role
from inbox.selectors import role_of, team_ids_of

EVERYONE = "everyone"  # admins and marketers: every conversation


def team_group(team_id: int) -> str:
    return f"team.{team_id}"


def groups_for_user(user) -> list[str]:
    if role_of(user) in (Role.ADMIN, Role.MARKETER):
        return [EVERYONE]
    if role_of(user) == Role.AGENT:
        return [team_group(team_id) for team_id in team_ids_of(user)]
    return []


def groups_for_conversation(conversation: Conversation) -> list[str]:
    """Mirrors `visible_conversations`: the conversation's team and its inbox's team."""
    team_ids = {conversation.team_id, conversation.inbox.team_id} - {None}
    return [EVERYONE, *(team_group(team_id) for team_id in sorted(team_ids))]


def groups_for_contact(contact: Contact) -> list[str]:
    team_ids: set[int] = set()
    for team_id, inbox_team_id in contact.conversations.values_list("team_id", "inbox__team_id"):
        team_ids |= {team_id, inbox_team_id}
    return [EVERYONE, *(team_group(team_id) for team_id in sorted(team_ids - {None}))]
