"""Creating Heron users for scripts, the demo and tests."""

from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.db import transaction

from inbox.models import AgentProfile, Role, Team


def create_agent(
    email: str, *, role: str, password: str | None = None, name: str = "", teams: list[str] | None = None
):
    """Create or update a user; a password must pass AUTH_PASSWORD_VALIDATORS (django's ValidationError)."""
    if role not in Role.values:
        raise ValueError(f"role must be one of {', '.join(Role.values)}")
    User = get_user_model()
    email = email.strip().lower()
    first, _, last = name.partition(" ")
    with transaction.atomic():
        user, _ = User.objects.get_or_create(username=email, defaults={"email": email})
        user.email, user.first_name, user.last_name = email, first, last
        user.is_staff = user.is_superuser = role == Role.ADMIN
        if password:
            validate_password(password, user)  # after the email and name, which it must not resemble
            user.set_password(password)
        else:
            user.set_unusable_password()
        user.save()
        profile, _ = AgentProfile.objects.update_or_create(user=user, defaults={"role": role})
        if teams:
            profile.teams.set(Team.objects.get_or_create(name=team)[0] for team in teams)
    return user


def token_for(user) -> str:
    from rest_framework.authtoken.models import Token

    return Token.objects.get_or_create(user=user)[0].key
