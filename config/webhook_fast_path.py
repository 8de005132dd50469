"""Provider webhooks skip the machinery Django's handler runs for browsers.

Every provider webhook (a POST under /webhooks/ or /anymail/) is a csrf-exempt view that checks its
own signature and needs no session, user, message storage or browser security headers. Through
Django's ASGI handler each one paid for them anyway, and for a new thread per request (asgiref's
ThreadSensitiveContext), in which Celery then set up its per-thread state again: together about
half of the CPU an SMS webhook cost (bench/RESULTS.md, ingest).

Here the same view functions run, through Django's URL resolver, request signals (database
connections back to the pool) and error handling, on a few long-lived threads. Everything else,
and everything when HERON_WEBHOOK_FAST_PATH=0, goes to Django's handler unchanged.

A deferred webhook whose view is marked `accepted_on_loop` (channels_adapters/common.py: an inbound
SMS, a simulator message, a Postmark email) does not even leave the event loop when its inbox is
kept in memory: read without building Django's request (a `LoopRequest`), its signature is checked,
its body checked and stored with an async INSERT shared with the requests that arrived meanwhile
(inbox/loop_writes.py), it is handed to a worker, and the view's answer, rendered once, is sent.
That is the whole of what the view would do, for a fraction of the CPU. Whatever the loop does not
accept (an inbox not kept, a bad signature or body, tasks running inline, a body too large to read
at once) goes to the view.
"""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
from functools import cache, lru_cache

from asgiref.sync import sync_to_async
from django.conf import settings
from django.core import signals
from django.core.exceptions import RequestAborted
from django.core.handlers.asgi import ASGIHandler, get_script_prefix
from django.core.handlers.exception import convert_exception_to_response
from django.http import HttpRequest, HttpResponseBase
from django.urls import Resolver404, resolve, set_script_prefix

from channels_adapters.common import LoopAccept, LoopRequest, loop_accept_of
from inbox import loop_writes
from inbox.services.raw_events import accept_on_loop

log = logging.getLogger("heron.webhooks")

WEBHOOK_PREFIXES = ("/webhooks/", "/anymail/")


class WebhookFastPath:
    def __init__(self, django_app: ASGIHandler, *, threads: int):
        self.django = django_app
        executor = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="heron-webhook")
        self.respond = sync_to_async(self._respond, thread_sensitive=False, executor=executor)
        self.close = sync_to_async(_close, thread_sensitive=False, executor=executor)

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["method"] != "POST" or not scope["path"].startswith(WEBHOOK_PREFIXES):
            await self.django(scope, receive, send)
            return
        try:
            body_file = await self.django.read_body(receive)
        except RequestAborted:
            return
        with closing(body_file):
            spec = _loop_accept_for(scope["path"].removeprefix(scope.get("root_path", "")))
            if spec is not None and await self._accept_on_loop(spec, scope, body_file):
                await _send_rendered(_rendered_answer(spec), send)
                return
            request, response = self.django.create_request(scope, body_file)
            if request is not None:
                response = await self.respond(scope, request)
        await self.django.send_response(response, send)
        if response.streaming:  # closed only once its content has been read
            await self.close(response)

    async def _accept_on_loop(self, spec: LoopAccept, scope, body_file) -> bool:
        """True when the loop accepted the webhook itself; else False, with nothing stored and the
        body left for the view to read."""
        if not loop_writes.available() or getattr(body_file, "_rolled", False):  # a body spooled to disk
            return False
        body = body_file.read()
        body_file.seek(0)
        if settings.DATA_UPLOAD_MAX_MEMORY_SIZE is not None and len(body) > settings.DATA_UPLOAD_MAX_MEMORY_SIZE:
            return False  # the view refuses it
        try:
            raw = spec.kept_event(LoopRequest.from_scope(scope, body))
            return raw is not None and await accept_on_loop(raw, checked=spec.checked)
        except Exception:  # noqa: BLE001 - a body or header the view would refuse, an inbox deleted
            # meanwhile, the database away: nothing was stored, and the view answers each as it should
            log.debug("the loop left a webhook to its view", exc_info=True)
            return False

    def _respond(self, scope, request: HttpRequest) -> HttpResponseBase:
        set_script_prefix(get_script_prefix(scope))
        signals.request_started.send(sender=ASGIHandler, scope=scope)
        response = _run_view(request)
        if not response.streaming:
            _close(response)
        return response


@lru_cache(maxsize=1024)
def _loop_accept_for(path_info: str) -> LoopAccept | None:
    """How the loop may accept requests to this path, if its view is marked `accepted_on_loop` (or
    `accept_on_loop_for` its class)."""
    try:
        return loop_accept_of(resolve(path_info).func)
    except Resolver404:
        return None


@cache
def _rendered_answer(spec: LoopAccept) -> dict:
    """The view's answer to an accepted request, as ASGI messages: the same bytes for every request."""
    response = spec.answer()
    headers = [(name.encode("latin1"), value.encode("latin1")) for name, value in response.items()]
    return {"start": {"type": "http.response.start", "status": response.status_code, "headers": headers},
            "body": {"type": "http.response.body", "body": response.content}}


async def _send_rendered(rendered: dict, send) -> None:
    await send(rendered["start"])
    await send(rendered["body"])


def _close(response: HttpResponseBase) -> None:
    response.close()  # sends request_finished: the database connection goes back to the pool


@convert_exception_to_response  # Django's error responses: 404, 400 for bad input, a logged 500
def _run_view(request: HttpRequest) -> HttpResponseBase:
    match = resolve(request.path_info)
    request.resolver_match = match
    return match.func(request, *match.args, **match.kwargs)
