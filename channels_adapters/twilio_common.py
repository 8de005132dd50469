"""What every Twilio adapter shares: the webhook signature check, the REST client, media downloads.

Nothing here knows about SMS or voice; the adapters in `twilio_sms/` (and later `twilio_voice/`) use it.
"""

from __future__ import annotations

import httpx
from django.conf import settings
from django.http import HttpRequest
from twilio.http.http_client import TwilioHttpClient
from twilio.request_validator import RequestValidator
from twilio.rest import Client

from channels_adapters.base import PermanentSendError, TransientSendError

SIGNATURE_HEADER = "X-Twilio-Signature"
# Twilio caps MMS at 5 MB in total; anything far larger is not a Twilio media file.
MAX_MEDIA_BYTES = 25 * 1024 * 1024
REST_TIMEOUT_SECONDS = 15


def public_url(request: HttpRequest) -> str:
    """The URL Twilio signed: our public base URL (scheme + host as Twilio sees them) + path + query.

    Behind a TLS-terminating proxy Django sees http:// and an internal host; Twilio signed the URL
    it was given in the console, which is what PUBLIC_BASE_URL describes.
    """
    return settings.PUBLIC_BASE_URL + request.get_full_path()


def auth_tokens(credentials: dict) -> list[str]:
    """The primary token, then the secondary one (accepted while a token rotation is under way)."""
    return [t for t in (credentials.get("auth_token"), credentials.get("secondary_auth_token")) if t]


def signature_is_valid(url: str, params, signature: str, tokens: list[str]) -> bool:
    """True when `signature` is Twilio's signature of (url, params) under any of `tokens`."""
    if not signature or not tokens:
        return False
    return any(RequestValidator(token).validate(url, params, signature) for token in tokens)


def request_is_signed(request: HttpRequest, credentials: dict) -> bool:
    """Validate X-Twilio-Signature of a form-encoded POST (or a GET) against the inbox's auth token(s)."""
    if request.method == "POST":
        params = request.body.decode("utf-8", "replace") if request.content_type == "application/json" else request.POST
    else:
        params = {}  # GET: the parameters are part of the signed URL already
    return signature_is_valid(
        public_url(request), params, request.headers.get(SIGNATURE_HEADER, ""), auth_tokens(credentials)
    )


def sign(url: str, params: dict, auth_token: str) -> str:
    """What Twilio would put in X-Twilio-Signature (used by the simulator and the fake REST API)."""
    return RequestValidator(auth_token).compute_signature(url, params)


def client(credentials: dict) -> Client:
    """A twilio-python client for an inbox's account, pointed at settings.TWILIO_API_BASE_URL when set."""
    account_sid = credentials.get("account_sid", "")
    auth_token = credentials.get("auth_token", "")
    if not account_sid or not auth_token:
        raise PermanentSendError("The inbox has no Twilio account SID or auth token configured.")
    twilio = Client(
        credentials.get("api_key_sid") or account_sid,
        credentials.get("api_key_secret") or auth_token,
        account_sid=account_sid,
        http_client=TwilioHttpClient(timeout=REST_TIMEOUT_SECONDS),
    )
    base_url = getattr(settings, "TWILIO_API_BASE_URL", "")
    if base_url:
        twilio.api.base_url = base_url.rstrip("/")
    return twilio


def fetch_media(url: str, credentials: dict) -> tuple[bytes, str]:
    """Download a Twilio-held file with Basic Auth (AccountSid:AuthToken), following redirects.

    Twilio answers with a redirect to its storage; httpx drops the Authorization header when the
    redirect leaves the origin. 5xx, 429 and network errors raise TransientSendError (retried);
    other refusals raise PermanentSendError (the download is marked failed with the reason).
    """
    auth = (credentials.get("account_sid", ""), credentials.get("auth_token", ""))
    try:
        with httpx.stream("GET", url, auth=auth, follow_redirects=True, timeout=30) as response:
            if response.status_code >= 500 or response.status_code == 429:
                raise TransientSendError(f"Twilio media server answered {response.status_code}")
            if response.status_code >= 400:
                raise PermanentSendError(f"Twilio refused the media download ({response.status_code})",
                                         code=str(response.status_code))
            chunks, size = [], 0
            for chunk in response.iter_bytes():
                size += len(chunk)
                if size > MAX_MEDIA_BYTES:
                    raise PermanentSendError(f"Media is larger than {MAX_MEDIA_BYTES} bytes")
                chunks.append(chunk)
            return b"".join(chunks), response.headers.get("Content-Type", "")
    except httpx.HTTPError as exc:
        raise TransientSendError(f"Could not download media: {exc}") from exc
