"""Open sockets follow what their person may see, within moments of a change.

Whatever changes it (signing out, deactivating, a role, a team, a revoked token) is a model change
or Django's sign-out signal; the receivers here tell that person's sockets (their `user_group`)
once the change has committed. Each socket then checks its own credentials again and re-joins the
groups `groups_for_user` gives now, or closes (`InboxConsumer.heron_access`). Sign-out names the
session it ends: its sockets close without asking the database, which the session may still be in
while the signal runs.

Connected by `InboxConfig.ready()`.
"""

from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_out
from django.db import transaction
from django.db.models.signals import m2m_changed, post_delete, post_save, pre_delete
from rest_framework.authtoken.models import Token

from inbox.models import AgentProfile, Team
from inbox.realtime.groups import user_group
from inbox.realtime.publish import publish

ACCESS_MESSAGE = "heron.access"


def announce(user_ids, *, ended_session: str = "") -> None:
    """Tell these people's sockets to check their access again, after the current transaction."""
    groups = [user_group(user_id) for user_id in sorted(set(user_ids)) if user_id is not None]
    if groups:
        message = {"type": ACCESS_MESSAGE, "ended_session": ended_session}
        transaction.on_commit(lambda: publish(groups, message))


def _signed_out(sender, request, user, **kwargs) -> None:
    session = getattr(request, "session", None)
    announce([getattr(user, "pk", None)], ended_session=getattr(session, "session_key", None) or "")


def _user_changed(sender, instance, **kwargs) -> None:
    announce([instance.pk])


def _profile_changed(sender, instance, **kwargs) -> None:
    announce([instance.user_id])


def _token_revoked(sender, instance, **kwargs) -> None:
    announce([instance.user_id])


def _teams_changed(sender, instance, action, reverse, pk_set, **kwargs) -> None:
    """Teams given or taken, from either side (`profile.teams` or `team.members`)."""
    if action not in ("post_add", "post_remove", "pre_clear"):
        return
    if not reverse:
        announce([instance.user_id])
    elif action == "pre_clear":  # no pk_set: everyone who is still a member
        announce(instance.members.values_list("user_id", flat=True))
    else:
        announce(AgentProfile.objects.filter(pk__in=pk_set).values_list("user_id", flat=True))


def _team_deleted(sender, instance, **kwargs) -> None:
    # Deleting a team removes its memberships without m2m_changed.
    announce(list(instance.members.values_list("user_id", flat=True)))


def connect() -> None:
    user_model = get_user_model()
    user_logged_out.connect(_signed_out, dispatch_uid="heron-access-signed-out")
    for name, signal in (("saved", post_save), ("deleted", post_delete)):
        signal.connect(_user_changed, sender=user_model, dispatch_uid=f"heron-access-user-{name}")
        signal.connect(_profile_changed, sender=AgentProfile, dispatch_uid=f"heron-access-profile-{name}")
    post_delete.connect(_token_revoked, sender=Token, dispatch_uid="heron-access-token")
    m2m_changed.connect(_teams_changed, sender=AgentProfile.teams.through, dispatch_uid="heron-access-teams")
    pre_delete.connect(_team_deleted, sender=Team, dispatch_uid="heron-access-team-deleted")
