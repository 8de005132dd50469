"""The keys inbox credentials are encrypted with.

FIELD_ENCRYPTION_KEY holds Fernet keys, comma-separated, newest first: the first encrypts, any of
them decrypts (cryptography's MultiFernet). A new key goes in front of the old ones, then
`manage.py rotate_credential_keys` re-encrypts what is stored, and the old ones can go.
"""

import base64
import hashlib

from cryptography.fernet import Fernet, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

GENERATE_KEY = 'python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())"'


def configured_keys() -> list[str]:
    return [key.strip() for key in settings.FIELD_ENCRYPTION_KEY.split(",") if key.strip()]


def derived_key(secret_key: str) -> str:
    """The key `make run` uses when none is set. Under DEBUG only: SECRET_KEY's development value is
    in the source, and so would be every key derived from it."""
    return base64.urlsafe_b64encode(hashlib.sha256(secret_key.encode()).digest()).decode()


def fernets(keys: list[str]) -> list[Fernet]:
    """One Fernet per key; a key that is not one is named by its place in the list, never shown."""
    made, invalid = [], []
    for place, key in enumerate(keys, 1):
        try:
            made.append(Fernet(key))
        except ValueError:
            invalid.append(str(place))
    if invalid:
        raise ImproperlyConfigured(
            f"FIELD_ENCRYPTION_KEY: key {', '.join(invalid)} of {len(keys)} is not a Fernet key "
            f"(32 url-safe base64-encoded bytes); generate one with: {GENERATE_KEY}"
        )
    return made


def credential_fernet() -> MultiFernet:
    keys = configured_keys() or ([derived_key(settings.SECRET_KEY)] if settings.DEBUG else [])
    if not keys:
        raise ImproperlyConfigured(f"FIELD_ENCRYPTION_KEY is not set; generate a key with: {GENERATE_KEY}")
    return MultiFernet(fernets(keys))
