"""ESP delivery reports (anymail tracking webhooks) on our outbound email.

Each reply really goes out through the ESP's anymail backend, to a local fake of the ESP's send API
(so the ESP's message id is the one anymail parsed from the answer); the ESP's report then comes back as
a real, authenticated webhook POST in the documented payload shape: Postmark (basic auth), Mailgun (basic
auth + HMAC signature) and SendGrid (basic auth + ECDSA signature).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from pytest_httpserver import HTTPServer

from inbox.models import DeliveryStatus, Event, Inbox, Message, RawInboundEvent
from inbox.services import outbound
from inbox.services.raw_events import replay_failed_events
from tests.fakes.local_server import local_http_server
from tests.support.email import basic_auth_header, mime, post_postmark

CUSTOMER = "alice@example.org"
POSTMARK_ID = "0a129aee-e1cd-480d-b08d-4f48548ff48d"
MAILGUN_ID = "<20260302100000.1.5B4A1F9E@heron.local>"
MAILGUN_SIGNING_KEY = "mailgun-signing-key"
SENDGRID_KEY = ec.generate_private_key(ec.SECP256R1())
BOUNCE_DETAIL = "550 5.1.1 The email account that you tried to reach does not exist."


# ----------------------------------------------------------------------------------- the three ESPs

def post_postmark_event(client, kind: str, esp_id: str, *, at: str = "", auth: str | None = None):
    """Postmark's Bounce / Delivery / Open webhooks (developer docs, "Webhooks")."""
    at = at or "2026-03-02T10:00:00.1234567Z"
    common = {"MessageStream": "outbound", "MessageID": esp_id, "ServerID": 23, "Metadata": {}, "Tag": ""}
    bounce = {"RecordType": "Bounce", "ID": 4323372036854775807, "Email": CUSTOMER, "From": "support@heron.local",
              "BouncedAt": at, "DumpAvailable": True, "Inactive": False, "CanActivate": True,
              "Subject": "Re: Order not delivered", **common}
    payload = {
        "bounced": {**bounce, "Type": "HardBounce", "TypeCode": 1, "Name": "Hard bounce", "Inactive": True,
                    "Description": "The server was unable to deliver your message (ex: unknown user, mailbox not found).",
                    "Details": f"smtp;{BOUNCE_DETAIL}"},
        "deferred": {**bounce, "Type": "Transient", "TypeCode": 2, "Name": "Message delayed",
                     "Description": "The server could not temporarily deliver your message.",
                     "Details": "smtp;452 4.2.2 Mailbox full"},
        "delivered": {"RecordType": "Delivery", "Recipient": CUSTOMER, "DeliveredAt": at,
                      "Details": "smtp;250 2.0.0 OK", **common},
        "opened": {"RecordType": "Open", "FirstOpen": True, "Platform": "WebMail", "ReceivedAt": at,
                   "Recipient": CUSTOMER, "UserAgent": "Mozilla/5.0 (Windows NT 10.0; Win64; x64)",
                   "Client": {"Name": "Chrome", "Company": "Google", "Family": "Chrome"},
                   "OS": {"Name": "Windows 10", "Company": "Microsoft", "Family": "Windows"}, **common},
        "unsubscribed": {"RecordType": "SubscriptionChange", "Recipient": CUSTOMER, "ChangedAt": at,
                         "SuppressSending": False, "SuppressionReason": None, "Origin": "Recipient", **common},
    }[kind]
    return client.post("/anymail/postmark/tracking/", data=json.dumps(payload), content_type="application/json",
                       HTTP_AUTHORIZATION=basic_auth_header() if auth is None else auth)


def mailgun_signature(key: str = MAILGUN_SIGNING_KEY) -> dict:
    timestamp, token = str(int(time.time())), uuid.uuid4().hex
    digest = hmac.new(key.encode(), (timestamp + token).encode(), hashlib.sha256).hexdigest()
    return {"timestamp": timestamp, "token": token, "signature": digest}


