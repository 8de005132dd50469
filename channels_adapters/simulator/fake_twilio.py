"""A fake Twilio REST API for `make run` (mounted at /simulator/twilio/ when HERON_FAKE_PROVIDERS is on).

Speaks just enough of api.twilio.com for the demo to work offline:
- POST /2010-04-01/Accounts/{AccountSid}/Messages.json (Basic Auth) → 201 with a message SID; shortly
  after it calls the StatusCallback URL with correctly signed "sent" then "delivered" callbacks.
- GET  /2010-04-01/Accounts/{AccountSid}/Messages/{MessageSid}/Media/{MediaSid} (Basic Auth) serves the
  files `manage.py simulate sms --media FILE` staged.
Tests use their own fake server (tests/fakes/twilio.py); this one is for humans.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import threading
import uuid

import httpx
from django.http import HttpResponse, JsonResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from channels_adapters.twilio_common import SIGNATURE_HEADER, sign
from channels_adapters.twilio_simulate import fake_twilio_folder
from inbox.models import Inbox

log = logging.getLogger("heron.simulator")

CALLBACK_DELAY_SECONDS = 0.7


def _basic_auth(request) -> tuple[str, str] | None:
    header = request.headers.get("Authorization", "")
    if not header.startswith("Basic "):
        return None
    try:
        username, _, password = base64.b64decode(header[6:]).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None
    return username, password


def _account_token_ok(account_sid: str, auth: tuple[str, str] | None) -> bool:
    """Twilio's check: Basic AccountSid:AuthToken of an account we know (an SMS inbox's credentials)."""
    if auth is None or auth[0] != account_sid:
        return False
    return any(
        inbox.credentials.get("account_sid") == account_sid and inbox.credentials.get("auth_token") == auth[1]
        for inbox in Inbox.objects.filter(channel="sms")
    )


def _error(status: int, code: int, message: str) -> JsonResponse:
    return JsonResponse({"code": code, "message": message, "more_info": f"https://www.twilio.com/docs/errors/{code}",
                         "status": status}, status=status)


@csrf_exempt
@require_POST
def messages(request, account_sid: str):
    auth = _basic_auth(request)
    if not _account_token_ok(account_sid, auth):
        return _error(401, 20003, "Authenticate")
    to, sender, service = request.POST.get("To", ""), request.POST.get("From", ""), request.POST.get(
        "MessagingServiceSid", "")
    body, media = request.POST.get("Body", ""), request.POST.getlist("MediaUrl")
    if not to:
        return _error(400, 21604, "A 'To' phone number is required.")
    if not sender and not service:
        return _error(400, 21603, "A 'From' phone number is required.")
    if not body and not media:
        return _error(400, 21602, "Message body is required.")
    if not sender:
        inbox = next((i for i in Inbox.objects.filter(channel="sms")
                      if i.credentials.get("messaging_service_sid") == service), None)
        sender = inbox.address if inbox else ""
    sid = f"{'MM' if media else 'SM'}{uuid.uuid4().hex}"
    callback = request.POST.get("StatusCallback", "")
    if callback:
        params = {"MessageSid": sid, "SmsSid": sid, "AccountSid": account_sid, "From": sender, "To": to,
                  "ApiVersion": "2010-04-01"}
        if service:
            params["MessagingServiceSid"] = service
        timer = threading.Timer(CALLBACK_DELAY_SECONDS, _report, args=(callback, params, auth[1]))
        timer.daemon = True
        timer.start()
    return JsonResponse({
        "sid": sid, "account_sid": account_sid, "to": to, "from": sender, "body": body, "status": "queued",
        "messaging_service_sid": service or None, "num_segments": str(max(1, -(-len(body) // 153))),
        "num_media": str(len(media)), "direction": "outbound-api", "api_version": "2010-04-01",
        "error_code": None, "error_message": None,
        "uri": f"/2010-04-01/Accounts/{account_sid}/Messages/{sid}.json",
    }, status=201)


def _report(callback: str, params: dict, auth_token: str) -> None:
    """Twilio's status callbacks: sent, then delivered, each signed like the real ones."""
    for status in ("sent", "delivered"):
        data = {**params, "MessageStatus": status, "SmsStatus": status}
        try:
            httpx.post(callback, data=data, timeout=10,
                       headers={SIGNATURE_HEADER: sign(callback, data, auth_token)})
        except httpx.HTTPError as exc:
            log.warning("fake Twilio could not report %s for %s: %s", status, params["MessageSid"], exc)
            return
        threading.Event().wait(CALLBACK_DELAY_SECONDS)


