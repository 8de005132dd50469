"""HTTP (Django) and websockets (Channels) on one ASGI app, served by uvicorn."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django_asgi_app = get_asgi_application()

from config.checks import refuse_unsafe_start  # noqa: E402

refuse_unsafe_start()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from django.conf import settings  # noqa: E402
from django.urls import path  # noqa: E402

from config.request_limits import BodyLimit  # noqa: E402
from config.webhook_fast_path import WebhookFastPath  # noqa: E402
from inbox.realtime.auth import TokenOrSessionAuth  # noqa: E402
from inbox.realtime.consumers import InboxConsumer  # noqa: E402

if settings.EMBEDDED_SCHEDULER:
    from config.embedded_scheduler import start_embedded_scheduler

    start_embedded_scheduler()

application = ProtocolTypeRouter(
    {
        "http": BodyLimit(
            WebhookFastPath(django_asgi_app, threads=settings.HERON["WEBHOOK_THREADS"])
            if settings.HERON["WEBHOOK_FAST_PATH"] else django_asgi_app
        ),
        "websocket": TokenOrSessionAuth(URLRouter([path("ws/inbox/", InboxConsumer.as_asgi())])),
    }
)
