"""The simulator's webhook signature: HMAC-SHA256 of the body with a shared secret, hex."""

import hashlib
import hmac

from django.conf import settings

HEADER = "X-Heron-Signature"


def secret() -> bytes:
    return getattr(settings, "SIMULATOR_WEBHOOK_SECRET", settings.SECRET_KEY).encode()


def sign(body: bytes) -> str:
    return hmac.new(secret(), body, hashlib.sha256).hexdigest()


def is_valid(body: bytes, signature: str) -> bool:
    return bool(signature) and hmac.compare_digest(sign(body), signature)
