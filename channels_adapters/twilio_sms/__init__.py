"""Twilio Programmable Messaging (SMS/MMS): webhooks, parsing, sending. See docs/twilio.md."""

# The public contract: Twilio is pointed at these (trailing slash included; APPEND_SLASH is off).
INBOUND_PATH = "/webhooks/twilio/sms/"
STATUS_PATH = "/webhooks/twilio/sms/status/"
