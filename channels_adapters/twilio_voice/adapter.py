from urllib.parse import urlsplit, urlunsplit

from channels_adapters import twilio_common
from channels_adapters.base import OutboundMessage, PermanentSendError, SendResult
from channels_adapters.twilio_voice import (
    DIAL_COMPLETE_PATH,
    RECORDING_PATH,
    STATUS_PATH,
    TRANSCRIPTION_PATH,
    VOICE_PATH,
)


def recording_audio_url(url: str) -> str:
    """Twilio's RecordingUrl has no extension; with ".mp3" it serves audio/mpeg (small, plays everywhere)."""
    parts = urlsplit(url)
    if parts.path.lower().endswith((".mp3", ".wav")):
        return url
    return urlunsplit(parts._replace(path=parts.path + ".mp3"))


class TwilioVoiceAdapter:
    """Incoming calls on a Twilio number: ring agents, else voicemail with transcription."""

    channel = "voice"
    # Paste "voice" as the number's "A call comes in" webhook and "status" as its "Call status changes"
    # callback (both HTTP POST). The other three are set by Heron's TwiML on every call.
    webhook_paths = {
        "voice": VOICE_PATH,
        "status": STATUS_PATH,
        "dial_complete": DIAL_COMPLETE_PATH,
        "recording": RECORDING_PATH,
        "transcription": TRANSCRIPTION_PATH,
    }
    # Replies to a caller go out by SMS (the web inbox never offers "voice" as a reply channel).
    reply_channel = "sms"

    def send(self, message: OutboundMessage) -> SendResult:
        raise PermanentSendError("Voice inboxes cannot send text; reply by SMS", code="voice_no_text")

    def fetch_media(self, url: str, credentials: dict) -> tuple[bytes, str]:
        return twilio_common.fetch_media(recording_audio_url(url), credentials)
