import httpx

from channels_adapters.base import OutboundMessage, PermanentSendError, SendResult, TransientSendError
from channels_adapters.google_business import WEBHOOK_PATH, sender

MAX_MEDIA_BYTES = 25 * 1024 * 1024


class GoogleBusinessAdapter:
    """Google Business Messages: Inbox.address is the agent's resource name `brands/{b}/agents/{a}`."""

    channel = "google_business"
    # One webhook per partner (or per agent) in the Business Communications console.
    webhook_paths = {"webhook": WEBHOOK_PATH}
    # Google accepts business messages only within 30 days of the customer's last one.
    reply_window_days = 30

    def send(self, message: OutboundMessage) -> SendResult:
        return sender.send(message)

    def fetch_media(self, url: str, credentials: dict) -> tuple[bytes, str]:
        """Images a customer sends arrive as public (signed) Google URLs: a plain GET."""
        try:
            with httpx.stream("GET", url, follow_redirects=True, timeout=30) as response:
                if response.status_code >= 500 or response.status_code == 429:
                    raise TransientSendError(f"Google media server answered {response.status_code}")
                if response.status_code >= 400:
                    raise PermanentSendError(f"Google refused the media download ({response.status_code})",
                                             code=str(response.status_code))
                chunks, size = [], 0
                for chunk in response.iter_bytes():
                    size += len(chunk)
                    if size > MAX_MEDIA_BYTES:
                        raise PermanentSendError(f"Media is larger than {MAX_MEDIA_BYTES} bytes")
                    chunks.append(chunk)
                return b"".join(chunks), response.headers.get("Content-Type", "")
        except httpx.HTTPError as exc:
            raise TransientSendError(f"Could not download media: {exc}") from exc
