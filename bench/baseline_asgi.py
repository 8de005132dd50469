"""Heron's ASGI app plus the ingest benchmark's baseline endpoints, on the same uvicorn process.

    uvicorn bench.baseline_asgi:app

- `POST /bench/baseline/`: reads the body and does one bare INSERT of it (async psycopg, a few
  persistent connections), then answers 204. The floor of "accept a request and store it".
- `POST /bench/baseline-django/`: the same INSERT through Django's connection in Django's sync
  thread, with Django's per-request connection handling (CONN_MAX_AGE): the floor of a sync
  Django view on ASGI, without middleware, DRF or Heron's logic.
- Everything else (HTTP, websockets) goes to `config.asgi.application` untouched.

The table is created by the benchmark (bench/common.py: fresh_database); no app code changes.
"""

from __future__ import annotations

import asyncio
import os

import psycopg
from asgiref.sync import sync_to_async

from config.asgi import application as heron

TABLE = "bench_baseline"
INSERT = f"INSERT INTO {TABLE} (body, created_at) VALUES (%s, now())"
POOL_SIZE = int(os.environ.get("BENCH_BASELINE_POOL", "4"))


class _Pool:
    """Enough of a connection pool for one INSERT per request (psycopg_pool is not a dependency)."""

    def __init__(self, size: int):
        self.size = size
        self.created = 0
        self.idle: asyncio.Queue | None = None
        self.lock: asyncio.Lock | None = None

    async def acquire(self) -> psycopg.AsyncConnection:
        if self.idle is None:
            self.idle, self.lock = asyncio.Queue(), asyncio.Lock()
        if self.idle.empty():
            async with self.lock:
                if self.created < self.size:
                    self.created += 1
                    return await psycopg.AsyncConnection.connect(_conninfo(), autocommit=True)
        return await self.idle.get()

    def release(self, conn: psycopg.AsyncConnection) -> None:
        self.idle.put_nowait(conn)

    async def close(self) -> None:
        while self.idle is not None and not self.idle.empty():
            await self.idle.get_nowait().close()


def _conninfo() -> str:
    url = os.environ["DATABASE_URL"]
    return "postgresql://" + url.split("://", 1)[1]


_pool = _Pool(POOL_SIZE)


async def _read_body(receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            break
    return b"".join(chunks)


async def _respond(send, status: int, body: bytes = b"") -> None:
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"text/plain"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


async def _baseline(body: bytes) -> None:
    conn = await _pool.acquire()
    try:
        await conn.execute(INSERT, [body.decode("utf-8", "replace")])
    finally:
        _pool.release(conn)


def _baseline_django(body: bytes) -> None:
    from django.db import close_old_connections, connection

    close_old_connections()  # what Django does on request_started / request_finished
    try:
        with connection.cursor() as cursor:
            cursor.execute(INSERT, [body.decode("utf-8", "replace")])
    finally:
        close_old_connections()


_baseline_django_async = sync_to_async(_baseline_django, thread_sensitive=True)


async def app(scope, receive, send):
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await _pool.close()
                await send({"type": "lifespan.shutdown.complete"})
                return
    if scope["type"] == "http" and scope["path"] in ("/bench/baseline/", "/bench/baseline-django/"):
        if scope["method"] != "POST":
            return await _respond(send, 405)
        body = await _read_body(receive)
        if scope["path"] == "/bench/baseline/":
            await _baseline(body)
        else:
            await _baseline_django_async(body)
        return await _respond(send, 204)
    return await heron(scope, receive, send)
