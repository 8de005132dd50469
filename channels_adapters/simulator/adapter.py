from channels_adapters.base import OutboundMessage, SendResult, TransientSendError
from channels_adapters.simulator import sender


class SimulatorAdapter:
    """A provider that needs no account: for the demo and for tests of the core paths."""

    channel = "simulator"
    webhook_paths = {"inbound": "/webhooks/simulator/inbound/", "status": "/webhooks/simulator/status/"}

    def send(self, message: OutboundMessage) -> SendResult:
        return sender.send(message)

    def fetch_media(self, url: str, credentials: dict) -> tuple[bytes, str]:
        import httpx

        try:
            response = httpx.get(url, timeout=30)
            response.raise_for_status()
        except httpx.HTTPError as exc:
            raise TransientSendError(str(exc)) from exc
        return response.content, response.headers.get("Content-Type", "")
