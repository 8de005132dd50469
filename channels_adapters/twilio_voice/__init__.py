"""Twilio Programmable Voice: incoming calls, voicemail with transcription, call status. See docs/voice.md."""

# The public contract (trailing slashes included; APPEND_SLASH is off).
VOICE_PATH = "/webhooks/twilio/voice/"
DIAL_COMPLETE_PATH = "/webhooks/twilio/voice/dial-complete/"
STATUS_PATH = "/webhooks/twilio/voice/status/"
RECORDING_PATH = "/webhooks/twilio/voice/recording/"
TRANSCRIPTION_PATH = "/webhooks/twilio/voice/transcription/"
# <Record action>: the dial-complete webhook with this query string (part of the signed URL).
RECORDED_QUERY = "step=recorded"
