"""Twilio SMS over real HTTP: uvicorn serving Heron on the test database, Twilio's REST API faked locally.

The server process runs tasks inline and talks to the fake Twilio of tests/fakes/twilio.py through
twilio-python (TWILIO_API_BASE_URL). The last tests run the `make run` set-up: Heron's own fake Twilio
(HERON_FAKE_PROVIDERS) and `manage.py simulate sms`.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from django.core.management import call_command
from rest_framework.authtoken.models import Token

from inbox.models import Attachment, Identity, Inbox, Message, RawInboundEvent
from tests.fakes.twilio import (
    ACCOUNT_SID,
    AUTH_TOKEN,
    CUSTOMER,
    INBOX_NUMBER,
    FakeTwilio,
    inbound_params,
    new_sid,
    signature,
    status_params,
    twilio_inbox,
)
from tests.support.servers import Server
from tests.support.waiting import wait_for

INBOUND = "/webhooks/twilio/sms/"
STATUS = "/webhooks/twilio/sms/status/"
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response />'


@pytest.fixture(scope="session")
def twilio_server_process(django_db_setup, django_db_blocker, fake_twilio_server):
    # Tasks run inline, so the send sweeper (the embedded scheduler's) runs the retries, as under `make run`.
    server = Server(CELERY_TASK_ALWAYS_EAGER="1", HERON_SEND_RETRY_BACKOFF_SECONDS="0",
                    HERON_EMBEDDED_SCHEDULER="1", HERON_SEND_SWEEP_SECONDS="1",
                    TWILIO_API_BASE_URL=fake_twilio_server.url_for("/").rstrip("/"), HERON_FAKE_PROVIDERS="0")
    yield server
    server.stop()


@pytest.fixture
def live(twilio_server_process, transactional_db) -> Server:
    return twilio_server_process


@pytest.fixture
def sms_inbox(live, support, fake_twilio: FakeTwilio) -> Inbox:
    inbox = twilio_inbox(support, channel="sms", name="SMS")
    fake_twilio.add_account(ACCOUNT_SID, AUTH_TOKEN)
    return inbox


def post(server: Server, path: str, params: dict, *, token: str = AUTH_TOKEN, content: bytes | None = None):
    headers = {"X-Twilio-Signature": signature(server.url + path, params, token)}
    if content is not None:
        headers["Content-Type"] = "application/x-www-form-urlencoded"
        return httpx.post(server.url + path, content=content, headers=headers, timeout=30)
    return httpx.post(server.url + path, data=params, headers=headers, timeout=30)


def api(server: Server, user) -> httpx.Client:
    token = Token.objects.get_or_create(user=user)[0]
    return httpx.Client(base_url=server.url, headers={"Authorization": f"Token {token.key}"}, timeout=30)


def test_signed_webhook_over_http_answers_empty_twiml(live, sms_inbox):
    params = inbound_params()
    response = post(live, INBOUND, params)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/xml")
    assert response.text == EMPTY_TWIML
    assert Message.objects.get(external_id=params["MessageSid"]).text == params["Body"]


def test_forged_webhook_over_http_is_403_and_leaves_no_trace(live, sms_inbox):
    response = post(live, INBOUND, inbound_params(), token="guessed")
    assert response.status_code == 403
    assert response.json() == {"detail": "Invalid or missing X-Twilio-Signature."}
    assert RawInboundEvent.objects.count() == 0 and Message.objects.count() == 0


def test_same_webhook_three_times_then_twenty_concurrently_is_one_message(live, sms_inbox):
    params = inbound_params()
    assert [post(live, INBOUND, params).status_code for _ in range(3)] == [200, 200, 200]
    assert Message.objects.filter(external_id=params["MessageSid"]).count() == 1

    burst = inbound_params()
    with ThreadPoolExecutor(max_workers=20) as pool:
        statuses = list(pool.map(lambda _: post(live, INBOUND, burst).status_code, range(20)))
    assert statuses == [200] * 20
    assert Message.objects.filter(external_id=burst["MessageSid"]).count() == 1
    assert RawInboundEvent.objects.filter(result="processed").count() == 2
    assert RawInboundEvent.objects.filter(result="duplicate").count() == 21


def test_mms_over_http_downloads_both_media_with_retry(live, sms_inbox, fake_twilio):
    jpeg, pdf = b"\xff\xd8\xff" + b"j" * 2048, b"%PDF-1.7 invoice"
    url0 = fake_twilio.add_media(ACCOUNT_SID, jpeg, "image/jpeg", fail_first=[502])
    url1 = fake_twilio.add_media(ACCOUNT_SID, pdf, "application/pdf")
    params = inbound_params(MessageSid=new_sid("MM"), NumMedia="2", MediaUrl0=url0, MediaContentType0="image/jpeg",
                            MediaUrl1=url1, MediaContentType1="application/pdf")
    assert post(live, INBOUND, params).status_code == 200
    message = Message.objects.get(external_id=params["MessageSid"])
    attachments = wait_for(lambda: [a for a in message.attachments.order_by("id") if a.state == "ready"] or None)
    assert attachments and len(attachments) == 2
    assert [(a.content_type, a.size) for a in attachments] == [("image/jpeg", len(jpeg)), ("application/pdf", len(pdf))]
    assert attachments[0].file.read() == jpeg and attachments[1].file.read() == pdf
    assert fake_twilio.media_hits(url0) == [True, True]  # the 502 was retried


def test_malformed_signed_webhook_over_http_is_400_and_kept(live, sms_inbox):
    params = inbound_params()
    params.pop("From")
    response = post(live, INBOUND, params)
    assert response.status_code == 400
    assert "'From' is missing" in response.json()["detail"]
    assert RawInboundEvent.objects.get(pk=response.json()["raw_event"]).result == "failed"


def test_reply_over_http_reaches_fake_twilio_and_callbacks_end_delivered(live, sms_inbox, agent, fake_twilio):
    params = inbound_params()
    assert post(live, INBOUND, params).status_code == 200
    conversation = Message.objects.get(external_id=params["MessageSid"]).conversation
    fake_twilio.fail_next(500)  # the first try fails; the sweeper retries and sends exactly once
    with api(live, agent) as client:
        response = client.post(f"/api/v1/conversations/{conversation.pk}/messages/", json={"text": "On its way!"})
    assert response.status_code == 201, response.text
    message = wait_for(lambda: Message.objects.filter(pk=response.json()["id"], send_check_at=None).first())
    assert [r.status_code for r in fake_twilio.requests] == [500, 201]
    [send] = fake_twilio.sends
    assert (send.get("To"), send.get("From"), send.get("Body")) == (CUSTOMER, INBOX_NUMBER, "On its way!")
    assert send.get("StatusCallback") == live.url + STATUS
    assert message.external_id == send.sid

    for status in ("delivered", "sent", "queued"):
        assert post(live, STATUS, status_params(send.sid, status)).status_code == 204
    message.refresh_from_db()
    assert (message.status, message.provider_status) == ("delivered", "delivered")

    other = status_params(new_sid(), "undelivered", ErrorCode="30003")
    assert post(live, STATUS, other).status_code == 204  # unknown SID: kept for replay, no error for Twilio
    assert RawInboundEvent.objects.filter(endpoint="twilio_sms.status", result="failed").count() == 1


def test_stop_over_http_blocks_replies_without_calling_twilio(live, sms_inbox, agent, fake_twilio):
    first = inbound_params()
    assert post(live, INBOUND, first).status_code == 200
    conversation = Message.objects.get(external_id=first["MessageSid"]).conversation
    assert post(live, INBOUND, inbound_params(Body="STOP")).status_code == 200
    assert Identity.objects.get(value=CUSTOMER).opted_out
    with api(live, agent) as client:
        response = client.post(f"/api/v1/conversations/{conversation.pk}/messages/", json={"text": "Still there?"})
        assert response.status_code == 400
        assert "opted out" in response.json()["detail"]
        assert fake_twilio.requests == []
        assert post(live, INBOUND, inbound_params(Body="START")).status_code == 200
        response = client.post(f"/api/v1/conversations/{conversation.pk}/messages/", json={"text": "Welcome back"})
        assert response.status_code == 201
    assert [s.get("Body") for s in fake_twilio.sends] == ["Welcome back"]


# ---------------------------------------------------------------- `make run`: built-in fake + simulate
@pytest.fixture(scope="session")
def demo_server_process(django_db_setup, django_db_blocker):
    server = Server(CELERY_TASK_ALWAYS_EAGER="1", HERON_FAKE_PROVIDERS="1", TWILIO_API_BASE_URL="")
    yield server
    server.stop()


@pytest.fixture
def demo(demo_server_process, transactional_db, settings) -> Server:
    settings.PUBLIC_BASE_URL = demo_server_process.url  # `simulate` posts to the running server
    return demo_server_process


def test_simulate_sms_with_media_then_reply_shows_sent_then_delivered(demo, support, agent, tmp_path, capsys):
    inbox = Inbox(name="Demo SMS", channel="sms", address="+15017122661", team=support)
    inbox.credentials = {"account_sid": "AC" + "0" * 32, "auth_token": "demo-auth-token"}
    inbox.save()
    picture = tmp_path / "box.png"
    picture.write_bytes(b"\x89PNG\r\n\x1a\n" + b"p" * 100)

    call_command("simulate", "sms", "--from", "+15558675310", "--to", "+15017122661",
                 "--text", "My box arrived damaged", "--media", str(picture))
    assert "→ 200" in capsys.readouterr().out
    message = Message.objects.get(inbox=inbox, text="My box arrived damaged")
    assert message.identity.value == "+15558675310"
    attachment = wait_for(lambda: Attachment.objects.filter(message=message, state="ready").first())
    assert attachment and attachment.content_type == "image/png" and attachment.file.read() == picture.read_bytes()

    with api(demo, agent) as client:
        response = client.post(f"/api/v1/conversations/{message.conversation_id}/messages/",
                               json={"text": "Sorry! A new one ships today."})
    assert response.status_code == 201, response.text
    reply = Message.objects.get(pk=response.json()["id"])
    assert reply.external_id.startswith("SM")
    reply = wait_for(lambda: Message.objects.filter(pk=reply.pk, status="delivered").first(), timeout=15)
    assert reply is not None
    assert [h["status"] for h in reply.metadata["status_history"]] == ["sent", "delivered"]
