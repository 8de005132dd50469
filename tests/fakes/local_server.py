"""The local HTTP server a fake provider answers on (pytest-httpserver), started once per test session,
and the ways a provider's answer gets lost, for the fakes to play (`Fault`, `answer_with_fault`)."""

from __future__ import annotations

import socket
import struct
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

# What a proxy in front of a provider may answer with: a 200 that is not the provider's JSON.
HTML_PAGE = "<!DOCTYPE html><html><body><h1>Please wait</h1><p>The service is busy.</p></body></html>"


@contextmanager
def local_http_server() -> Iterator[HTTPServer]:
    server = HTTPServer(host="127.0.0.1", port=0, threaded=True)
    server.start()
    try:
        yield server
    finally:
        server.clear()
        if server.is_running():
            server.stop()


@dataclass(frozen=True)
class Fault:
    """How the provider fails one request: `accept` says whether it keeps the message anyway.

    - "slow": answers only after `seconds` (longer than the client waits);
    - "reset": resets the connection once it has read the request;
    - "html": answers 200 with an HTML page;
    - "gateway": a proxy in front gives up waiting and answers 504 with an HTML page;
    - "killed": dies mid-request (the connection closes without an answer) and refuses connections
      for `seconds`, then comes back with what it had stored.
    """

    kind: str
    accept: bool = True
    seconds: float = 0.0


def answer_with_fault(server: HTTPServer, request: Request, fault: Fault, answer: Callable[[], Response]) -> Response:
    """The response (or its absence) `fault` makes of the provider's `answer`."""
    if fault.kind == "slow":
        time.sleep(fault.seconds)
        return answer()
    if fault.kind in ("html", "gateway"):
        return Response(HTML_PAGE, status=200 if fault.kind == "html" else 504, content_type="text/html")
    connection: socket.socket = request.environ["werkzeug.socket"]
    if fault.kind == "reset":
        # With linger 0 the close sends RST; shutting reading down first ends werkzeug's wait for a
        # next request, and the close is done once werkzeug lets go of the socket.
        connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        connection.shutdown(socket.SHUT_RD)
        connection.close()
    elif fault.kind == "killed":
        connection.shutdown(socket.SHUT_RDWR)  # what the kernel does for a dead process: FIN, no answer
        Outage.start(server, fault.seconds)
    else:
        raise ValueError(f"unknown fault {fault.kind!r}")
    return Response(_dropped())


def _dropped():
    """A body werkzeug takes for a client that went away: it writes nothing and logs nothing."""
    raise ConnectionResetError("the fake provider dropped the connection")
    yield b""  # pragma: no cover - makes this a generator


class Outage:
    """The server stops listening (connections are refused) for a while, then serves again."""

    _current: Outage | None = None

    def __init__(self, server: HTTPServer, seconds: float):
        self.server, self.seconds = server, seconds
        self.down = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    @classmethod
    def start(cls, server: HTTPServer, seconds: float) -> None:
        cls._current = outage = cls(server, seconds)
        outage.thread.start()
        outage.down.wait(5)

    def _run(self) -> None:
        listening = self.server.server
        self.server.stop()
        listening.server_close()  # pytest-httpserver's stop() keeps the socket listening
        self.down.set()
        time.sleep(self.seconds)
        self.server.start()

    @classmethod
    def wait_until_over(cls) -> None:
        """Tests call this before they end: the session-wide server must be up for the next one."""
        if cls._current is not None:
            cls._current.thread.join(30)
            cls._current = None
