"""What `manage.py simulate sms` and `simulate voice` share: the inbox a number belongs to, the files
they stage for the local fake Twilio REST API (simulator/fake_twilio.py, on when HERON_FAKE_PROVIDERS
is set), and the headers of a request signed the way Twilio signs it.
"""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.core.management.base import CommandError

from channels_adapters import twilio_common
from inbox.models import Inbox
from inbox.services.identities import InvalidIdentity, normalize_phone

FAKE_TWILIO_PREFIX = "/simulator/twilio"


def find_phone_inbox(channel: str, number: str, *, label: str, guide: str) -> Inbox:
    """The `channel` inbox whose address is `number`, or the first one when no number is given."""
    inboxes = Inbox.objects.filter(channel=channel).order_by("id")
    if not number:
        inbox = inboxes.first()
        if inbox is None:
            raise CommandError(f"There is no {label} inbox; create one (see {guide}) or run seed_demo.")
        return inbox
    try:
        wanted = normalize_phone(number)
    except InvalidIdentity as exc:
        raise CommandError(str(exc)) from exc
    for inbox in inboxes:
        try:
            if normalize_phone(inbox.address) == wanted:
                return inbox
        except InvalidIdentity:
            continue
    raise CommandError(f"No {label} inbox has the number {wanted}")


def fake_twilio_folder() -> Path:
    """Where staged files live: `{sid}.json` (account and details) and, for media, the file `{sid}` itself."""
    return Path(settings.MEDIA_ROOT) / "fake-twilio"


def fake_twilio_url(account_sid: str, resource: str) -> str:
    """The public URL of a staged resource, e.g. `Recordings/RE…`, as api.twilio.com would name it."""
    return f"{settings.PUBLIC_BASE_URL}{FAKE_TWILIO_PREFIX}/2010-04-01/Accounts/{account_sid}/{resource}"


def signed_headers(url: str, params: dict[str, str], auth_token: str) -> dict[str, str]:
    return {
        twilio_common.SIGNATURE_HEADER: twilio_common.sign(url, params, auth_token),
        "User-Agent": "TwilioProxy/1.1 (heron simulate)",
    }