def post_mailgun_event(client, kind: str, esp_id: str, *, at: float = 0, signing_key: str = MAILGUN_SIGNING_KEY):
    """Mailgun's signed JSON webhooks ("event-data" with a "signature" block; a new token on every POST)."""
    data = {
        "id": uuid.uuid4().hex[:22], "timestamp": at or 1772445600.375624, "recipient": CUSTOMER,
        "recipient-domain": "example.org", "tags": [], "user-variables": {}, "campaigns": [],
        "envelope": {"sender": "bounce@heron.local", "transport": "smtp", "targets": CUSTOMER},
        "message": {"headers": {"to": CUSTOMER, "message-id": esp_id.strip("<>"), "from": "support@heron.local",
                                "subject": "Re: Order not delivered"}, "attachments": [], "size": 2048},
    }
    data |= {
        "bounced": {"event": "failed", "severity": "permanent", "reason": "bounce", "log-level": "error",
                    "delivery-status": {"attempt-no": 1, "code": 550, "message": BOUNCE_DETAIL, "description": "",
                                        "mx-host": "mx.example.org", "session-seconds": 0.3}},
        "deferred": {"event": "failed", "severity": "temporary", "reason": "generic", "log-level": "warn",
                     "delivery-status": {"attempt-no": 1, "code": 452, "message": "4.2.2 Mailbox full",
                                         "description": "", "retry-seconds": 600}},
        "delivered": {"event": "delivered", "log-level": "info",
                      "delivery-status": {"tls": True, "code": 250, "message": "OK", "description": "",
                                          "mx-host": "mx.example.org", "session-seconds": 0.4}},
        "opened": {"event": "opened", "log-level": "info", "ip": "203.0.113.7",
                   "client-info": {"client-type": "browser", "user-agent": "Mozilla/5.0"}},
    }[kind]
    body = {"signature": mailgun_signature(signing_key), "event-data": data}
    return client.post("/anymail/mailgun/tracking/", data=json.dumps(body), content_type="application/json",
                       HTTP_AUTHORIZATION=basic_auth_header())


def sendgrid_events(kind: str, esp_id: str, *, at: int = 0) -> list[dict]:
    """SendGrid's Event Webhook: a JSON array; anymail's id rides along in custom_args."""
    common = {"email": CUSTOMER, "timestamp": at or 1772445600, "smtp-id": "<14c5d75ce93.dfd.64b469@ismtpd-555>",
              "sg_event_id": base64.b64encode(uuid.uuid4().bytes).decode(),
              "sg_message_id": "14c5d75ce93.dfd.64b469.filter0001.16648.5515E0B88.0", "category": [],
              "anymail_id": esp_id}
    return [{**common, **{
        "bounced": {"event": "bounce", "type": "bounce", "status": "5.1.1", "reason": BOUNCE_DETAIL},
        "deferred": {"event": "deferred", "attempt": "1", "response": "452 4.2.2 Mailbox full"},
        "delivered": {"event": "delivered", "response": "250 OK", "tls": 1},
        "opened": {"event": "open", "useragent": "Mozilla/5.0", "ip": "203.0.113.7", "sg_machine_open": False},
    }[kind]}]


def post_sendgrid_events(client, events: list[dict], *, key=SENDGRID_KEY, signature: str | None = None):
    body = json.dumps(events).encode()
    timestamp = str(int(time.time()))
    if signature is None:
        signature = base64.b64encode(key.sign(timestamp.encode() + body, ec.ECDSA(hashes.SHA256()))).decode()
    return client.post("/anymail/sendgrid/tracking/", data=body, content_type="application/json",
                       HTTP_AUTHORIZATION=basic_auth_header(),
                       HTTP_X_TWILIO_EMAIL_EVENT_WEBHOOK_SIGNATURE=signature,
                       HTTP_X_TWILIO_EMAIL_EVENT_WEBHOOK_TIMESTAMP=timestamp)


@dataclass(frozen=True)
class Esp:
    name: str
    backend: str
    options: Callable[[str], dict]  # anymail backend options, given the fake API's URL
    fake_api: Callable[[HTTPServer], None]
    report: Callable  # (client, kind, esp message id) → webhook response
    bounce_status: str  # the ESP's own event name, kept as provider_status
    deferred_status: str
    opened_status: str

    def __str__(self) -> str:
        return self.name


