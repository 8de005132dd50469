"""Bad input is a 4xx everywhere, before any work: JSON nested too deep (config/json_input.py), bodies and
frames too large (config/request_limits.py), and anymail URLs of ESPs that are not configured
(channels_adapters/email/urls.py). Over real HTTP (uvicorn, webhook fast path on) and Django's test client."""

from __future__ import annotations

import base64
import json

import httpx
import pytest
from anymail import urls as anymail_urls

from channels_adapters.email.simulate import postmark_payload
from channels_adapters.simulator.signing import HEADER as SIMULATOR_SIGNATURE
from channels_adapters.simulator.signing import sign
from config.json_input import MAX_DEPTH
from config.request_limits import BODY_MAX_BYTES, FRAME_MAX_CHARS
from inbox.models import Contact, Inbox, Message, RawInboundEvent
from inbox.services.people import token_for
from tests.support.email import basic_auth_header, mime
from tests.support.ws import assert_nothing_received, open_socket, receive_until
from tests.test_email_tracking import MAILGUN_SIGNING_KEY, post_mailgun_event
from tests.test_google import AGENT, PARTNER_KEY, x_goog_signature

# 22 KB of brackets: Python's json gives up with RecursionError, not ValueError.
NESTED = b"[" * 11000 + b"]" * 11000
TOO_DEEP = "nested deeper than 64 levels"
JSON = {"Content-Type": "application/json"}


def nested_object(depth: int) -> dict:
    value: dict = {}
    for _ in range(depth - 1):
        value = {"a": value}
    return value


@pytest.fixture
def gbm_inbox(support) -> Inbox:
    inbox = Inbox(name="Google", channel="google_business", address=AGENT, team=support)
    inbox.credentials = {"partner_key": PARTNER_KEY, "client_token": "token"}
    inbox.save()
    return inbox


@pytest.fixture
def email_inbox(support) -> Inbox:
    return Inbox.objects.create(name="Email", channel="email", address="support@heron.local", team=support)


@pytest.fixture
def conversation_id(inbox, customer_writes) -> int:
    return customer_writes(inbox, "nested", "hello").conversation_id


# ------------------------------------------------------------------------------------ deep JSON, HTTP
def test_nested_json_to_a_webhook_is_refused_before_its_signature_is_checked(server, inbox, gbm_inbox):
    unsigned = httpx.post(server.url + "/webhooks/google/business-messages/", content=NESTED, headers=JSON)
    assert unsigned.status_code == 403, unsigned.text  # read, found no handshake, then the signature
    signed = httpx.post(server.url + "/webhooks/google/business-messages/", content=NESTED,
                        headers={**JSON, "X-Goog-Signature": x_goog_signature(NESTED)})
    assert signed.status_code == 400 and TOO_DEEP in signed.json()["detail"]
    for path in ("/webhooks/simulator/inbound/", "/webhooks/simulator/status/"):
        response = httpx.post(server.url + path, content=NESTED, headers={**JSON, SIMULATOR_SIGNATURE: sign(NESTED)})
        assert response.status_code == 400 and TOO_DEEP in response.json()["detail"], (path, response.text)
    postmark = httpx.post(server.url + "/anymail/postmark/inbound/", content=NESTED,
                          headers={**JSON, "Authorization": basic_auth_header()})
    assert postmark.status_code == 400 and TOO_DEEP in postmark.json()["detail"]
    # Only Google's signed body is kept (failed, for a person to look at), as every signed body is.
    assert [raw.channel for raw in RawInboundEvent.objects.all()] == ["google_business"]


