"""Handing stored webhooks to Celery workers a batch at a time.

A deferred webhook is answered once its raw event is stored and checked. Publishing a Celery
message per webhook from the request thread cost a large part of the request's CPU (kombu builds a
client and a message for each). Instead, each process hands event ids to one background thread,
which sends at most one task every `HANDOFF_INTERVAL_MS` with every id that arrived meanwhile. A
webhook after a quiet spell goes out at once; under load a few webhooks share a broker message and
the worker records them with one task and one fetch.

When webhooks come faster than the workers record them, a batch that is already large keeps
growing (up to `MAX_BATCH` ids, for at most `MAX_HOLD_SECONDS`) while earlier batches still wait in
the broker: no worker would start it sooner, and one message of many ids costs this process and the
worker far less than several small ones. Below `HOLD_FROM` ids, or with the workers keeping up,
nothing waits longer.

Nothing is lost with the process: an id still in memory belongs to an event that is pending in the
database, and the sweeper (`raw_events.process_stale_events`) picks it up.
"""

from __future__ import annotations

import atexit
import logging
import os
import queue
import threading
import time
from collections.abc import Callable

log = logging.getLogger("heron.raw")

MAX_BATCH = 100
# A batch this large at its interval's end may wait for more while the workers are behind ...
HOLD_FROM = 10
# ... but its first id waits no longer than this in all.
MAX_HOLD_SECONDS = 0.25
# How long a process that exits waits for ids still queued (the sweeper recovers the rest).
FLUSH_TIMEOUT_SECONDS = 5


class BatchedHandoff:
    """Collects ids on any thread; `send` gets them in batches, in the order they were submitted,
    on one background thread, at most once every `interval_seconds`. If `send` raises, `fallback`
    gets the same batch there. `workers_behind()` says whether batches sent earlier still wait for
    a worker (then a large batch grows before it is sent)."""

    def __init__(self, send: Callable[[list[int]], None], fallback: Callable[[list[int]], None], *,
                 interval_seconds: float, workers_behind: Callable[[], bool] = lambda: False):
        self.send = send
        self.fallback = fallback
        self.interval_seconds = interval_seconds
        self.workers_behind = workers_behind
        self.last_sent = 0.0
        self.pid = os.getpid()
        self.ids: queue.SimpleQueue[int] = queue.SimpleQueue()
        self.pending = 0  # submitted, not yet sent or fallen back
        self.idle = threading.Condition()
        threading.Thread(target=self._run, name="heron-handoff", daemon=True).start()

    def submit(self, event_id: int) -> None:
        with self.idle:
            self.pending += 1
        self.ids.put(event_id)

    def flush(self, timeout: float = FLUSH_TIMEOUT_SECONDS) -> bool:
        """Wait until everything submitted so far was handed over; False on timeout."""
        with self.idle:
            return self.idle.wait_for(lambda: self.pending == 0, timeout)

    def _run(self) -> None:
        while True:
            batch = self._next_batch()
            self.last_sent = time.monotonic()
            try:
                self.send(batch)
            except Exception:  # noqa: BLE001 - kombu raises many kinds; the events must still be processed
                log.warning("could not queue raw events %s; processing them here", batch, exc_info=True)
                try:
                    self.fallback(batch)
                except Exception:  # noqa: BLE001 - they stay pending for the sweeper
                    log.exception("processing raw events %s failed; the sweeper will retry them", batch)
            with self.idle:
                self.pending -= len(batch)
                self.idle.notify_all()

    def _next_batch(self) -> list[int]:
        """Blocks for the first id only, then sleeps out the interval and takes what came. (Waiting
        on the queue instead woke this thread, and took the GIL, for every id.)"""
        batch = [self.ids.get()]
        held_since = time.monotonic()
        self._take_waiting(batch, until=self.last_sent + self.interval_seconds)
        while (HOLD_FROM <= len(batch) < MAX_BATCH and time.monotonic() - held_since < MAX_HOLD_SECONDS
               and self._workers_are_behind()):
            self._take_waiting(batch, until=time.monotonic() + self.interval_seconds)
        return batch

    def _take_waiting(self, batch: list[int], *, until: float) -> None:
        wait = until - time.monotonic()
        if wait > 0:
            time.sleep(wait)
        while len(batch) < MAX_BATCH:
            try:
                batch.append(self.ids.get_nowait())
            except queue.Empty:
                return

    def _workers_are_behind(self) -> bool:
        try:
            return self.workers_behind()
        except Exception:  # noqa: BLE001 - the broker away: send now, and `send` falls back
            return False


# This process's handoff: made by `process_handoff` on first use and again in a forked child, flushed at exit.
_handoff: BatchedHandoff | None = None
_handoff_lock = threading.Lock()


def process_handoff(make: Callable[[], BatchedHandoff]) -> BatchedHandoff:
    """This process's handoff, started on first use (and again in a forked child: threads are not
    inherited)."""
    global _handoff
    with _handoff_lock:
        if _handoff is None or _handoff.pid != os.getpid():
            _handoff = make()
            atexit.register(_handoff.flush)
        return _handoff
