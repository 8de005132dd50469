"""A channel adapter for tests, plugged in through settings.CHANNEL_ADAPTERS like any real one.

Its "provider" is a list: sends are recorded, and the next sends can be told to fail.
"""

from channels_adapters.base import OutboundMessage, PermanentSendError, SendResult, TransientSendError

sent: list[OutboundMessage] = []
failures: list[Exception] = []


def reset() -> None:
    sent.clear()
    failures.clear()


class FlakyAdapter:
    channel = "simulator"
    webhook_paths: dict[str, str] = {}

    def send(self, message: OutboundMessage) -> SendResult:
        if failures:
            raise failures.pop(0)
        sent.append(message)
        return SendResult(external_id=f"FLAKY{len(sent)}", provider_status="accepted", status="sent")

    def fetch_media(self, url: str, credentials: dict) -> tuple[bytes, str]:
        raise TransientSendError("no media here")


__all__ = ["FlakyAdapter", "PermanentSendError", "TransientSendError", "failures", "reset", "sent"]
