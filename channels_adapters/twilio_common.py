"""What every Twilio adapter shares: the webhook signature check, the REST client, media downloads,
and strict reading of webhook form bodies.

Nothing here knows about SMS or voice; the adapters in `twilio_sms/` and `twilio_voice/` use it.
"""

from __future__ import annotations

import hmac
import re
import threading
from collections.abc import Callable
from urllib.parse import parse_qs, urlsplit

from django.conf import settings
from django.http import HttpResponseBase, JsonResponse
from django.utils.datastructures import MultiValueDict
from twilio.http.http_client import TwilioHttpClient
from twilio.http.response import Response as TwilioResponse
from twilio.request_validator import RequestValidator
from twilio.rest import Client

from channels_adapters.base import PermanentSendError
from channels_adapters.common import WebhookRequest, checked_text, download_media, forbidden
from inbox.models import Inbox
from inbox.services.identities import InvalidIdentity, normalize_phone
from inbox.services.raw_events import BadPayload

SIGNATURE_HEADER = "X-Twilio-Signature"
SID_RE = re.compile(r"^[A-Za-z]{2}[0-9A-Za-z]{1,62}$")


def public_url(request: WebhookRequest) -> str:
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


class FormParams(MultiValueDict):
    """A parsed form as Twilio's `RequestValidator` reads it best: the SDK asks for `getall` first,
    and without it pays for an AttributeError on every parameter before it tries `getlist`."""

    getall = MultiValueDict.getlist


def signed_params(request: WebhookRequest) -> FormParams:
    """The form Twilio signed, read as Django reads `request.POST`: what is not UTF-8 with replacement
    characters (the endpoint's strict parse refuses it once the signature has been checked)."""
    try:
        return FormParams(form(request.body))
    except BadPayload:
        return FormParams(form(request.body, errors="replace"))


def request_is_signed(request: WebhookRequest, params: FormParams, credentials: dict) -> bool:
    """Validate X-Twilio-Signature of a form-encoded POST against the inbox's auth token(s).

    Twilio's own check signs twice (the URL with its default port added, and removed): the URL as
    given, the one Twilio was given, is tried alone first.
    """
    url, signature, tokens = public_url(request), request.headers.get(SIGNATURE_HEADER, ""), auth_tokens(credentials)
    return bool(signature) and any(
        hmac.compare_digest(RequestValidator(token).compute_signature(url, params), signature) for token in tokens
    ) or signature_is_valid(url, params, signature, tokens)


def verified_inbox(request: WebhookRequest, find_inbox: Callable[..., Inbox | None], *,
                   not_found: str) -> Inbox | HttpResponseBase:
    """The inbox `find_inbox(params, fresh=False)` finds for a request, once the request's signature
    checks out against it; else the refusal to send. Kept credentials (inbox/inbox_cache.py) may be
    older than a token rotation: a signature they refuse is checked against the stored ones."""
    params = signed_params(request)
    inbox = find_inbox(params)
    if inbox is not None and not request_is_signed(request, params, inbox.credentials):
        inbox = find_inbox(params, fresh=True)
        if inbox is not None and not request_is_signed(request, params, inbox.credentials):
            return forbidden("Invalid or missing X-Twilio-Signature.")
    return inbox or JsonResponse({"detail": not_found}, status=404)


def sign(url: str, params: dict, auth_token: str) -> str:
    """What Twilio would put in X-Twilio-Signature (used by the simulator and the fake REST API)."""
    return RequestValidator(auth_token).compute_signature(url, params)


def check_account(credentials: dict) -> None:
    """An inbox without its account SID and auth token cannot call Twilio at all."""
    if not credentials.get("account_sid") or not credentials.get("auth_token"):
        raise PermanentSendError("The inbox has no Twilio account SID or auth token configured.")


