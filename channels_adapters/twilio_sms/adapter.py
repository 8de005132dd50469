from datetime import datetime

from channels_adapters import twilio_common
from channels_adapters.base import OutboundMessage, SendResult
from channels_adapters.twilio_sms import INBOUND_PATH, STATUS_PATH, sender


class TwilioSmsAdapter:
    """SMS and MMS through Twilio Programmable Messaging."""

    channel = "sms"
    # Paste "inbound" as the number's (or Messaging Service's) "A message comes in" webhook (HTTP POST).
    # "status" is sent with every outbound message; setting it in the console too does no harm.
    webhook_paths = {"inbound": INBOUND_PATH, "status": STATUS_PATH}

    def check_ready(self, credentials: dict, settings: dict) -> None:
        twilio_common.check_account(credentials)

    def send(self, message: OutboundMessage) -> SendResult:
        return sender.send(message)

    def reconcile(self, message: OutboundMessage, since: datetime) -> list[SendResult]:
        return sender.find_sent(message, since)

    def fetch_media(self, url: str, credentials: dict) -> tuple[bytes, str]:
        return twilio_common.fetch_media(url, credentials)