POSTMARK = Esp(
    "postmark", "anymail.backends.postmark.EmailBackend",
    lambda url: {"server_token": "pm-server-token", "api_url": url},
    lambda api: api.expect_request("/email", method="POST", headers={"X-Postmark-Server-Token": "pm-server-token"})
    .respond_with_json({"To": CUSTOMER, "SubmittedAt": "2026-03-02T10:00:00Z", "MessageID": POSTMARK_ID,
                        "ErrorCode": 0, "Message": "OK"}),
    post_postmark_event, "HardBounce", "Transient", "Open",
)
MAILGUN = Esp(
    "mailgun", "anymail.backends.mailgun.EmailBackend",
    lambda url: {"api_key": "mg-api-key", "api_url": url},
    lambda api: api.expect_request("/heron.local/messages", method="POST")
    .respond_with_json({"id": MAILGUN_ID, "message": "Queued. Thank you."}),
    post_mailgun_event, "failed (permanent)", "failed (temporary)", "opened",
)
SENDGRID = Esp(
    "sendgrid", "anymail.backends.sendgrid.EmailBackend",
    lambda url: {"api_key": "sg-api-key", "api_url": url},
    lambda api: api.expect_request("/mail/send", method="POST").respond_with_data("", status=202),
    lambda client, kind, esp_id: post_sendgrid_events(client, sendgrid_events(kind, esp_id)),
    "bounce", "deferred", "open",
)
ESPS = [POSTMARK, MAILGUN, SENDGRID]


@pytest.fixture(autouse=True)
def webhook_keys(settings):
    public = SENDGRID_KEY.public_key().public_bytes(serialization.Encoding.DER,
                                                    serialization.PublicFormat.SubjectPublicKeyInfo)
    settings.ANYMAIL = {**settings.ANYMAIL, "MAILGUN_WEBHOOK_SIGNING_KEY": MAILGUN_SIGNING_KEY,
                        "SENDGRID_TRACKING_WEBHOOK_VERIFICATION_KEY": base64.b64encode(public).decode()}


@pytest.fixture
def esp(request) -> Esp:
    return getattr(request, "param", POSTMARK)


@pytest.fixture
def email_inbox(support) -> Inbox:
    return Inbox.objects.create(name="Acme Support", channel="email", address="support@heron.local", team=support)


@pytest.fixture
def esp_api(esp, email_inbox):
    """The ESP's send API, faked on loopback; the inbox sends through the ESP's anymail backend."""
    with local_http_server() as api:
        esp.fake_api(api)
        email_inbox.settings = {"email_backend": esp.backend, "email_backend_options": esp.options(api.url_for("/"))}
        email_inbox.save()
        yield api


@pytest.fixture
def send_reply(client, esp_api, agent, django_capture_on_commit_callbacks):
    """The customer writes in; an agent's reply goes out through the ESP (the delivery task runs on commit)."""

    def send() -> Message:
        assert post_postmark(client, mime(sender=f"Alice <{CUSTOMER}>")).status_code == 200
        conversation = Message.objects.get(direction="in").conversation
        with django_capture_on_commit_callbacks(execute=True):
            reply = outbound.send_message(conversation, agent, text="A replacement is on its way.")
        reply.refresh_from_db()
        assert reply.status == DeliveryStatus.SENT, reply.error_message
        return reply

    return send


@pytest.fixture
def sent_email(send_reply) -> Message:
    return send_reply()


def tracking_raw_events() -> list[RawInboundEvent]:
    return list(RawInboundEvent.objects.filter(endpoint="email.tracking").order_by("id"))


def updates_of(message: Message) -> list[dict]:
    """The message.updated events after the delivery task's "sent": what the ESP's reports changed."""
    updates = [e.data["message"] for e in Event.objects.filter(type="message.updated").order_by("id")
               if e.data["message"]["id"] == message.pk]
    statuses = [u["status"] for u in updates]
    return updates[statuses.index("sent") + 1:]


