"""`manage.py simulate voice --from +15558675310 --to +15017122661 [--voicemail-text "..."] [--duration 23]`

Plays Twilio's part in a missed call that leaves a voicemail, against the running server
(PUBLIC_BASE_URL), with every webhook signed by the inbox's auth token. It follows Heron's own
TwiML answers, as Twilio does:

1. POST /webhooks/twilio/voice/ (a call comes in) → <Dial action=…> (or straight to voicemail)
2. POST the Dial action (dial-complete) with DialCallStatus=no-answer → <Record …>
3. POST the Record action (the caller stopped talking) → <Hangup/>
4. POST the recordingStatusCallback (completed), RecordingUrl pointing at the local fake Twilio
   (/simulator/twilio/, HERON_FAKE_PROVIDERS), which serves the audio behind Basic Auth
5. POST the transcribeCallback (when --voicemail-text is given; Twilio's transcription is optional)
6. POST /webhooks/twilio/voice/status/ with CallStatus=completed and the call's duration

Returns the first response that failed, else the last one.
"""

from __future__ import annotations

import json
import uuid
import xml.etree.ElementTree as ET
from email.utils import formatdate

import httpx
from django.conf import settings

from channels_adapters import twilio_simulate
from channels_adapters.twilio_voice import STATUS_PATH, VOICE_PATH
from inbox.models import Inbox
from inbox.services.identities import normalize_phone

GREETING_SECONDS = 8


def add_arguments(parser) -> None:
    parser.add_argument("--from", dest="sender", default="+15558675310", help="Caller's phone number")
    parser.add_argument("--to", default="", help="Voice inbox number (default: the first voice inbox)")
    parser.add_argument("--voicemail-text", dest="voicemail_text", default="",
                        help="What the caller says (sent as Twilio's transcription)")
    parser.add_argument("--duration", type=int, default=23, help="Voicemail length in seconds")
    parser.add_argument("--sid", default="", help="CallSid to use (repeat one to simulate retries)")


def stage_recording(account_sid: str, recording_sid: str, duration: int) -> str:
    """Tell the local fake Twilio about the recording; returns its RecordingUrl (no extension, like Twilio)."""
    folder = twilio_simulate.fake_twilio_folder()
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{recording_sid}.json").write_text(json.dumps({"account_sid": account_sid, "duration": duration}))
    return twilio_simulate.fake_twilio_url(account_sid, f"Recordings/{recording_sid}")


def call_params(inbox: Inbox, call_sid: str, caller: str, status: str) -> dict[str, str]:
    """What Twilio sends with every request about an inbound call (samples.md, "Inbound call")."""
    to = normalize_phone(inbox.address)
    return {
        "AccountSid": inbox.credentials.get("account_sid", ""), "ApiVersion": "2010-04-01", "CallSid": call_sid,
        "CallStatus": status, "Called": to, "Caller": caller, "Direction": "inbound", "From": caller, "To": to,
        "FromCountry": "US", "ToCountry": "US",
    }


class Twilio:
    """Posts signed requests and remembers the first failure."""

    def __init__(self, token: str):
        self.token = token
        self.failed: httpx.Response | None = None
        self.last: httpx.Response | None = None

    def post(self, url: str, params: dict[str, str]) -> ET.Element | None:
        if self.failed is not None:
            return None
        response = httpx.post(url, data=params, timeout=60,
                              headers=twilio_simulate.signed_headers(url, params, self.token))
        self.last = response
        if response.status_code >= 400:
            self.failed = response
            return None
        if response.headers.get("Content-Type", "").startswith("text/xml") and response.content:
            try:
                return ET.fromstring(response.content)
            except ET.ParseError:
                return None
        return None


def run(options: dict) -> httpx.Response:
    inbox = twilio_simulate.find_phone_inbox("voice", options.get("to") or "", label="voice",
                                             guide="docs/voice.md")
    credentials = inbox.credentials
    caller = normalize_phone(options.get("sender") or "+15558675310")
    duration = max(int(options.get("duration") or 23), 1)
    call_sid = options.get("sid") or f"CA{uuid.uuid4().hex}"
    twilio = Twilio(credentials.get("auth_token", ""))

    # 1. The phone rings.
    answer = twilio.post(settings.PUBLIC_BASE_URL + VOICE_PATH, call_params(inbox, call_sid, caller, "ringing"))
    record = answer.find("Record") if answer is not None else None
    dial = answer.find("Dial") if answer is not None else None
    # 2. Nobody picks up: Twilio requests the Dial action and follows the voicemail TwiML it gets.
    if dial is not None and dial.get("action"):
        params = {**call_params(inbox, call_sid, caller, "in-progress"), "DialCallStatus": "no-answer",
                  "DialCallSid": f"CA{uuid.uuid4().hex}", "DialCallDuration": "0", "DialBridged": "false"}
        after_dial = twilio.post(dial.get("action"), params)
        record = after_dial.find("Record") if after_dial is not None else None
    if record is None:
        return twilio.failed or twilio.last

    # 3. The caller leaves a message; the Record action ends the call.
    recording_sid = f"RE{uuid.uuid4().hex}"
    recording_url = stage_recording(credentials.get("account_sid", ""), recording_sid, duration)
    if record.get("action"):
        twilio.post(record.get("action"), {**call_params(inbox, call_sid, caller, "completed"),
                                           "RecordingUrl": recording_url, "RecordingSid": recording_sid,
                                           "RecordingDuration": str(duration), "Digits": "hangup"})
    # 4. The recording is ready.
    if record.get("recordingStatusCallback"):
        twilio.post(record.get("recordingStatusCallback"), {
            "AccountSid": credentials.get("account_sid", ""), "CallSid": call_sid, "RecordingSid": recording_sid,
            "RecordingUrl": recording_url, "RecordingStatus": "completed", "RecordingDuration": str(duration),
            "RecordingChannels": "1", "RecordingSource": "RecordVerb", "ErrorCode": "0",
            "RecordingStartTime": formatdate(usegmt=True),
        })
    # 5. Its transcription.
    text = options.get("voicemail_text") or ""
    if text and record.get("transcribeCallback"):
        twilio.post(record.get("transcribeCallback"), {
            **call_params(inbox, call_sid, caller, "completed"), "TranscriptionSid": f"TR{uuid.uuid4().hex}",
            "TranscriptionText": text, "TranscriptionStatus": "completed", "TranscriptionType": "fast",
            "TranscriptionUrl": f"https://api.twilio.com/2010-04-01/Accounts/{credentials.get('account_sid', '')}"
                                f"/Transcriptions/TR{uuid.uuid4().hex}",
            "RecordingSid": recording_sid, "RecordingUrl": recording_url,
        })
    # 6. The call is over.
    twilio.post(settings.PUBLIC_BASE_URL + STATUS_PATH, {
        **call_params(inbox, call_sid, caller, "completed"), "CallDuration": str(duration + GREETING_SECONDS),
        "Duration": str(-(-(duration + GREETING_SECONDS) // 60)), "CallbackSource": "call-progress-events",
        "SequenceNumber": "0", "Timestamp": formatdate(usegmt=True),
    })
    return twilio.failed or twilio.last
