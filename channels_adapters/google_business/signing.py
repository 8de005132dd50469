"""X-Goog-Signature: base64(HMAC-SHA512(key=partner_key, msg=raw request body)). No official test vector exists."""

import base64
import hashlib
import hmac


def sign(body: bytes, partner_key: str) -> str:
    return base64.b64encode(hmac.new(partner_key.encode(), body, hashlib.sha512).digest()).decode()


def is_valid(body: bytes, signature: str, partner_key: str) -> bool:
    if not signature or not partner_key:
        return False
    return hmac.compare_digest(sign(body, partner_key).encode(), signature.strip().encode())