# ---------------------------------------------------------------------------------------- the tests

@pytest.mark.parametrize("esp", ESPS, indirect=True, ids=str)
def test_a_reply_sent_through_an_esp_keeps_the_esps_message_id(esp, esp_api, sent_email):
    assert len(esp_api.log) == 1  # really sent through the ESP's API
    esp_id = sent_email.metadata["esp_message_id"]
    if esp is SENDGRID:
        assert str(uuid.UUID(esp_id)) == esp_id  # anymail's own id, sent along in custom_args
        assert json.loads(esp_api.log[0][0].data)["personalizations"][0]["custom_args"]["anymail_id"] == esp_id
    else:
        assert esp_id == {"postmark": POSTMARK_ID, "mailgun": MAILGUN_ID}[esp.name]
    assert sent_email.external_id.startswith("heron.c")  # our Message-ID still threads the customer's answer


@pytest.mark.parametrize("esp", ESPS, indirect=True, ids=str)
def test_a_bounce_marks_the_reply_failed_with_a_readable_reason(esp, sent_email, client, client_for, agent):
    response = esp.report(client, "bounced", sent_email.metadata["esp_message_id"])
    assert response.status_code == 200, response.content

    sent_email.refresh_from_db()
    assert sent_email.status == DeliveryStatus.FAILED
    assert sent_email.provider_status == esp.bounce_status  # the ESP's own word for it
    assert BOUNCE_DETAIL in sent_email.error_message
    assert sent_email.error_code == "bounced"
    [update] = updates_of(sent_email)
    assert update["status"] == "failed" and BOUNCE_DETAIL in update["error_message"]
    api = client_for(agent).get(f"/api/v1/conversations/{sent_email.conversation_id}/messages/").json()
    shown = next(m for m in api["results"] if m["id"] == sent_email.pk)
    assert shown["status"] == "failed" and BOUNCE_DETAIL in shown["error_message"]
    assert shown["provider_status"] == esp.bounce_status

    [raw] = tracking_raw_events()  # kept verbatim, with the inbox it turned out to be for
    assert raw.result == RawInboundEvent.Result.PROCESSED and raw.inbox_id == sent_email.inbox_id
    assert json.loads(bytes(raw.body))["esp_event"]


@pytest.mark.parametrize("esp", ESPS, indirect=True, ids=str)
def test_status_only_moves_forward_when_delivered_arrives_after_opened(esp, sent_email, client):
    esp_id = sent_email.metadata["esp_message_id"]
    assert esp.report(client, "opened", esp_id).status_code == 200
    sent_email.refresh_from_db()
    assert (sent_email.status, sent_email.provider_status) == (DeliveryStatus.READ, esp.opened_status)

    assert esp.report(client, "delivered", esp_id).status_code == 200  # late, out of order
    sent_email.refresh_from_db()
    assert (sent_email.status, sent_email.provider_status) == (DeliveryStatus.READ, esp.opened_status)
    assert [u["status"] for u in updates_of(sent_email)] == ["read"]
    assert [r.result for r in tracking_raw_events()] == ["processed", "processed"]  # both kept, in the history
    assert len(sent_email.metadata["status_history"]) == 2


@pytest.mark.parametrize("esp", ESPS, indirect=True, ids=str)
def test_a_deferred_reply_stays_sent_until_delivered(esp, sent_email, client):
    esp_id = sent_email.metadata["esp_message_id"]
    assert esp.report(client, "deferred", esp_id).status_code == 200
    sent_email.refresh_from_db()
    assert sent_email.status == DeliveryStatus.SENT and sent_email.error_message == ""
    assert sent_email.metadata["status_history"][-1]["status"] == esp.deferred_status

    assert esp.report(client, "delivered", esp_id).status_code == 200
    sent_email.refresh_from_db()
    assert sent_email.status == DeliveryStatus.DELIVERED


