"""`manage.py simulate google --from <conversationId> --name "Alice C." --text "..." [--to <agent>]`

Posts the webhook Google would post for a customer's Business Messages event, signed with the
inbox's partner key (X-Goog-Signature), to the running server (PUBLIC_BASE_URL).
`--event typing` / `--event live_agent` send a typing or "live agent requested" event instead.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

import httpx
from django.conf import settings
from django.core.management.base import CommandError

from channels_adapters.google_business import SIGNATURE_HEADER, WEBHOOK_PATH
from channels_adapters.google_business.signing import sign
from inbox.models import Inbox

EVENTS = ("message", "typing", "live_agent")


def add_arguments(parser) -> None:
    parser.add_argument("--from", dest="sender", default="3333", help="Google conversationId of the customer")
    parser.add_argument("--name", default="Alice C.", help="Customer display name (context.userInfo)")
    parser.add_argument("--text", default="", help="Message text (required for --event message)")
    parser.add_argument("--to", default="", help="Inbox address (agent name or customAgentId); default: the first inbox")
    parser.add_argument("--event", default="message", choices=EVENTS, help="What the customer does")
    parser.add_argument("--id", dest="message_id", default="", help="messageId (repeat one to simulate a retry)")


def find_inbox(agent: str) -> Inbox:
    inboxes = Inbox.objects.filter(channel="google_business").order_by("id")
    inbox = inboxes.filter(address=agent).first() if agent else inboxes.first()
    if inbox is None:
        raise CommandError(f"No Business Messages inbox {agent!r}; create one (docs/google.md) or run seed_demo."
                           if agent else "There is no Business Messages inbox; create one or run seed_demo.")
    return inbox


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def build_payload(inbox: Inbox, options: dict) -> dict:
    agent = inbox.address if inbox.address.startswith("brands/") else ""
    payload: dict = {
        "agent": agent or "brands/0/agents/0", "conversationId": options["sender"],
        "customAgentId": "" if agent else inbox.address, "requestId": uuid.uuid4().hex,
        "context": {"entryPoint": "PLACESHEET", "placeId": "ChIJN1t_tDeuEmsRUsoyG83frY4",
                    "userInfo": {"displayName": options.get("name") or "", "userDeviceLocale": "en-US"},
                    "resolvedLocale": "en"},
        "sendTime": _now(),
    }
    event = options.get("event") or "message"
    if event == "typing":
        payload["userStatus"] = {"isTyping": "true", "createTime": _now()}
    elif event == "live_agent":
        payload["userStatus"] = {"requestedLiveAgent": True, "createTime": _now()}
    else:
        if not options.get("text"):
            raise CommandError("--text is required for a message")
        message_id = options.get("message_id") or uuid.uuid4().hex
        payload["message"] = {"messageId": message_id, "name": f"conversations/{options['sender']}/messages/{message_id}",
                              "text": options["text"], "createTime": _now()}
    return payload


def run(options: dict) -> httpx.Response:
    inbox = find_inbox(options.get("to") or "")
    body = json.dumps(build_payload(inbox, options)).encode()
    partner_key = str(inbox.credentials.get("partner_key") or "")
    if not partner_key:
        raise CommandError(f"Inbox {inbox.address} has no partner_key credential to sign with.")
    return httpx.post(
        settings.PUBLIC_BASE_URL + WEBHOOK_PATH, content=body, timeout=30,
        headers={"Content-Type": "application/json", SIGNATURE_HEADER: sign(body, partner_key),
                 "User-Agent": "Google-Business-Messages (heron simulate)"},
    )
