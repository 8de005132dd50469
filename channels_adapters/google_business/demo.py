"""Demo data for `manage.py seed_demo`: a Business Messages inbox and one customer message, parsed
from a webhook body in the shape Google sends (samples.md) by the same code the webhook runs."""

from __future__ import annotations

import json
import uuid

from inbox.models import Inbox, Team
from inbox.services.ingest import record_inbound

DEMO_AGENT = "brands/1111/agents/2222"
DEMO_CREDENTIALS = {"partner_key": "demo-partner-key", "client_token": "demo-client-token",
                    "service_account_info": {}}


def seed() -> Inbox:
    from channels_adapters.google_business.parse import parse_webhook

    inbox, created = Inbox.objects.get_or_create(
        channel="google_business", address=DEMO_AGENT,
        defaults={"name": "Demo Google", "team": Team.objects.get_or_create(name="Support")[0]},
    )
    if not created:
        return inbox
    inbox.credentials = DEMO_CREDENTIALS
    inbox.save(update_fields=["encrypted_credentials"])
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
