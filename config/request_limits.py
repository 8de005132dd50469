"""How large a request may be, checked before anything reads it (a view, a signature check, the webhook
fast path): an ASGI middleware in front of every HTTP request (config/asgi.py), and the websocket
consumer for frames.

Django's DATA_UPLOAD_MAX_MEMORY_SIZE is 50 MB because ESPs post whole emails, and Django checks it only
once a view reads `request.body`, after the whole body has been received and spooled. Only the email
webhooks need that much: API JSON, forms and the other providers' webhooks are a few kilobytes, and reply
attachments have their own limits. A body over its route's limit is a 413 that says the limit, sent as
soon as the declared length (or, for a chunked body, the bytes received) exceeds it.
"""

from __future__ import annotations

import json

from django.conf import settings

# API JSON, forms, and every webhook but email's: far above any real one.
BODY_MAX_BYTES = 1024 * 1024
# A websocket frame (presence updates are a hundred characters).
FRAME_MAX_CHARS = 64 * 1024
EMAIL_WEBHOOK_PREFIX = "/anymail/"


def body_limit(path: str, content_type: bytes) -> int:
    """The most bytes a request to `path` may carry."""
    if path.startswith(EMAIL_WEBHOOK_PREFIX):
        return settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    if content_type.startswith(b"multipart/form-data"):  # a reply with attachments
        return settings.REPLY_ATTACHMENT_MAX_FILES * settings.REPLY_ATTACHMENT_MAX_BYTES + BODY_MAX_BYTES
    return BODY_MAX_BYTES


class BodyLimit:
    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        declared, content_type = None, b""
        for name, value in scope["headers"]:
            if name == b"content-length":
                declared = int(value) if value.isdigit() else None
            elif name == b"content-type":
                content_type = value.lower()
        limit = body_limit(scope["path"].removeprefix(scope.get("root_path", "")), content_type)
        if declared is not None and declared <= limit:
            await self.app(scope, receive, send)  # the server never passes on more than the declared length
        elif declared is not None:
            await _refuse(send, limit)
        else:
            await self.app(scope, _counting(receive, send, limit), send)


def _counting(receive, send, limit: int):
    """`receive` for a body of undeclared length: once it exceeds `limit`, the 413 is sent and the
    app is told the client left (Django then sends nothing)."""
    received = 0
    refused = False

    async def receive_within_limit():
        nonlocal received, refused
        if refused:
            return {"type": "http.disconnect"}
        message = await receive()
        if message["type"] == "http.request":
            received += len(message.get("body", b""))
            if received > limit:
                refused = True
                await _refuse(send, limit)
                return {"type": "http.disconnect"}
        return message

    return receive_within_limit


async def _refuse(send, limit: int) -> None:
    body = json.dumps({"detail": f"The request body is larger than this URL accepts ({limit} bytes)."}).encode()
    await send({"type": "http.response.start", "status": 413,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})
