"""A real websocket client for tests (the `websockets` library), with the session cookie or a token."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager

from websockets.sync.client import ClientConnection, connect


@contextmanager
def open_socket(ws_url: str, *, session_cookie: str | None = None, token: str | None = None,
                origin: str | None = None) -> Iterator[ClientConnection]:
    """Connect and read the server's hello frame; closes the socket when the block ends."""
    headers = {}
    if session_cookie:
        headers["Cookie"] = f"sessionid={session_cookie}"
    if token:
        headers["Authorization"] = f"Token {token}"
    with connect(ws_url, additional_headers=headers, origin=origin, open_timeout=10) as socket:
        hello = json.loads(socket.recv(timeout=10))
        assert hello["type"] == "hello", hello
        yield socket


def receive_until(socket: ClientConnection, predicate, timeout: float = 10) -> dict:
    """Read frames until one matches; fail loudly with what was seen instead."""
    deadline = time.monotonic() + timeout
    seen = []
    while time.monotonic() < deadline:
        try:
            frame = json.loads(socket.recv(timeout=max(0.01, deadline - time.monotonic())))
        except TimeoutError:
            break
        seen.append(frame)
        if predicate(frame):
            return frame
    raise AssertionError(f"no matching frame within {timeout}s; saw {[f.get('type') for f in seen]}")


def assert_nothing_received(socket: ClientConnection, predicate, wait: float = 1.0) -> None:
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        try:
            frame = json.loads(socket.recv(timeout=max(0.01, deadline - time.monotonic())))
        except TimeoutError:
            return
        assert not predicate(frame), f"unexpected frame {frame}"
