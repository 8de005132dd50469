"""Channel-layer group names, derived from `inbox.selectors`' audiences (docs/realtime.md).

A socket joins its user's group, its role's group and, for an agent, one group per team; an event
goes to the groups of its audience. `tests/test_visibility_rule.py` checks that a socket hears
exactly what `selectors.visible_conversations` and `selectors.may_see_notes` let its user read.
"""

from inbox.models import Role
from inbox.selectors import Audience, role_of, team_ids_of


def team_group(team_id: int) -> str:
    return f"team.{team_id}"


def role_group(role: str) -> str:
    return f"role.{role}"


def user_group(user_id: int) -> str:
    """One person's sockets, told when what they may see changes (`realtime.access`)."""
    return f"user.{user_id}"


def groups_for(audience: Audience) -> list[str]:
    return [*(role_group(role) for role in sorted(audience.roles)),
            *(team_group(team_id) for team_id in sorted(audience.team_ids))]


def groups_for_user(user) -> list[str]:
    """What a socket of `user` listens to, as of now: none without a role."""
    role = role_of(user)
    if role is None:
        return []
    teams = team_ids_of(user) if role == Role.AGENT else []
    return [role_group(role), *(team_group(team_id) for team_id in sorted(teams))]
