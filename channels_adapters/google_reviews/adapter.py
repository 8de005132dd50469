from channels_adapters.base import OutboundMessage, PermanentSendError, SendResult
from channels_adapters.google_reviews import sender


class GoogleReviewsAdapter:
    """Business Profile reviews: Inbox.address is the location `accounts/{a}/locations/{l}`.

    No webhooks: reviews are polled (`manage.py poll_google_reviews`, Celery beat)."""

    channel = "google_reviews"
    webhook_paths: dict[str, str] = {}

    def send(self, message: OutboundMessage) -> SendResult:
        return sender.send(message)

    def fetch_media(self, url: str, credentials: dict) -> tuple[bytes, str]:
        raise PermanentSendError("Review media is not downloaded (reviewMediaItems are not imported).")
