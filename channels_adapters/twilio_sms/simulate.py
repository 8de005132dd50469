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

from channels_adapters import twilio_simulate
from channels_adapters.twilio_sms import INBOUND_PATH
from inbox.models import Inbox
from inbox.services.identities import normalize_phone


def add_arguments(parser) -> None:
    parser.add_argument("--from", dest="sender", default="+15558675310", help="Customer phone number")
    parser.add_argument("--to", default="", help="SMS inbox number (default: the first SMS inbox)")
    parser.add_argument("--text", default="", help="Message body")
    parser.add_argument("--media", action="append", default=[], metavar="FILE", help="Attach a file (repeatable)")
    parser.add_argument("--sid", default="", help="MessageSid to use (repeat one to simulate a retry)")


def stage_media(path: str, account_sid: str, message_sid: str) -> tuple[str, str]:
    """Hand a file to the fake Twilio media store; returns (MediaUrl, content type)."""
    source = Path(path)
    if not source.is_file():
        raise CommandError(f"{path} is not a file")
    content_type = mimetypes.guess_type(source.name)[0] or "application/octet-stream"
    media_sid = f"ME{uuid.uuid4().hex}"
    folder = twilio_simulate.fake_twilio_folder()
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, folder / media_sid)
    (folder / f"{media_sid}.json").write_text(
        json.dumps({"account_sid": account_sid, "content_type": content_type})
    )
    url = twilio_simulate.fake_twilio_url(account_sid, f"Messages/{message_sid}/Media/{media_sid}")
    return url, content_type


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
    inbox = twilio_simulate.find_phone_inbox("sms", options.get("to") or "", label="SMS",
                                             guide="docs/twilio.md")
    params = build_params(inbox, options)
    url = settings.PUBLIC_BASE_URL + INBOUND_PATH
    headers = twilio_simulate.signed_headers(url, params, inbox.credentials.get("auth_token", ""))
    return httpx.post(url, data=params, timeout=60,
                      headers={**headers, "I-Twilio-Idempotency-Token": str(uuid.uuid4())})
