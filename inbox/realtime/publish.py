"""Event → channel-layer groups, after the transaction that wrote it has committed.

Events are published from sync code: request threads of an ASGI server, Celery workers, management
commands. With a Redis layer, one background event loop per process does the publishing, so the
caller never waits on Redis and the layer keeps one connection (`async_to_sync` outside a server
would start a new loop, hence a new Redis connection, for every event). Frames are published in the
order they were handed over. The in-memory layer (the embedded default) lives on the server's own
loop, so it is reached through `async_to_sync` as before.
"""

import asyncio
import atexit
import json
import logging
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from asgiref.sync import async_to_sync
from channels.layers import InMemoryChannelLayer, get_channel_layer

log = logging.getLogger("heron.realtime")

# How long a process that exits waits for frames still queued (a lost frame is recovered by catch-up).
FLUSH_TIMEOUT_SECONDS = 5
# At most this many held frames go in one channel-layer message (see frames_held).
MAX_HELD_FRAMES = 100

# Event frames, each with the groups that may see it.
Frames = list[tuple[dict, list[str]]]


class _BackgroundPublisher:
    def __init__(self, layer):
        self.layer = layer
        self.pid = os.getpid()
        self.loop = asyncio.new_event_loop()
        self.queue: asyncio.Queue = asyncio.Queue()
        ready = threading.Event()
        self.thread = threading.Thread(target=self._run, args=(ready,), name="heron-publisher", daemon=True)
        self.thread.start()
        ready.wait()

    def _run(self, ready: threading.Event) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.call_soon(ready.set)
        self.loop.run_until_complete(self._publish_forever())

    async def _publish_forever(self) -> None:
        while True:
            groups, message = await self.queue.get()
            await _send(self.layer, groups, message)
            self.queue.task_done()

    def submit(self, groups: list[str], message: dict) -> None:
        self.loop.call_soon_threadsafe(self.queue.put_nowait, (groups, message))

    def flush(self) -> None:
        try:
            asyncio.run_coroutine_threadsafe(self.queue.join(), self.loop).result(FLUSH_TIMEOUT_SECONDS)
        except Exception:  # noqa: BLE001 - at exit: catch-up recovers what was not sent
            log.warning("exiting with realtime frames unpublished")


# This process's publisher: made by `_background_publisher` on first use, again in a forked child or for
# another layer; flushed at exit.
_publisher: _BackgroundPublisher | None = None
_publisher_lock = threading.Lock()


def _background_publisher(layer) -> _BackgroundPublisher:
    global _publisher
    with _publisher_lock:
        # A forked child (Celery prefork) inherits the object but not the thread: start its own.
        if _publisher is None or _publisher.pid != os.getpid() or _publisher.layer is not layer:
            _publisher = _BackgroundPublisher(layer)
            atexit.register(_publisher.flush)
        return _publisher


async def _send(layer, groups: list[str], message: dict) -> None:
    for group in groups:
        try:
            await layer.group_send(group, message)
        except Exception:  # noqa: BLE001 - a lost broadcast is recovered by catch-up, never fatal
            log.exception("publishing to %s failed", group)


def publish(groups: list[str], message: dict) -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    if isinstance(layer, InMemoryChannelLayer):
        async_to_sync(_send)(layer, groups, message)
    else:
        _background_publisher(layer).submit(groups, message)


class _HeldFrames:
    def __init__(self, max_hold_seconds: float):
        self.max_hold_seconds = max_hold_seconds
        self.frames: Frames = []
        self.since = 0.0

    def add(self, frames: Frames) -> None:
        if not self.frames:
            self.since = time.monotonic()
        self.frames.extend(frames)
        if len(self.frames) >= MAX_HELD_FRAMES or time.monotonic() - self.since >= self.max_hold_seconds:
            self.publish()

    def publish(self) -> None:
        frames, self.frames = self.frames, []
        if frames:
            _publish_grouped(frames)


_held: ContextVar[_HeldFrames | None] = ContextVar("held_frames", default=None)


@contextmanager
def frames_held(max_hold_seconds: float) -> Iterator[None]:
    """Events committed in the block on this thread reach the sockets together: one channel-layer
    message per group for many events (a worker recording a batch of webhooks) instead of one per
    event: a message's two PUBLISHes were a third of what a worker spent recording it. A frame waits
    until the block ends, or until a frame committed `max_hold_seconds` after it or later."""
    held = _HeldFrames(max_hold_seconds)
    token = _held.set(held)
    try:
        yield
    finally:
        _held.reset(token)
        held.publish()


def publish_events(frames: Frames) -> None:
    """Event frames, each with the groups that may see it, in the order they committed (inside
    `frames_held`: once held long enough).

    Each group gets one channel-layer message with all of its frames (`heron.events`): a new
    customer's first message commits two events, and every message costs a PUBLISH per group and,
    in every ASGI process, a wake-up and a decode per socket. Each frame is serialized once here,
    not once per socket that receives it."""
    held = _held.get()
    if held is not None:
        held.add(frames)
    else:
        _publish_grouped(frames)


def _publish_grouped(frames: Frames) -> None:
    texts = [(frame["id"], json.dumps(frame)) for frame, _groups in frames]
    frames_of_group: dict[str, list[int]] = {}
    for index, (_frame, groups) in enumerate(frames):
        for group in groups:
            frames_of_group.setdefault(group, []).append(index)
    groups_of_frames: dict[tuple[int, ...], list[str]] = {}
    for group, indexes in frames_of_group.items():
        groups_of_frames.setdefault(tuple(indexes), []).append(group)
    for indexes, groups in groups_of_frames.items():
        publish(groups, {"type": "heron.events", "frames": [texts[index] for index in indexes]})
