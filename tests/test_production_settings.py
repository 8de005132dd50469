"""Outside DEBUG, Heron refuses the development secrets from its source (config/checks.py): `manage.py
check`, uvicorn and the Celery worker exit saying what to set. Inbox credentials are never encrypted
with a key derived from SECRET_KEY there, and their keys rotate (`manage.py rotate_credential_keys`)."""

from __future__ import annotations

import os
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from django.conf import settings as django_settings
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.core.management.base import CommandError

from config.checks import GENERATE
from inbox.credential_keys import derived_key
from inbox.models import Inbox
from tests.support.servers import free_port

ROOT = Path(__file__).resolve().parent.parent
SECRETS = ("SECRET_KEY", "FIELD_ENCRYPTION_KEY", "ANYMAIL_WEBHOOK_SECRET")
DEVELOPMENT_SECRET_KEY = django_settings.DEVELOPMENT_SECRETS["SECRET_KEY"]


def production_env(**changes: str | None) -> dict[str, str]:
    """Production's settings module with this run's (real) secrets; None unsets a variable."""
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings", "DEBUG": "0", "PYTHONUNBUFFERED": "1"}
    for name, value in changes.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    return env


def run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=90)


def test_check_deploy_passes_with_real_secrets():
    result = run(["manage.py", "check", "--deploy"], production_env())
    assert result.returncode == 0, result.stderr
    assert "heron.E" not in result.stderr


@pytest.mark.parametrize(("name", "value", "error"), [
    ("SECRET_KEY", None, "heron.E001"),
    ("FIELD_ENCRYPTION_KEY", None, "heron.E002"),
    ("FIELD_ENCRYPTION_KEY", derived_key(DEVELOPMENT_SECRET_KEY), "heron.E002"),
    ("ANYMAIL_WEBHOOK_SECRET", None, "heron.E003"),
], ids=["SECRET_KEY unset", "FIELD_ENCRYPTION_KEY unset", "FIELD_ENCRYPTION_KEY derived from the development key",
        "ANYMAIL_WEBHOOK_SECRET unset"])
def test_check_deploy_fails_naming_the_unsafe_setting(name, value, error):
    result = run(["manage.py", "check", "--deploy"], production_env(**{name: value}))
    assert result.returncode != 0
    assert f"({error}) {name} is not set, or is the development value" in result.stderr
    assert GENERATE[name] in result.stderr  # how to make one
    assert [other for other in SECRETS if f"{other} is not set" in result.stderr] == [name]


def test_plain_check_fails_too_and_debug_keeps_the_development_defaults():
    unset = dict.fromkeys(SECRETS)
    refused = run(["manage.py", "check"], production_env(**unset))
    assert refused.returncode != 0
    assert all(f"{name} is not set" in refused.stderr for name in SECRETS)
    assert run(["manage.py", "check"], production_env(**unset, DEBUG="1")).returncode == 0


@pytest.mark.parametrize("debug", ["0", "1"])
def test_an_invalid_encryption_key_is_a_clear_error(debug):
    keys = f"{Fernet.generate_key().decode()},not-a-fernet-key"
    result = run(["manage.py", "check"], production_env(FIELD_ENCRYPTION_KEY=keys, DEBUG=debug))
    assert result.returncode != 0
    assert "(heron.E004) FIELD_ENCRYPTION_KEY: key 2 of 2 is not a Fernet key" in result.stderr
    assert "not-a-fernet-key" not in result.stderr  # keys are never shown


def assert_refused(result: subprocess.CompletedProcess) -> None:
    assert result.returncode == 3, result.stdout + result.stderr
    assert "Heron refuses to start:\n  heron.E001: SECRET_KEY is not set" in result.stderr
    assert GENERATE["SECRET_KEY"] in result.stderr
    assert "Traceback" not in result.stderr


def test_uvicorn_refuses_to_start_with_the_development_secret_key():
    env = production_env(SECRET_KEY=DEVELOPMENT_SECRET_KEY)
    assert_refused(run(["-m", "uvicorn", "config.asgi:application", "--port", str(free_port())], env))


def test_the_celery_worker_refuses_to_start_with_the_development_secret_key():
    env = production_env(SECRET_KEY=DEVELOPMENT_SECRET_KEY)
    assert_refused(run(["-m", "celery", "-A", "config", "worker", "--pool=solo", "--without-gossip",
                        "--without-mingle", "--without-heartbeat"], env))


def test_the_encryption_key_is_derived_from_the_secret_key_under_debug_only(db, settings):
    settings.FIELD_ENCRYPTION_KEY = ""
    inbox = Inbox(name="SMS", channel="sms", address="+15005550006")
    with pytest.raises(ImproperlyConfigured, match="FIELD_ENCRYPTION_KEY is not set"):
        inbox.credentials = {"auth_token": "secret"}

    settings.DEBUG = True
    inbox.credentials = {"auth_token": "secret"}
    derived = Fernet(derived_key(settings.SECRET_KEY))
    assert derived.decrypt(bytes(inbox.encrypted_credentials)) == b'{"auth_token": "secret"}'


def stored_credentials() -> dict[str, dict]:
    return {inbox.address: inbox.credentials for inbox in Inbox.objects.order_by("pk")}


def test_rotation_re_encrypts_every_credential_with_the_newest_key(db, settings):
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.FIELD_ENCRYPTION_KEY = old
    for number, token in (("+15005550006", "one"), ("+15005550007", "two")):
        inbox = Inbox(name=number, channel="sms", address=number)
        inbox.credentials = {"auth_token": token}
        inbox.save()
    Inbox.objects.create(name="No credentials", channel="simulator", address="plain")
    written = {"+15005550006": {"auth_token": "one"}, "+15005550007": {"auth_token": "two"}, "plain": {}}

    settings.FIELD_ENCRYPTION_KEY = f"{new},{old}"
    assert stored_credentials() == written  # the old key still decrypts
    out = StringIO()
    call_command("rotate_credential_keys", stdout=out)
    assert "Re-encrypted the credentials of 2 inbox(es)" in out.getvalue()

    settings.FIELD_ENCRYPTION_KEY = new
    assert stored_credentials() == written
    settings.FIELD_ENCRYPTION_KEY = old
    assert stored_credentials() == {"+15005550006": {}, "+15005550007": {}, "plain": {}}


def test_rotation_names_credentials_no_key_can_read(db, settings):
    settings.FIELD_ENCRYPTION_KEY = Fernet.generate_key().decode()
    lost = Inbox(name="Lost", channel="sms", address="+15005550006")
    lost.credentials = {"auth_token": "one"}
    lost.save()
    settings.FIELD_ENCRYPTION_KEY = Fernet.generate_key().decode()
    kept = Inbox(name="Kept", channel="sms", address="+15005550007")
    kept.credentials = {"auth_token": "two"}
    kept.save()

    out = StringIO()
    with pytest.raises(CommandError, match=rf"left as they were: Lost \(sms\) \(id {lost.pk}\)"):
        call_command("rotate_credential_keys", stdout=out)
    assert "Re-encrypted the credentials of 1 inbox(es)" in out.getvalue()
    assert bytes(Inbox.objects.get(pk=lost.pk).encrypted_credentials) == bytes(lost.encrypted_credentials)
