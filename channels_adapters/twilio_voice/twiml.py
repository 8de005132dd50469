"""What Heron tells Twilio to do with a call (TwiML, built with twilio.twiml.voice_response)."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpResponse
from twilio.twiml.voice_response import Dial, VoiceResponse

from channels_adapters.twilio_voice import (
    DIAL_COMPLETE_PATH,
    RECORDED_QUERY,
    RECORDING_PATH,
    TRANSCRIPTION_PATH,
)
from inbox.services.identities import InvalidIdentity, normalize_phone

DEFAULT_RING_TIMEOUT = 20
DEFAULT_GREETING = "Sorry, nobody can take your call right now. Please leave a message after the beep."
# Twilio transcribes recordings of 2 to 120 seconds.
MAX_VOICEMAIL_SECONDS = 120


def absolute(path: str) -> str:
    return settings.PUBLIC_BASE_URL + path


def xml(response: VoiceResponse) -> HttpResponse:
    return HttpResponse(str(response), content_type="text/xml")


def ring_timeout(inbox_settings: dict) -> int:
    try:
        value = int(inbox_settings.get("ring_timeout", DEFAULT_RING_TIMEOUT))
    except (TypeError, ValueError):
        return DEFAULT_RING_TIMEOUT
    return min(max(value, 5), 600)


def _strings(inbox_settings: dict, key: str) -> list[str]:
    value = inbox_settings.get(key) or []
    if isinstance(value, str):
        value = [value]
    return [v.strip() for v in value if isinstance(v, str) and v.strip()] if isinstance(value, list) else []


def targets(inbox_settings: dict) -> tuple[list[str], list[str]]:
    """(browser client identities, forwarding numbers in E.164); settings that make no sense are skipped."""
    numbers = []
    for raw in _strings(inbox_settings, "forward_to"):
        try:
            numbers.append(normalize_phone(raw))
        except InvalidIdentity:
            continue
    return _strings(inbox_settings, "client_identities"), numbers


def answer(inbox_settings: dict) -> VoiceResponse:
    """A call comes in: ring the agents (browser clients and forwarding numbers together), else voicemail."""
    clients, numbers = targets(inbox_settings)
    if not clients and not numbers:
        return voicemail(inbox_settings)
    response = VoiceResponse()
    dial = Dial(action=absolute(DIAL_COMPLETE_PATH), method="POST", timeout=ring_timeout(inbox_settings))
    for identity in clients:
        dial.client(identity)
    for number in numbers:
        dial.number(number)
    response.append(dial)
    return response


def voicemail(inbox_settings: dict) -> VoiceResponse:
    greeting = inbox_settings.get("voicemail_greeting")
    response = VoiceResponse()
    response.say(greeting if isinstance(greeting, str) and greeting.strip() else DEFAULT_GREETING)
    response.record(
        action=absolute(f"{DIAL_COMPLETE_PATH}?{RECORDED_QUERY}"), method="POST",
        max_length=MAX_VOICEMAIL_SECONDS, finish_on_key="#", play_beep=True,
        transcribe=True, transcribe_callback=absolute(TRANSCRIPTION_PATH),
        recording_status_callback=absolute(RECORDING_PATH), recording_status_callback_method="POST",
        recording_status_callback_event="completed absent",
    )
    # Reached only when the caller recorded nothing (Twilio skips to here without calling the action).
    response.say("No message was recorded. Goodbye.")
    response.hangup()
    return response


def hangup() -> VoiceResponse:
    response = VoiceResponse()
    response.hangup()
    return response


def empty() -> VoiceResponse:
    return VoiceResponse()