def test_nested_json_to_the_api_is_a_400_that_says_so(server, admin, agent, conversation_id):
    login = httpx.post(server.url + "/api/v1/auth/login/", content=NESTED, headers=JSON)
    assert 400 <= login.status_code < 500, login.text
    as_agent = {**JSON, "Authorization": f"Token {token_for(agent)}"}
    for method, path in (("POST", "/api/v1/contacts/"), ("PATCH", f"/api/v1/conversations/{conversation_id}/"),
                         ("POST", f"/api/v1/conversations/{conversation_id}/messages/")):
        response = httpx.request(method, server.url + path, content=NESTED, headers=as_agent)
        assert response.status_code == 400 and TOO_DEEP in response.json()["detail"], (path, response.text)
    simulate = httpx.post(server.url + "/api/v1/simulate/", content=NESTED,
                          headers={**JSON, "Authorization": f"Token {token_for(admin)}"})
    assert simulate.status_code == 400 and TOO_DEEP in simulate.json()["detail"]
    assert Contact.objects.count() == 1 and Message.objects.count() == 1


def test_the_fake_google_token_endpoint_refuses_nested_claims(server):
    claims = base64.urlsafe_b64encode(NESTED).decode().rstrip("=")
    response = httpx.post(server.url + "/simulator/google/token", data={
        "grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer", "assertion": f"e30.{claims}.c2ln"})
    assert response.status_code == 400 and response.json()["error"] == "invalid_grant"


# ------------------------------------------------------------------------------ deep JSON, test client
def test_the_api_allows_64_levels_and_refuses_65(client_for, agent, conversation_id):
    client = client_for(agent)
    path = f"/api/v1/conversations/{conversation_id}/"
    deepest = client.patch(path, json.dumps({"status": nested_object(MAX_DEPTH - 1)}), content_type="application/json")
    assert deepest.status_code == 400 and "status" in deepest.json()  # read, then refused by the serializer
    too_deep = client.patch(path, json.dumps({"status": nested_object(MAX_DEPTH)}), content_type="application/json")
    assert too_deep.status_code == 400 and TOO_DEEP in too_deep.json()["detail"]
    assert client.post("/api/v1/contacts/", NESTED, content_type="application/json").status_code == 400


def test_a_mailgun_webhook_refuses_nested_json_before_anymail_checks_its_signature(client, db, settings):
    settings.ANYMAIL = {**settings.ANYMAIL, "MAILGUN_WEBHOOK_SIGNING_KEY": "mg-key"}
    response = client.post("/anymail/mailgun/tracking/", NESTED, content_type="application/json",
                           HTTP_AUTHORIZATION=basic_auth_header())
    assert response.status_code == 400 and TOO_DEEP in response.json()["detail"]
    assert not RawInboundEvent.objects.exists()


# ----------------------------------------------------------------------------------------- websocket
def test_a_nested_or_oversized_frame_gets_an_error_and_the_socket_stays_open(server, agent, admin, conversation_id):
    presence = {"type": "presence", "conversation": conversation_id, "state": "viewing"}
    with open_socket(server.ws_url, token=token_for(agent)) as socket, \
            open_socket(server.ws_url, token=token_for(admin)) as watcher:
        socket.send(NESTED.decode())
        assert TOO_DEEP in receive_until(socket, lambda f: f["type"] == "error")["detail"]
        socket.send(json.dumps({**presence, "padding": "x" * FRAME_MAX_CHARS}))
        assert receive_until(socket, lambda f: f["type"] == "error")["detail"] == (
            f"Frames must be at most {FRAME_MAX_CHARS} characters")
        assert_nothing_received(watcher, lambda f: f["type"] == "presence", wait=0.5)
        socket.send(json.dumps(presence))
        assert receive_until(watcher, lambda f: f["type"] == "presence")["data"]["user"]["id"] == agent.pk


