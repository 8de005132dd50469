"""Waiting for what a server process or a background task does."""

from __future__ import annotations

import time


def wait_for(predicate, timeout: float = 10):
    """Polls `predicate` until it returns something truthy and returns that; after `timeout` seconds, its last answer."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    return predicate()