@require_GET
def media(request, account_sid: str, message_sid: str, media_sid: str):
    folder = fake_twilio_folder()
    meta_path, file_path = folder / f"{media_sid}.json", folder / media_sid
    if not media_sid.isalnum() or not meta_path.is_file() or not file_path.is_file():
        return _error(404, 20404, "The requested resource was not found")
    meta = json.loads(meta_path.read_text())
    if meta.get("account_sid") != account_sid or not _account_token_ok(account_sid, _basic_auth(request)):
        return _error(401, 20003, "Authenticate")
    return HttpResponse(file_path.read_bytes(), content_type=meta.get("content_type", "application/octet-stream"))


# ---------------------------------------------------------------- voice recordings (twilio_voice)
# GET /2010-04-01/Accounts/{AccountSid}/Recordings/{RecordingSid}[.mp3|.wav] (Basic Auth) serves a
# recording `manage.py simulate voice` staged (fake-twilio/{RecordingSid}.json): silent MPEG audio
# for ".mp3" (audio/mpeg, like Twilio), a short tone as WAV otherwise (audio/x-wav).
def _voice_account_ok(account_sid: str, auth: tuple[str, str] | None) -> bool:
    if auth is None or auth[0] != account_sid:
        return False
    return any(
        inbox.credentials.get("account_sid") == account_sid and inbox.credentials.get("auth_token") == auth[1]
        for inbox in Inbox.objects.filter(channel__in=("sms", "voice"))
    )


def _silent_mp3(seconds: float) -> bytes:
    # MPEG-1 Layer III, 128 kbit/s, 44.1 kHz, mono: a header and all-zero side info/data is silence.
    frame = bytes.fromhex("fffb90c4") + bytes(417 - 4)
    return frame * max(1, int(seconds * 44100 / 1152))


def _tone_wav(seconds: float) -> bytes:
    import io
    import math
    import struct
    import wave

    rate, buffer = 8000, io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(b"".join(struct.pack("<h", int(6000 * math.sin(2 * math.pi * 440 * i / rate)))
                                 for i in range(int(rate * seconds))))
    return buffer.getvalue()


@require_GET
def recording(request, account_sid: str, recording: str):
    recording_sid, _, extension = recording.partition(".")
    meta_path = fake_twilio_folder() / f"{recording_sid}.json"
    if not recording_sid.isalnum() or extension not in ("", "mp3", "wav") or not meta_path.is_file():
        return _error(404, 20404, "The requested resource was not found")
    meta = json.loads(meta_path.read_text())
    if meta.get("account_sid") != account_sid or not _voice_account_ok(account_sid, _basic_auth(request)):
        return _error(401, 20003, "Authenticate")
    seconds = min(float(meta.get("duration") or 3), 60)
    if extension == "mp3":
        return HttpResponse(_silent_mp3(seconds), content_type="audio/mpeg")
    return HttpResponse(_tone_wav(min(seconds, 3)), content_type="audio/x-wav")


urlpatterns = [
    path("2010-04-01/Accounts/<str:account_sid>/Messages.json", messages),
    path("2010-04-01/Accounts/<str:account_sid>/Messages/<str:message_sid>/Media/<str:media_sid>", media),
    path("2010-04-01/Accounts/<str:account_sid>/Recordings/<str:recording>", recording),
]
