"""Demo data for `manage.py seed_demo`: a Business Messages inbox and one customer message, parsed
from a webhook body in the shape Google sends (samples.md) by the same code the webhook runs."""

from __future__ import annotations

import json
import uuid

from inbox.models import Inbox, Team
from inbox.services.ingest import record_inbound

DEMO_AGENT = "brands/1111/agents/2222"


def demo_credentials(base_url: str) -> dict:
    """Webhook keys, and a service account of its own whose tokens come from the fake Google that
    `make run` mounts (channels_adapters/simulator/fake_google.py), so replies go out offline."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption()).decode()
    return {
        "partner_key": "demo-partner-key", "client_token": "demo-client-token",
        "service_account_info": {
            "type": "service_account", "project_id": "heron-demo", "private_key_id": uuid.uuid4().hex,
            "private_key": pem, "client_email": "heron-demo@heron-demo.iam.gserviceaccount.com",
            "token_uri": f"{base_url}/simulator/google/token",
        },
    }


def seed() -> Inbox:
    from django.conf import settings

    from channels_adapters.google_business.parse import parse_webhook

    inbox, created = Inbox.objects.get_or_create(
        channel="google_business", address=DEMO_AGENT,
        defaults={"name": "Demo Google", "team": Team.objects.get_or_create(name="Support")[0]},
    )
    if not created and inbox.credentials.get("service_account_info"):
        return inbox
    # New, or seeded before the demo had a service account: its replies could not go out.
    inbox.credentials = demo_credentials(settings.PUBLIC_BASE_URL)
    inbox.save(update_fields=["encrypted_credentials"])
    if not created:
        return inbox
    message_id = uuid.uuid4().hex
    body = json.dumps({
        "agent": DEMO_AGENT, "conversationId": "demo-3333", "customAgentId": "acme-support",
        "requestId": uuid.uuid4().hex,
        "message": {"messageId": message_id, "name": f"conversations/demo-3333/messages/{message_id}",
                    "text": "Hi, is the Market St store open on Sunday?", "createTime": "2024-05-02T15:05:23.045123456Z"},
        "context": {"entryPoint": "PLACESHEET", "placeId": "ChIJN1t_tDeuEmsRUsoyG83frY4",
                    "userInfo": {"displayName": "Alice C.", "userDeviceLocale": "en-US"}, "resolvedLocale": "en"},
        "sendTime": "2024-05-02T15:05:24.045123456Z",
    }).encode()
    record_inbound(parse_webhook(body, inbox.pk))
    return inbox
