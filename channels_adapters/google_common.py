"""What the Google adapters share: service-account credentials → an authorized HTTP session,
API base URLs (settings, so tests and demos point them at a local fake), Google's error shape,
and RFC 3339 timestamps.

Nothing here knows about Business Messages or reviews; `google_business/` and `google_reviews/` use it.
"""

from __future__ import annotations

import hashlib
import json
import threading
from datetime import UTC, datetime

import requests
from django.conf import settings
from google.auth import exceptions as google_exceptions
from google.auth.transport.requests import AuthorizedSession
from google.oauth2 import service_account

from channels_adapters.base import PermanentSendError, TransientSendError, UnconfirmedSend
from channels_adapters.common import request_never_left
from config import json_input

SCOPE_BUSINESS_MESSAGES = "https://www.googleapis.com/auth/businessmessages"
SCOPE_BUSINESS_MANAGE = "https://www.googleapis.com/auth/business.manage"

DEFAULT_BUSINESS_MESSAGES_API = "https://businessmessages.googleapis.com"
DEFAULT_BUSINESS_PROFILE_API = "https://mybusiness.googleapis.com"


def business_messages_api() -> str:
    return (getattr(settings, "GOOGLE_BUSINESS_MESSAGES_API_BASE_URL", "") or DEFAULT_BUSINESS_MESSAGES_API).rstrip("/")


def business_profile_api() -> str:
    return (getattr(settings, "GOOGLE_BUSINESS_PROFILE_API_BASE_URL", "") or DEFAULT_BUSINESS_PROFILE_API).rstrip("/")


def service_account_info(credentials: dict) -> dict:
    """The inbox's service account key (the JSON Google hands out), as a dict; a JSON string is accepted too."""
    info = credentials.get("service_account_info")
    if isinstance(info, str) and info.strip():
        try:
            info = json_input.loads(info)
        except json_input.JSONInputError as exc:
            raise PermanentSendError("The inbox's service_account_info is not valid JSON.") from exc
    if not isinstance(info, dict) or not info.get("private_key") or not info.get("client_email"):
        raise PermanentSendError(
            "The inbox has no Google service account configured (credentials.service_account_info)."
        )
    return info


# One session per (service account key, scopes): google-auth caches the access token inside the
# credentials and refreshes it before it expires, so a worker asks the token endpoint once an hour.
# Process-wide, owned by `authorized_session`: past _MAX_SESSIONS the oldest goes; a new key is a new entry.
_sessions: dict[tuple[str, tuple[str, ...]], AuthorizedSession] = {}
_sessions_lock = threading.Lock()
_MAX_SESSIONS = 64


def authorized_session(credentials: dict, scopes: list[str]) -> AuthorizedSession:
    info = service_account_info(credentials)
    key = (hashlib.sha256(json.dumps(info, sort_keys=True).encode()).hexdigest(), tuple(sorted(scopes)))
    with _sessions_lock:
        session = _sessions.get(key)
        if session is None:
            try:
                creds = service_account.Credentials.from_service_account_info(info, scopes=list(scopes))
            except (ValueError, KeyError) as exc:
                raise PermanentSendError(f"The Google service account key is unusable: {exc}") from exc
            if len(_sessions) >= _MAX_SESSIONS:
                _sessions.pop(next(iter(_sessions))).close()
            session = _sessions[key] = AuthorizedSession(creds)
        return session


def call(session: AuthorizedSession, method: str, url: str, **kwargs) -> requests.Response:
    """One API call; network and token failures become Transient/PermanentSendError, and a call
    whose answer was lost after it reached Google (a timeout, a reset) UnconfirmedSend."""
    kwargs.setdefault("timeout", settings.HERON["PROVIDER_TIMEOUT_SECONDS"])
    try:
        return session.request(method, url, **kwargs)
    except google_exceptions.RefreshError as exc:
        # The token endpoint refused the service account (revoked key, wrong scopes) unless it says retry.
        if getattr(exc, "retryable", False):
            raise TransientSendError(f"Google's token endpoint failed: {exc}") from exc
        raise PermanentSendError(f"Google refused the service account: {exc}", code="UNAUTHENTICATED") from exc
    except google_exceptions.TransportError as exc:
        raise TransientSendError(f"Could not reach Google's token endpoint: {exc}") from exc
    except requests.RequestException as exc:
        if request_never_left(exc):
            raise TransientSendError(f"Could not reach Google: {exc}") from exc
        raise UnconfirmedSend(f"Google's answer was lost: {exc}") from exc


def json_answer(response: requests.Response) -> dict | None:
    """The JSON object Google answered with, or None when the answer is something else (a proxy's page)."""
    try:
        body = response.json()
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


def error_status(response: requests.Response) -> tuple[str, str]:
    """Google's error body `{"error": {"code", "message", "status"}}` → (status, message)."""
    error = (json_answer(response) or {}).get("error") or {}
    if not isinstance(error, dict):
        error = {}
    return str(error.get("status") or ""), str(error.get("message") or response.reason or "")[:400]


def raise_for_status(response: requests.Response, what: str) -> None:
    """5xx and 429 → TransientSendError (retried); any other 4xx → PermanentSendError with Google's reason."""
    if response.status_code < 400:
        return
    status, message = error_status(response)
    label = f"{response.status_code} {status}".strip()
    if response.status_code >= 500 or response.status_code == 429:
        raise TransientSendError(f"{what}: Google answered {label}: {message}")
    raise PermanentSendError(f"{what}: Google answered {label}: {message}", code=status or str(response.status_code))


def parse_time(value: str) -> datetime | None:
    """RFC 3339 as Google writes it (`Z`, up to nanoseconds) → aware datetime; None if unparsable."""
    if not isinstance(value, str) or not value:
        return None
    text = value.strip().replace("z", "Z")
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    if "." in text:
        head, _, rest = text.partition(".")
        digits = len(rest) - len(rest.lstrip("0123456789"))
        text = f"{head}.{rest[:digits][:6].ljust(6, '0')}{rest[digits:]}"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
