"""System checks on Heron's secrets. Outside DEBUG, the development values in config/settings.py are
public (they are in the source): with them anyone could forge sessions and signed webhooks and read
the inbox credentials. `manage.py check` runs these checks (every management command does); config/asgi.py
and config/celery.py run them before a process serves, since Django runs system checks only for
management commands."""

import sys

from django.conf import settings
from django.core.checks import Error
from django.core.exceptions import ImproperlyConfigured

from inbox.credential_keys import GENERATE_KEY, configured_keys, derived_key, fernets

GENERATE = {
    "SECRET_KEY": 'python -c "from django.core.management.utils import get_random_secret_key; '
                  'print(get_random_secret_key())"',
    "FIELD_ENCRYPTION_KEY": GENERATE_KEY,
    "ANYMAIL_WEBHOOK_SECRET": "python -c \"import secrets; print('heron:' + secrets.token_urlsafe(32))\"",
}


def check_secrets(app_configs=None, **kwargs) -> list[Error]:
    errors = []
    keys = configured_keys()
    try:
        fernets(keys)
    except ImproperlyConfigured as exc:
        errors.append(Error(str(exc), id="heron.E004"))
    if settings.DEBUG:
        return errors
    development = settings.DEVELOPMENT_SECRETS
    if settings.SECRET_KEY == development["SECRET_KEY"]:
        errors.append(_refused("SECRET_KEY", "heron.E001"))
    if not keys or derived_key(development["SECRET_KEY"]) in keys:
        errors.append(_refused("FIELD_ENCRYPTION_KEY", "heron.E002"))
    if settings.ANYMAIL.get("WEBHOOK_SECRET") in (None, "", development["ANYMAIL_WEBHOOK_SECRET"]):
        errors.append(_refused("ANYMAIL_WEBHOOK_SECRET", "heron.E003"))
    return errors


def _refused(name: str, id: str) -> Error:
    return Error(f"{name} is not set, or is the development value from the source (DEBUG is off).",
                 hint=f"Set it in the environment; generate one with: {GENERATE[name]}", id=id)


def refuse_unsafe_start() -> None:
    """Exit before serving when check_secrets finds an error, saying what to set and how."""
    errors = check_secrets()
    if not errors:
        return
    lines = ["Heron refuses to start:"]
    for error in errors:
        lines += [f"  {error.id}: {error.msg}"] + ([f"    {error.hint}"] if error.hint else [])
    print("\n".join(lines), file=sys.stderr, flush=True)
    # uvicorn's and gunicorn's exit status for a worker that failed to boot: their supervisors
    # (`--workers N`) then stop, instead of starting it again and again.
    raise SystemExit(3)
