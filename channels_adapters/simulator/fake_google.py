"""A fake Google for `make run` (mounted at /simulator/google/ when HERON_FAKE_PROVIDERS is on), so agent
replies from the demo Business Messages inbox go out offline through the real sender and google-auth.

- POST /token: the service-account JWT grant (RFC 7523). The assertion must be an RS256 JWT signed by
  the key of a Business Messages inbox's service account (`iss` = its client_email); the answer is
  `{"access_token", "expires_in", "token_type"}`.
- POST /v1/conversations/{id}/messages: needs a token issued here; a reused messageId gets 409
  ALREADY_EXISTS, like Google.
Tests use their own fake server (tests/fakes/google.py); this one is for humans.
"""

from __future__ import annotations

import base64
import binascii
import secrets
import threading

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding
from django.http import JsonResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from config import json_input
from inbox.models import Inbox

JWT_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"

# The fake's memory (demo and tests), for the life of the process that serves it: the tokens it issued
# and the messageIds it accepted. Nothing resets it; ids are unique and tokens random.
_issued_tokens: set[str] = set()
_sent_message_ids: set[str] = set()
_lock = threading.Lock()


def _error(status: int, google_status: str, message: str) -> JsonResponse:
    return JsonResponse({"error": {"code": status, "message": message, "status": google_status}}, status=status)


def _b64url(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def _signed_by_an_inbox(assertion: str) -> bool:
    """The JWT's signature checks out with the key of the service account it names."""
    try:
        header, claims, signature = assertion.split(".")
        issuer = json_input.loads(_b64url(claims)).get("iss", "")
        signature_bytes = _b64url(signature)
    except (ValueError, binascii.Error, UnicodeDecodeError, AttributeError):
        return False
    for inbox in Inbox.objects.filter(channel="google_business"):
        info = inbox.credentials.get("service_account_info") or {}
        if not isinstance(info, dict) or info.get("client_email") != issuer or not info.get("private_key"):
            continue
        key = serialization.load_pem_private_key(info["private_key"].encode(), password=None).public_key()
        try:
            key.verify(signature_bytes, f"{header}.{claims}".encode(), padding.PKCS1v15(), hashes.SHA256())
        except InvalidSignature:
            continue
        return True
    return False


@csrf_exempt
@require_POST
def token(request):
    if request.POST.get("grant_type") != JWT_GRANT or not _signed_by_an_inbox(request.POST.get("assertion", "")):
        return JsonResponse({"error": "invalid_grant", "error_description": "Invalid JWT signature."}, status=400)
    access_token = f"ya29.demo-{secrets.token_hex(16)}"
    with _lock:
        _issued_tokens.add(access_token)
    return JsonResponse({"access_token": access_token, "expires_in": 3600, "token_type": "Bearer"})


@csrf_exempt
@require_POST
def send_message(request, conversation_id: str):
    auth = request.headers.get("Authorization", "")
    if not auth.startswith("Bearer ") or auth[7:] not in _issued_tokens:
        return _error(401, "UNAUTHENTICATED", "Request had invalid authentication credentials.")
    try:
        body = json_input.loads(request.body)
        message_id = str(body["messageId"])
    except (ValueError, KeyError, TypeError):
        return _error(400, "INVALID_ARGUMENT", "messageId is required.")
    with _lock:
        if message_id in _sent_message_ids:
            return _error(409, "ALREADY_EXISTS", f"Message {message_id} already exists.")
        _sent_message_ids.add(message_id)
    return JsonResponse({**body, "name": f"conversations/{conversation_id}/messages/{message_id}"})


urlpatterns = [
    path("token", token),
    path("v1/conversations/<str:conversation_id>/messages", send_message),
]
