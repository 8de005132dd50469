"""Provider webhooks skip the machinery Django's handler runs for browsers.

Every provider webhook (a POST under /webhooks/ or /anymail/) is a csrf-exempt view that checks its
own signature and needs no session, user, message storage or browser security headers, nor a new
thread per request (asgiref's ThreadSensitiveContext). Here the same views run, through Django's
URL resolver, request signals (database connections back to the pool) and error handling, on a few
long-lived threads. Everything else, and everything when HERON_WEBHOOK_FAST_PATH=0, goes to Django's
handler unchanged.

A `Webhook` marked `on_loop` (channels_adapters/common.py) does not even leave the event loop: read
as a `LoopRequest`, it runs the same `keep` and `answer_kept` as in its view, and only its INSERT
differs (async, shared with the requests that arrived meanwhile: inbox/loop_writes.py). What the
loop cannot finish alone (an inbox not kept, a query, tasks running inline, a body spooled to disk)
goes to the view, with nothing stored.
"""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
from functools import lru_cache

from asgiref.sync import sync_to_async
from django.conf import settings
from django.core import signals
from django.core.exceptions import RequestAborted
from django.core.handlers.asgi import ASGIHandler, get_script_prefix
from django.core.handlers.exception import convert_exception_to_response
from django.http import HttpRequest, HttpResponseBase
from django.urls import Resolver404, resolve, set_script_prefix

from channels_adapters.common import LoopRequest, Webhook
from config.celery import app as celery_app
from inbox import loop_writes
from inbox.services.raw_events import is_deferred

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
            webhook = _on_loop(scope["path"].removeprefix(scope.get("root_path", "")))
            response = webhook and await self._answer_on_loop(webhook, scope, body_file)
            if response is None:
                request, response = self.django.create_request(scope, body_file)
                if request is not None:
                    response = await self.respond(scope, request)
        await self.django.send_response(response, send)
        if response.streaming:  # closed only once its content has been read
            await self.close(response)

    async def _answer_on_loop(self, webhook: Webhook, scope, body_file) -> HttpResponseBase | None:
        """The answer, when the loop kept (or refused) the webhook itself; else None, with nothing
        stored and the body left for the view to read."""
        if getattr(body_file, "_rolled", False) or celery_app.conf.task_always_eager:
            return None
        body = body_file.read()
        body_file.seek(0)
        if settings.DATA_UPLOAD_MAX_MEMORY_SIZE is not None and len(body) > settings.DATA_UPLOAD_MAX_MEMORY_SIZE:
            return None  # the view refuses it
        try:
            kept = webhook.keep(LoopRequest.from_scope(scope, body))
            if isinstance(kept, HttpResponseBase):
                return kept
            await loop_writes.insert(kept[0])
        except Exception:  # noqa: BLE001 - a query the loop cannot wait for, an inbox deleted meanwhile,
            # the database away: nothing was stored, and the view answers each as it should
            log.debug("the loop left a webhook to its view", exc_info=True)
            return None
        return webhook.answer_kept(*kept)

    def _respond(self, scope, request: HttpRequest) -> HttpResponseBase:
        set_script_prefix(get_script_prefix(scope))
        signals.request_started.send(sender=ASGIHandler, scope=scope)
        response = _run_view(request)
        if not response.streaming:
            _close(response)
        return response


@lru_cache(maxsize=1024)
def _on_loop(path_info: str) -> Webhook | None:
    """The webhook at this path, if the loop may take it (`Webhook.on_loop`, a deferred endpoint);
    kept per path for the life of the process, as the URLconf is."""
    try:
        webhook = getattr(resolve(path_info).func, "webhook", None)
    except Resolver404:
        return None
    return webhook if webhook is not None and webhook.on_loop and is_deferred(webhook.endpoint) and (
        loop_writes.available()) else None


def _close(response: HttpResponseBase) -> None:
    response.close()  # sends request_finished: the database connection goes back to the pool


@convert_exception_to_response  # Django's error responses: 404, 400 for bad input, a logged 500
def _run_view(request: HttpRequest) -> HttpResponseBase:
    match = resolve(request.path_info)
    request.resolver_match = match
    return match.func(request, *match.args, **match.kwargs)
