"""Writing one row from the event loop, for a webhook accepted without leaving it
(config/webhook_fast_path.py).

Django runs queries on threads only, and handing a webhook to a thread and back, with Django's
per-request connection handling, cost more CPU than everything the webhook itself needs. Each event
loop (one per ASGI process) keeps a small psycopg pool of autocommit connections, made with
Django's own connection parameters; the statement and its values come from inbox/plain_writes.py,
so the row is exactly the one `save()` would write.
"""

from __future__ import annotations

import asyncio
import weakref

from django.conf import settings
from django.db import connection
from django.db.models import Model
from psycopg_pool import AsyncConnectionPool

from inbox import plain_writes

_pools: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, AsyncConnectionPool] = weakref.WeakKeyDictionary()


def available() -> bool:
    """Only PostgreSQL has an async driver here; the embedded SQLite default never takes this path."""
    return connection.vendor == "postgresql"


async def insert(instance: Model) -> None:
    """`plain_writes.insert` without blocking the loop; raises psycopg's errors as they come."""
    sql, values = plain_writes.insert_statement(instance)
    async with (await _pool()).connection() as conn:
        cursor = await conn.execute(sql, values)
        (pk,) = await cursor.fetchone()
    plain_writes.inserted(instance, pk)


async def _pool() -> AsyncConnectionPool:
    loop = asyncio.get_running_loop()
    pool = _pools.get(loop)
    if pool is None:
        params = connection.get_connection_params()
        params.pop("cursor_factory", None)  # Django's is a sync cursor; psycopg's async default binds server-side too
        pool = _pools[loop] = AsyncConnectionPool(
            kwargs={**params, "autocommit": True}, min_size=1,
            max_size=settings.HERON["LOOP_DB_CONNECTIONS"], open=False, name="heron-loop-writes",
        )
    if pool.closed:
        await pool.open()  # does nothing if a request that came at the same time opened it first
    return pool


async def close() -> None:
    """Close this loop's connections, for a loop that ends before its process (tests)."""
    pool = _pools.pop(asyncio.get_running_loop(), None)
    if pool is not None:
        await pool.close()
