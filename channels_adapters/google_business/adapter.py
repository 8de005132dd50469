from datetime import datetime

from channels_adapters import google_common
from channels_adapters.base import OutboundMessage, SendResult
from channels_adapters.common import download_media
from channels_adapters.google_business import WEBHOOK_PATH, sender


class GoogleBusinessAdapter:
    """Google Business Messages: Inbox.address is the agent's resource name `brands/{b}/agents/{a}`."""

    channel = "google_business"
    # One webhook per partner (or per agent) in the Business Communications console.
    webhook_paths = {"webhook": WEBHOOK_PATH}
    # Google accepts business messages only within 30 days of the customer's last one.
    reply_window_days = 30

    def check_ready(self, credentials: dict, settings: dict) -> None:
        google_common.service_account_info(credentials)

    def send(self, message: OutboundMessage) -> SendResult:
        return sender.send(message)

    def reconcile(self, message: OutboundMessage, since: datetime) -> list[SendResult]:
        """Send it again: its messageId is the same, and Google refuses a repeat (ALREADY_EXISTS: sent)."""
        return [sender.send(message)]

    def fetch_media(self, url: str, credentials: dict) -> tuple[bytes, str]:
        """Images a customer sends arrive as public (signed) Google URLs: a plain GET."""
        return download_media(url, provider="Google")
