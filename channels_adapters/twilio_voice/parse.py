"""Twilio Voice webhook bodies (form-encoded, as stored raw) → plain values for inbox.services.calls.

Strict like the SMS parser: a body that is not UTF-8 form data, a missing or malformed SID, or a
caller that is not a phone number is a BadPayload (the webhook answers 400; the raw event is kept).
"""

from __future__ import annotations

from dataclasses import dataclass

from channels_adapters.base import SenderIdentity
from channels_adapters.twilio_common import param, valid_http_url, valid_phone, valid_sid
from inbox.services.raw_events import BadPayload

MAX_TRANSCRIPT_CHARS = 10_000

# Twilio CallStatus (and DialCallStatus) → the vocabulary of inbox.services.calls.STATUS_RANK.
CALL_STATUSES = {
    "queued": "queued", "initiated": "initiated", "ringing": "ringing", "in-progress": "in-progress",
    "answered": "in-progress", "completed": "completed", "busy": "busy", "no-answer": "no-answer",
    "canceled": "canceled", "failed": "failed",
}
# DialCallStatus values meaning an agent picked up (the call is over when the action is requested).
ANSWERED_DIAL_STATUSES = frozenset({"completed", "answered"})


def get(params: dict[str, list[str]], name: str, *, required: bool = False, limit: int = 255) -> str:
    """The first value of a parameter, stripped."""
    return param(params, name, required=required, limit=limit).strip()


def sid(params: dict[str, list[str]], name: str, *, required: bool = True) -> str:
    value = get(params, name, required=required, limit=64)
    return valid_sid(value, name) if value else value


def seconds(params: dict[str, list[str]], name: str) -> int | None:
    value = get(params, name, limit=10)
    if not value:
        return None
    try:
        number = int(value)
    except ValueError as exc:
        raise BadPayload(f"'{name}' is not a number of seconds") from exc
    if not 0 <= number <= 7 * 24 * 3600:
        raise BadPayload(f"'{name}' is out of range")
    return number


def phone(params: dict[str, list[str]], name: str) -> str:
    return valid_phone(get(params, name, required=True, limit=64), name)


def https_url(params: dict[str, list[str]], name: str) -> str:
    return valid_http_url(get(params, name, required=True, limit=1000), name)


def status(params: dict[str, list[str]], name: str) -> tuple[str, str]:
    """(normalized status or "", raw status) — an unknown value is kept raw and moves nothing."""
    raw = get(params, name, limit=32)
    return CALL_STATUSES.get(raw.lower(), ""), raw


@dataclass(frozen=True)
class Call:
    """The parameters every call webhook carries."""

    call_sid: str
    caller: SenderIdentity | None  # None when the request does not say who called (recording callbacks)
    status: str
    provider_status: str
    duration: int | None


def call(params: dict[str, list[str]], *, caller_required: bool) -> Call:
    call_sid = sid(params, "CallSid")
    caller = None
    if caller_required or get(params, "From", limit=64):
        caller = SenderIdentity(kind="phone", value=phone(params, "From"),
                                display_name=get(params, "CallerName", limit=200))
    normalized, raw = status(params, "CallStatus")
    return Call(call_sid=call_sid, caller=caller, status=normalized, provider_status=raw,
                duration=seconds(params, "CallDuration"))


@dataclass(frozen=True)
class Recording:
    call_sid: str
    recording_sid: str
    url: str
    status: str  # completed | absent | failed | in-progress
    duration: int | None


def recording(params: dict[str, list[str]]) -> Recording:
    recording_status = get(params, "RecordingStatus", required=True, limit=32).lower()
    return Recording(
        call_sid=sid(params, "CallSid"),
        recording_sid=sid(params, "RecordingSid"),
        url=https_url(params, "RecordingUrl") if recording_status == "completed" else get(params, "RecordingUrl",
                                                                                          limit=1000),
        status=recording_status,
        duration=seconds(params, "RecordingDuration"),
    )


@dataclass(frozen=True)
class Transcription:
    call_sid: str
    recording_sid: str
    text: str
    status: str  # completed | failed


def transcription(params: dict[str, list[str]]) -> Transcription:
    transcription_status = get(params, "TranscriptionStatus", required=True, limit=32).lower()
    if transcription_status not in ("completed", "failed"):
        raise BadPayload("'TranscriptionStatus' must be completed or failed")
    call_sid = sid(params, "CallSid", required=False)
    recording_sid = sid(params, "RecordingSid", required=not call_sid)
    return Transcription(
        call_sid=call_sid, recording_sid=recording_sid, status=transcription_status,
        text=get(params, "TranscriptionText", limit=MAX_TRANSCRIPT_CHARS),
    )
