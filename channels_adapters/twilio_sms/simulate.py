"""`manage.py simulate sms --from +15558675310 --to +15017122661 --text "..." [--media FILE]`

Posts the webhook Twilio would post for an incoming SMS/MMS, signed with the inbox's auth token,
to the running server (PUBLIC_BASE_URL). Media files are handed to the local fake Twilio REST API
(/simulator/twilio/, on when HERON_FAKE_PROVIDERS / DEBUG is set), which serves them behind
Basic Auth the way api.twilio.com does.
"""

from __future__ import annotations

import json
import mimetypes
import shutil
import uuid
from pathlib import Path

import httpx
from django.conf import settings
from django.core.management.base import CommandError

from channels_adapters import twilio_common
from channels_adapters.twilio_sms import INBOUND_PATH
from inbox.models import Inbox
from inbox.services.identities import InvalidIdentity, normalize_phone

FAKE_TWILIO_PREFIX = "/simulator/twilio"


def add_arguments(parser) -> None:
    parser.add_argument("--from", dest="sender", default="+15558675310", help="Customer phone number")
    parser.add_argument("--to", default="", help="SMS inbox number (default: the first SMS inbox)")
    parser.add_argument("--text", default="", help="Message body")
    parser.add_argument("--media", action="append", default=[], metavar="FILE", help="Attach a file (repeatable)")
    parser.add_argument("--sid", default="", help="MessageSid to use (repeat one to simulate a retry)")


def media_dir() -> Path:
    return Path(settings.MEDIA_ROOT) / "fake-twilio"


def stage_media(path: str, account_sid: str, message_sid: str) -> tuple[str, str]:
    """Hand a file to the fake Twilio media store; returns (MediaUrl, content type)."""
    source = Path(path)
    if not source.is_file():
        raise CommandError(f"{path} is not a file")
    content_type = mimetypes.guess_type(source.name)[0] or "application/octet-stream"
    media_sid = f"ME{uuid.uuid4().hex}"
    media_dir().mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, media_dir() / media_sid)
    (media_dir() / f"{media_sid}.json").write_text(
        json.dumps({"account_sid": account_sid, "content_type": content_type})
    )
    url = (f"{settings.PUBLIC_BASE_URL}{FAKE_TWILIO_PREFIX}/2010-04-01/Accounts/{account_sid}"
           f"/Messages/{message_sid}/Media/{media_sid}")
    return url, content_type


def find_inbox(number: str) -> Inbox:
    inboxes = Inbox.objects.filter(channel="sms").order_by("id")
    if not number:
        inbox = inboxes.first()
        if inbox is None:
            raise CommandError("There is no SMS inbox; create one (see docs/twilio.md) or run seed_demo.")
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
    raise CommandError(f"No SMS inbox has the number {wanted}")


def build_params(inbox: Inbox, options: dict) -> dict[str, str]:
    credentials = inbox.credentials
    account_sid = credentials.get("account_sid", "")
    media = options.get("media") or []
    message_sid = options.get("sid") or f"{'MM' if media else 'SM'}{uuid.uuid4().hex}"
    params = {
        "MessageSid": message_sid, "SmsMessageSid": message_sid, "SmsSid": message_sid,
        "AccountSid": account_sid, "From": options["sender"], "To": normalize_phone(inbox.address),
        "Body": options.get("text") or "", "NumMedia": str(len(media)), "NumSegments": "1",
        "SmsStatus": "received", "ApiVersion": "2010-04-01",
    }
    if credentials.get("messaging_service_sid"):
        params["MessagingServiceSid"] = credentials["messaging_service_sid"]
    for index, path in enumerate(media):
        params[f"MediaUrl{index}"], params[f"MediaContentType{index}"] = stage_media(path, account_sid, message_sid)
    return params


def run(options: dict) -> httpx.Response:
    inbox = find_inbox(options.get("to") or "")
    params = build_params(inbox, options)
    url = settings.PUBLIC_BASE_URL + INBOUND_PATH
    signature = twilio_common.sign(url, params, inbox.credentials.get("auth_token", ""))
    return httpx.post(
        url, data=params, timeout=60,
        headers={twilio_common.SIGNATURE_HEADER: signature, "I-Twilio-Idempotency-Token": str(uuid.uuid4()),
                 "User-Agent": "TwilioProxy/1.1 (heron simulate)"},
    )
