"""A channel adapter for tests, plugged in through settings.CHANNEL_ADAPTERS like any real one.

Its "provider" is a list: sends are recorded, and the next sends can be told to fail, or to be
accepted with the answer lost (`accept_but_lose_answer`). It can be asked what it holds
(`reconcile`), matched on Heron's message id; `unreachable_lookups` makes those asks fail.
"""

from datetime import datetime

from channels_adapters.base import (
    OutboundMessage,
    PermanentSendError,
    SendResult,
    TransientSendError,
    UnconfirmedSend,
)

sent: list[OutboundMessage] = []
failures: list[Exception] = []
lookup_failures: list[Exception] = []
_lost_answers: list[bool] = []


def reset() -> None:
    sent.clear()
    failures.clear()
    lookup_failures.clear()
    _lost_answers.clear()


def accept_but_lose_answer(times: int = 1) -> None:
    """The next sends reach the provider, which keeps them, but Heron never learns it."""
    _lost_answers.extend([True] * times)


def _result(index: int) -> SendResult:
    return SendResult(external_id=f"FLAKY{index + 1}", provider_status="accepted", status="sent")


class FlakyAdapter:
    channel = "simulator"
    webhook_paths: dict[str, str] = {}

    def send(self, message: OutboundMessage) -> SendResult:
        if failures:
            raise failures.pop(0)
        sent.append(message)
        if _lost_answers:
            _lost_answers.pop(0)
            raise UnconfirmedSend("the answer was lost", answer="<html>Bad gateway</html>")
        return _result(len(sent) - 1)

    def reconcile(self, message: OutboundMessage, since: datetime) -> list[SendResult]:
        if lookup_failures:
            raise lookup_failures.pop(0)
        return [_result(i) for i, m in enumerate(sent) if m.message_id == message.message_id]

    def fetch_media(self, url: str, credentials: dict) -> tuple[bytes, str]:
        raise TransientSendError("no media here")


__all__ = [
    "FlakyAdapter", "PermanentSendError", "TransientSendError", "UnconfirmedSend", "accept_but_lose_answer",
    "failures", "lookup_failures", "reset", "sent",
]