class KeepsLastAnswer(TwilioHttpClient):
    """Keeps the last answer Twilio (or whatever answered for it) gave, before the SDK reads it: a
    2xx the SDK cannot parse is kept on the message for the agent."""

    last_answer: TwilioResponse | None = None

    def request(self, *args, **kwargs) -> TwilioResponse:
        self.last_answer = super().request(*args, **kwargs)
        return self.last_answer


def client(credentials: dict) -> Client:
    """A twilio-python client for an inbox's account, pointed at settings.TWILIO_API_BASE_URL when set.

    It waits HERON_PROVIDER_TIMEOUT_SECONDS for an answer (`KeepsLastAnswer`)."""
    check_account(credentials)
    account_sid, auth_token = credentials["account_sid"], credentials["auth_token"]
    twilio = Client(
        credentials.get("api_key_sid") or account_sid,
        credentials.get("api_key_secret") or auth_token,
        account_sid=account_sid,
        http_client=KeepsLastAnswer(timeout=settings.HERON["PROVIDER_TIMEOUT_SECONDS"]),
    )
    base_url = getattr(settings, "TWILIO_API_BASE_URL", "")
    if base_url:
        twilio.api.base_url = base_url.rstrip("/")
    return twilio


def fetch_media(url: str, credentials: dict) -> tuple[bytes, str]:
    """Download a Twilio-held file with Basic Auth (AccountSid:AuthToken), following redirects.

    Twilio answers with a redirect to its storage; httpx drops the Authorization header when the
    redirect leaves the origin.
    """
    auth = (credentials.get("account_sid", ""), credentials.get("auth_token", ""))
    return download_media(url, provider="Twilio", auth=auth)


# ------------------------------------------------------------------ webhook bodies (form-encoded)
# This thread's last body parsed strictly, and its form: a webhook's signature check and then its
# endpoint's check read the same body (the same object) and parse it once, which is most of what
# the check costs. Each thread (the event loop's too) only ever replaces its own entry.
_last_parsed = threading.local()


def form(body: bytes, *, errors: str = "strict") -> dict[str, list[str]]:
    """A raw body, parsed strictly: what Django would decode with replacement characters is refused
    (unless `errors="replace"`). Read it, never change it: the same form may be given again."""
    if errors == "strict" and getattr(_last_parsed, "body", None) is body:
        return _last_parsed.form
    try:
        parsed = parse_qs(bytes(body).decode("utf-8", errors), keep_blank_values=True, encoding="utf-8",
                          errors=errors, max_num_fields=500)
    except UnicodeDecodeError as exc:
        raise BadPayload("The request body is not valid UTF-8 form data") from exc
    except ValueError as exc:
        raise BadPayload(f"The request body is not valid form data: {exc}") from exc
    if errors == "strict":
        _last_parsed.body, _last_parsed.form = body, parsed
    return parsed


def param(params: dict[str, list[str]], name: str, *, required: bool = False, limit: int = 255) -> str:
    """The first value of a form parameter, as sent (not stripped), without NUL characters (common.without_nul)."""
    return checked_text((params.get(name) or [""])[0].replace("\x00", ""), name, required=required, limit=limit)


def valid_sid(value: str, name: str) -> str:
    if not SID_RE.match(value):
        raise BadPayload(f"'{name}' is not a Twilio SID")
    return value


def is_inbox_number(address: str, number: str) -> bool:
    """Whether an inbox's address (however an admin typed it) is this E.164 number."""
    try:
        return address == number or normalize_phone(address) == number
    except InvalidIdentity:
        return False


def valid_phone(value: str, name: str) -> str:
    """The parameter's phone number in E.164."""
    try:
        return normalize_phone(value)
    except InvalidIdentity as exc:
        raise BadPayload(f"'{name}' is not a phone number: {value!r}") from exc


def valid_http_url(value: str, name: str) -> str:
    if urlsplit(value).scheme not in ("http", "https"):
        raise BadPayload(f"'{name}' is not an http(s) URL")
    return value