def test_a_retried_webhook_changes_nothing_twice(sent_email, client):
    esp_id = sent_email.metadata["esp_message_id"]
    for _ in range(2):
        at = "2026-03-02T11:00:00.5Z"
        assert post_postmark_event(client, "delivered", esp_id, at=at).status_code == 200
        assert post_postmark_event(client, "bounced", esp_id, at=at).status_code == 200
    sent_email.refresh_from_db()
    assert sent_email.status == DeliveryStatus.FAILED
    assert [u["status"] for u in updates_of(sent_email)] == ["delivered", "failed"]
    assert len(sent_email.metadata["status_history"]) == 2
    assert [r.result for r in tracking_raw_events()] == ["processed", "processed", "duplicate", "duplicate"]


@pytest.mark.parametrize("esp", [SENDGRID], indirect=True, ids=str)
def test_a_retried_sendgrid_batch_is_applied_once(sent_email, client):
    """SendGrid posts batches and retries a whole batch: the events applied the first time are not again."""
    esp_id = sent_email.metadata["esp_message_id"]
    batch = sendgrid_events("delivered", esp_id, at=1772445600) + sendgrid_events("opened", esp_id, at=1772445660)
    assert post_sendgrid_events(client, batch).status_code == 200
    assert post_sendgrid_events(client, batch).status_code == 200
    sent_email.refresh_from_db()
    assert sent_email.status == DeliveryStatus.READ
    assert [u["status"] for u in updates_of(sent_email)] == ["delivered", "read"]
    assert [r.result for r in tracking_raw_events()] == ["processed", "processed", "duplicate", "duplicate"]


def test_forged_or_unauthenticated_reports_are_refused_and_nothing_is_stored(sent_email, client):
    esp_id = sent_email.metadata["esp_message_id"]
    assert post_postmark_event(client, "bounced", esp_id, auth="").status_code == 400
    assert post_postmark_event(client, "bounced", esp_id, auth=basic_auth_header(("heron", "guess"))).status_code == 400
    assert post_mailgun_event(client, "bounced", esp_id, signing_key="not-the-key").status_code == 400
    events = sendgrid_events("bounced", esp_id)
    assert post_sendgrid_events(client, events, key=ec.generate_private_key(ec.SECP256R1())).status_code == 400
    assert post_sendgrid_events(client, events, signature="").status_code == 400
    assert tracking_raw_events() == []
    sent_email.refresh_from_db()
    assert sent_email.status == DeliveryStatus.SENT and updates_of(sent_email) == []


def test_a_report_before_the_send_is_recorded_is_kept_and_replayed(send_reply, client):
    """The ESP may report before we recorded the send (or for mail of another system): 200, kept for replay."""
    assert post_postmark_event(client, "delivered", POSTMARK_ID).status_code == 200
    [raw] = tracking_raw_events()
    assert raw.result == RawInboundEvent.Result.FAILED and "UnknownEmail" in raw.error

    reply = send_reply()
    assert replay_failed_events() == {"processed": 1}
    reply.refresh_from_db()
    assert reply.status == DeliveryStatus.DELIVERED


def test_reports_that_say_nothing_about_delivery_are_kept_but_change_nothing(sent_email, client):
    assert post_postmark_event(client, "unsubscribed", sent_email.metadata["esp_message_id"]).status_code == 200
    [raw] = tracking_raw_events()
    assert raw.result == RawInboundEvent.Result.DUPLICATE and raw.error == ""
    sent_email.refresh_from_db()
    assert sent_email.status == DeliveryStatus.SENT and updates_of(sent_email) == []


def test_a_new_email_inbox_lists_the_tracking_urls_to_paste(client_for, admin):
    response = client_for(admin).post("/api/v1/inboxes/", {"name": "Support", "channel": "email",
                                                           "address": "help@heron.local"}, format="json")
    assert response.status_code == 201, response.content
    urls = response.json()["webhook_urls"]
    assert urls["postmark_tracking"].endswith("/anymail/postmark/tracking/")
    assert urls["mailgun_tracking"].endswith("/anymail/mailgun/tracking/")
    assert urls["postmark"].endswith("/anymail/postmark/inbound/")
