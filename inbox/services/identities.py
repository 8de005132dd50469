"""Normalizing the ways a customer can be reached, so one person is one contact."""

from functools import lru_cache

import phonenumbers
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from inbox.models import IdentityKind

# Channel → the identity kind a reply on that channel is addressed to.
CHANNEL_IDENTITY_KIND = {
    "sms": IdentityKind.PHONE,
    "voice": IdentityKind.PHONE,
    "email": IdentityKind.EMAIL,
    "google_business": IdentityKind.GOOGLE_BUSINESS,
    "google_reviews": IdentityKind.GOOGLE_REVIEW,
    "simulator": IdentityKind.SIMULATOR,
}


class InvalidIdentity(ValueError):
    pass


def normalize_phone(value: str, default_region: str | None = None) -> str:
    """E.164, so "+1 (555) 867-5310" and "+15558675310" are the same person."""
    return _e164(value or "", default_region or getattr(settings, "HERON_DEFAULT_PHONE_REGION", "US"))


@lru_cache(maxsize=10_000)
def _e164(value: str, region: str) -> str:
    """Cached: every webhook names the same few numbers again, and parsing one is a tenth of
    accepting an SMS."""
    raw = value.strip()
    if raw.lower().startswith(("whatsapp:", "tel:", "sms:")):
        raw = raw.split(":", 1)[1]
    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException as exc:
        raise InvalidIdentity(f"{value!r} is not a phone number") from exc
    if not phonenumbers.is_possible_number(number):
        raise InvalidIdentity(f"{value!r} is not a possible phone number")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


@lru_cache(maxsize=10_000)
def format_phone(e164: str) -> str:
    """"+15558675310" → "+1 555-867-5310", for people to read (every new contact's first name)."""
    try:
        return phonenumbers.format_number(phonenumbers.parse(e164), phonenumbers.PhoneNumberFormat.INTERNATIONAL)
    except phonenumbers.NumberParseException:
        return e164


def normalize_email(value: str) -> str:
    address = (value or "").strip().lower()
    try:
        validate_email(address)
    except ValidationError as exc:
        raise InvalidIdentity(f"{value!r} is not an email address") from exc
    return address


def normalize_identity(kind: str, value: str) -> str:
    if kind == IdentityKind.PHONE:
        return normalize_phone(value)
    if kind == IdentityKind.EMAIL:
        return normalize_email(value)
    value = (value or "").strip()
    if not value or len(value) > 320:
        raise InvalidIdentity(f"{kind} identity must be 1–320 characters")
    return value