# ----------------------------------------------------------------------------------------- body size
def test_a_body_over_its_routes_limit_is_a_413_before_any_view(server, agent, email_inbox):
    too_big = b'{"name": "' + b"x" * BODY_MAX_BYTES + b'"}'
    response = httpx.post(server.url + "/api/v1/contacts/", content=too_big,
                          headers={**JSON, "Authorization": f"Token {token_for(agent)}"})
    assert response.status_code == 413 and str(BODY_MAX_BYTES) in response.json()["detail"]
    # A webhook's body is refused before its signature is checked, however it is sent.
    for content in (too_big, iter([too_big[:1000], too_big[1000:]])):  # declared length, then chunked
        webhook = httpx.post(server.url + "/webhooks/simulator/inbound/", content=content, headers=JSON)
        assert webhook.status_code == 413, webhook.text
    # Email webhooks carry whole messages: far larger bodies are theirs to read.
    attachment = ("big.bin", b"\x01" * (2 * BODY_MAX_BYTES), "application", "octet-stream")
    payload = postmark_payload(mime(attachments=(attachment,)), email_inbox.address)
    email = httpx.post(server.url + "/anymail/postmark/inbound/", json=payload,
                       headers={"Authorization": basic_auth_header()}, timeout=30)
    assert email.status_code == 200, email.text
    assert Message.objects.get(inbox=email_inbox).attachments.get().size == 2 * BODY_MAX_BYTES


# ------------------------------------------------------------------------------------------- anymail
UNCONFIGURED = [  # what each needs: a signing key, an API key, or boto3 (not installed)
    "mailgun/inbound/", "mailgun/inbound_mime/", "mailgun/tracking/", "amazon_ses/inbound/", "amazon_ses/tracking/",
    "brevo/inbound/", "sendinblue/inbound/", "postal/inbound/", "postal/tracking/", "mandrill/", "mandrill/tracking/",
    "resend/inbound/", "mailersend/inbound/", "mailersend/tracking/", "mailtrap/inbound/", "unisender_go/tracking/",
]


@pytest.mark.parametrize("path", UNCONFIGURED)
def test_the_webhook_of_an_esp_that_is_not_configured_is_a_404(client, db, path):
    for body, content_type in ((b"{}", "application/json"), (b"a=b", "application/x-www-form-urlencoded")):
        response = client.post(f"/anymail/{path}", body, content_type=content_type,
                               HTTP_AUTHORIZATION=basic_auth_header())
        assert response.status_code == 404, (path, response.status_code)


def test_no_anymail_url_answers_a_500(client, db):
    for pattern in anymail_urls.urlpatterns:
        path = "/anymail/" + str(pattern.pattern).removeprefix("^").replace("(_mime)?", "").removesuffix("$")
        for body, content_type in ((b"{}", "application/json"), (NESTED, "application/json"),
                                   (b"a=b", "application/x-www-form-urlencoded")):
            response = client.post(path, body, content_type=content_type, HTTP_AUTHORIZATION=basic_auth_header())
            assert response.status_code < 500, (path, body[:10], response.content[:300])


def test_an_unconfigured_esp_is_a_404_over_http_and_a_configured_one_still_accepts(server, email_inbox):
    for path in ("/anymail/mandrill/", "/anymail/amazon_ses/inbound/", "/anymail/mailgun/tracking/"):
        response = httpx.post(server.url + path, content=b"{}", headers={**JSON, "Authorization": basic_auth_header()})
        assert response.status_code == 404, (path, response.text)
    accepted = httpx.post(server.url + "/anymail/postmark/inbound/", json=postmark_payload(mime(), email_inbox.address),
                          headers={"Authorization": basic_auth_header()})
    assert accepted.status_code == 200, accepted.text
    assert Message.objects.get(inbox=email_inbox).text == "Hi, my order hasn't arrived."


def test_an_esp_is_routed_once_configured(client, email_inbox, settings):
    assert post_mailgun_event(client, "delivered", "<not-ours@example.org>").status_code == 404
    settings.ANYMAIL = {**settings.ANYMAIL, "MAILGUN_WEBHOOK_SIGNING_KEY": MAILGUN_SIGNING_KEY}
    assert post_mailgun_event(client, "delivered", "<not-ours@example.org>").status_code == 200
    assert RawInboundEvent.objects.get().endpoint == "email.tracking"
