from datetime import datetime

from channels_adapters import google_common
from channels_adapters.base import OutboundMessage, PermanentSendError, SendResult
from channels_adapters.google_reviews import sender


class GoogleReviewsAdapter:
    """Business Profile reviews: Inbox.address is the location `accounts/{a}/locations/{l}`.

    No webhooks: reviews are polled (`manage.py poll_google_reviews`, Celery beat)."""

    channel = "google_reviews"
    webhook_paths: dict[str, str] = {}

    def check_ready(self, credentials: dict, settings: dict) -> None:
        google_common.service_account_info(credentials)

    def send(self, message: OutboundMessage) -> SendResult:
        return sender.send(message)

    def reconcile(self, message: OutboundMessage, since: datetime) -> list[SendResult]:
        """Put the reply again: a PUT replaces the review's reply, so a repeat changes nothing."""
        return [sender.send(message)]

    def fetch_media(self, url: str, credentials: dict) -> tuple[bytes, str]:
        raise PermanentSendError("Review media is not downloaded (reviewMediaItems are not imported).")
