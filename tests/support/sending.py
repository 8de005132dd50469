"""Driving replies to the end in this process, where tasks run inline: the send sweeper stands in
for Celery's retries there, as the embedded scheduler does for `make run`."""

from __future__ import annotations

from inbox.models import Message
from inbox.services.outbound import sweep_sends
from tests.support.waiting import wait_for


def settle(message: Message | int, timeout: float = 10) -> Message:
    """Runs the sweeper until the reply has nothing left to do (no `send_check_at`); returns it."""
    pk = message if isinstance(message, int) else message.pk

    def settled() -> Message | None:
        sweep_sends()
        current = Message.objects.get(pk=pk)
        return current if current.send_check_at is None else None

    return wait_for(settled, timeout) or Message.objects.get(pk=pk)
