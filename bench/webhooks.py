"""Signed inbound webhooks, built the way the provider builds them.

SMS (Twilio form POST with `X-Twilio-Signature`) when `channels_adapters/twilio_sms` exists and
the server routes `/webhooks/twilio/sms/`; otherwise the simulator channel's signed JSON webhook,
and `channel` says so.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from urllib.parse import urlencode

import httpx

from bench.common import SECRET_KEY, BenchError, sms_adapter_present

SMS_PATH = "/webhooks/twilio/sms/"
SIMULATOR_PATH = "/webhooks/simulator/inbound/"
INBOX_NUMBER = "+15005550006"


@dataclass(frozen=True)
class Webhook:
    path: str
    body: bytes
    headers: dict
    external_id: str


def sender_number(i: int) -> str:
    """A spread of valid-looking US numbers, written in E.164."""
    return f"+1415555{i % 10_000:04d}" if i < 10_000 else f"+1628555{i % 10_000:04d}"


class WebhookFactory:
    def __init__(self, server_url: str, admin_token: str, team: str | None = None):
        self.server_url = server_url
        self.api = httpx.Client(base_url=server_url, headers={"Authorization": f"Token {admin_token}"}, timeout=30)
        if team is not None:  # the API names a team by its id
            team = next(t["id"] for t in self.api.get("/api/v1/teams/").json() if t["name"] == team)
        self.channel, self.note = "simulator", ""
        if sms_adapter_present():
            self.account_sid = "AC" + secrets.token_hex(16)
            self.auth_token = secrets.token_hex(16)
            self.inbox = self._create_inbox(
                {"name": "Bench SMS", "channel": "sms", "address": INBOX_NUMBER, "team": team,
                 "credentials": {"account_sid": self.account_sid, "auth_token": self.auth_token}}
            )
            if self._sms_routed():
                from twilio.request_validator import RequestValidator

                self.validator = RequestValidator(self.auth_token)
                self.channel = "sms"
        if self.channel != "sms":
            self.note = (
                "channels_adapters/twilio_sms is not there (or /webhooks/twilio/sms/ is not routed): "
                "falling back to the simulator channel's signed JSON webhook"
            )
            self.inbox = self._create_inbox(
                {"name": "Bench simulator", "channel": "simulator", "address": "bench", "team": team,
                 "credentials": {}}
            )
        self.api.close()

    def _sms_routed(self) -> bool:
        """An unsigned request for our inbox: 403 when the adapter is wired, 404 when it is not."""
        response = httpx.post(
            self.server_url + SMS_PATH, data={"AccountSid": self.account_sid, "To": INBOX_NUMBER}, timeout=10
        )
        return response.status_code == 403

    def _create_inbox(self, payload: dict) -> dict:
        response = self.api.post("/api/v1/inboxes/", json=payload)
        if response.status_code != 201:
            raise BenchError(f"creating the bench inbox failed: {response.status_code} {response.text}")
        return response.json()

    def build(self, i: int, sender: str, text: str = "") -> Webhook:
        text = text or f"Hello from the benchmark, message {i}. Is my order on its way?"
        if self.channel == "sms":
            sid = "SM" + secrets.token_hex(16)
            params = {
                "MessageSid": sid, "SmsSid": sid, "SmsMessageSid": sid, "AccountSid": self.account_sid,
                "From": sender, "To": INBOX_NUMBER, "Body": text, "NumMedia": "0", "NumSegments": "1",
                "SmsStatus": "received", "ApiVersion": "2010-04-01", "FromCountry": "US", "ToCountry": "US",
            }
            signature = self.validator.compute_signature(self.server_url + SMS_PATH, params)
            return Webhook(
                SMS_PATH, urlencode(params).encode(),
                {"Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": signature,
                 "I-Twilio-Idempotency-Token": secrets.token_hex(16)},
                sid,
            )
        sid = "SIMIN" + secrets.token_hex(16)
        body = json.dumps({"inbox": "bench", "from": sender, "name": "", "text": text, "id": sid}).encode()
        signature = hmac.new(SECRET_KEY.encode(), body, hashlib.sha256).hexdigest()
        return Webhook(SIMULATOR_PATH, body, {"Content-Type": "application/json", "X-Heron-Signature": signature}, sid)
