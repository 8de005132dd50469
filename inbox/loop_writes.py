"""Writing rows from the event loop, for webhooks accepted without leaving it
(config/webhook_fast_path.py).

Django runs queries on threads only, and handing a webhook to a thread and back, with Django's
per-request connection handling, cost more CPU than everything the webhook itself needs. Each event
loop (one per ASGI process) keeps one autocommit connection (a psycopg pool of one, which replaces
it if it breaks), made with Django's own connection parameters; the statement and its values come
from inbox/plain_writes.py, so each row is exactly the one `save()` would write.

Rows are written like a group commit: while one INSERT is in flight, the rows that arrive wait for
it, and the next INSERT writes them all. One caller alone waits for its own statement; under load
each statement (its round trip, its commit, its cost in PostgreSQL) is shared by every request that
arrived meanwhile, and no request waits for a timer.
"""

from __future__ import annotations

import asyncio
import weakref
from functools import cache
from itertools import groupby

from django.db import connection
from django.db.models import Model
from psycopg_pool import AsyncConnectionPool

from inbox import plain_writes

# Rows per statement at most: a burst is written in several statements, none of them huge.
MAX_ROWS_PER_INSERT = 100


class _LoopWriter:
    """One event loop's connection, the rows waiting to be inserted on it, and the task writing them."""

    def __init__(self):
        params = connection.get_connection_params()
        params.pop("cursor_factory", None)  # Django's is a sync cursor; psycopg's async default binds server-side too
        self.pool = AsyncConnectionPool(kwargs={**params, "autocommit": True}, min_size=1, max_size=1, open=False,
                                        name="heron-loop-writes")
        self.waiting: list[tuple[Model, asyncio.Future]] = []
        self.writing: asyncio.Task | None = None

    async def insert(self, instance: Model) -> None:
        if self.pool.closed:
            await self.pool.open()  # does nothing if a request that came at the same time opened it first
        done = asyncio.get_running_loop().create_future()
        self.waiting.append((instance, done))
        if self.writing is None:
            self.writing = asyncio.create_task(self._write_waiting())
        await done

    async def _write_waiting(self) -> None:
        try:
            while self.waiting:
                # A statement writes one model's rows: those of the first waiting row's model, up to the next other.
                rows = list(next(groupby(self.waiting[:MAX_ROWS_PER_INSERT], key=lambda row: type(row[0])))[1])
                self.waiting = self.waiting[len(rows):]
                await self._write(rows)
        finally:
            self.writing = None

    async def _write(self, rows: list[tuple[Model, asyncio.Future]]) -> None:
        """One statement for `rows`: all of them are stored, or none (each caller gets the error)."""
        try:
            sql, values = plain_writes.insert_many_statement([instance for instance, _ in rows])
            async with self.pool.connection() as conn:
                cursor = await conn.execute(sql, values)
                keys = await cursor.fetchall()
            for (instance, done), (pk,) in zip(rows, keys, strict=True):
                plain_writes.inserted(instance, pk)
                if not done.done():  # a caller cancelled meanwhile (the client went away): its row is stored
                    done.set_result(None)
        except Exception as exc:  # noqa: BLE001 - the callers' to handle, as if each had run it alone
            for _, done in rows:
                if not done.done():
                    done.set_exception(exc)


# Each running event loop's writer: made on its first insert, gone with the loop (or `close`).
_writers: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _LoopWriter] = weakref.WeakKeyDictionary()


@cache
def available() -> bool:
    """Only PostgreSQL has an async driver here; the embedded SQLite default never takes this path.
    (Kept: every attribute of Django's `connection` is a context-local lookup on the event loop.)"""
    return connection.vendor == "postgresql"


async def insert(instance: Model) -> None:
    """`plain_writes.insert` without blocking the loop, perhaps in one statement with other rows;
    raises psycopg's errors as they come (none of the statement's rows is stored then)."""
    loop = asyncio.get_running_loop()
    writer = _writers.get(loop) or _writers.setdefault(loop, _LoopWriter())
    await writer.insert(instance)


async def close() -> None:
    """Close this loop's connection, for a loop that ends before its process (tests)."""
    writer = _writers.pop(asyncio.get_running_loop(), None)
    if writer is not None:
        await writer.pool.close()
