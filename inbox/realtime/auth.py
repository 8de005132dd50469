"""Websocket authentication: the browser's session cookie, or `Authorization: Token <key>`."""

from urllib.parse import urlparse

from channels.auth import AuthMiddlewareStack
from channels.db import database_sync_to_async
from django.conf import settings
from django.contrib.auth.models import AnonymousUser


def user_for_token(key: str):
    """The active user the token belongs to, else the anonymous user (sync: call it off the loop)."""
    from rest_framework.authtoken.models import Token

    token = Token.objects.select_related("user__heron").filter(key=key).first()
    return token.user if token and token.user.is_active else AnonymousUser()


def _header(scope, name: bytes) -> str:
    for key, value in scope.get("headers", []):
        if key.lower() == name:
            return value.decode("latin-1")
    return ""


class TokenOrSessionAuth:
    """Token clients are not browsers, so origin checks apply only to cookie-authenticated sockets."""

    def __init__(self, app):
        self.app = app
        self.session_app = AuthMiddlewareStack(app)

    async def __call__(self, scope, receive, send):
        authorization = _header(scope, b"authorization")
        if authorization.lower().startswith("token "):
            key = authorization.split(" ", 1)[1].strip()
            # The key stays in the scope so the socket can check it again (`realtime.access`).
            scope = dict(scope, user=await database_sync_to_async(user_for_token)(key), auth_token=key)
            return await self.app(scope, receive, send)
        if not _origin_allowed(_header(scope, b"origin")):
            await send({"type": "websocket.close", "code": 4403})
            return None
        return await self.session_app(scope, receive, send)


def _origin_allowed(origin: str) -> bool:
    if not origin:
        return False
    host = urlparse(origin).hostname or ""
    public_host = urlparse(settings.PUBLIC_BASE_URL).hostname
    allowed = {h.lstrip(".") for h in settings.ALLOWED_HOSTS} | {public_host}
    return "*" in allowed or host in allowed
