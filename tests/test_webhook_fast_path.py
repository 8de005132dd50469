"""Provider webhooks through uvicorn take the fast path (config/webhook_fast_path.py): the same views,
answers and errors, without the browser middleware. Everything else still goes through Django's handler."""

import asyncio
import json
from urllib.parse import urlencode

import httpx
import pytest
from django.conf import settings

from channels_adapters.simulator.signing import HEADER, sign
from config.asgi import application
from inbox import loop_writes
from inbox.inbox_cache import inboxes_at
from inbox.models import Inbox, Message, RawInboundEvent
from inbox.services import handoff
from inbox.services.handoff import BatchedHandoff
from inbox.services.raw_events import process_queued_events
from tests.conftest import post_simulator_webhook
from tests.fakes.twilio import AUTH_TOKEN, FORM, INBOX_NUMBER, inbound_params, signature, twilio_inbox
from tests.support.email import basic_auth_header, mime

INBOUND = "/webhooks/simulator/inbound/"
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response />'


def webhook(server, inbox, text: str, external_id: str) -> httpx.Response:
    return post_simulator_webhook(server.url, INBOUND, {
        "inbox": inbox.address, "from": "alice", "name": "Alice", "text": text, "id": external_id})


def test_a_webhook_is_stored_and_recorded_without_the_browser_middleware(server, inbox):
    response = webhook(server, inbox, "fast hello", "FAST-1")
    assert response.status_code == 204, response.text
    assert Message.objects.get(external_id="FAST-1").text == "fast hello"
    assert RawInboundEvent.objects.get().result == RawInboundEvent.Result.PROCESSED
    # XFrameOptionsMiddleware marks every response that goes through Django's middleware.
    assert "X-Frame-Options" not in response.headers
    assert httpx.get(server.url + "/healthz", timeout=10).headers["X-Frame-Options"] == "DENY"

    # A retry on the fast path is still one message; requests reuse the pooled connections.
    for _ in range(12):
        assert webhook(server, inbox, "fast hello", "FAST-1").status_code == 204
    assert Message.objects.filter(external_id="FAST-1").count() == 1


def test_refusals_and_errors_are_djangos_own(server, inbox):
    forged = post_simulator_webhook(server.url, INBOUND, {"inbox": inbox.address, "from": "mallory", "text": "x",
                                                          "id": "F1"}, signature="0" * 64)
    assert forged.status_code == 403
    assert not RawInboundEvent.objects.exists()
    garbage = b"{not json"
    broken = httpx.post(server.url + INBOUND, content=garbage, timeout=10,
                        headers={"Content-Type": "application/json", HEADER: sign(garbage)})
    assert broken.status_code == 400 and "Not valid JSON" in broken.json()["detail"]
    assert not RawInboundEvent.objects.exists() and not Message.objects.exists()

    missing = httpx.post(server.url + "/webhooks/no-such-provider/", content=b"{}", timeout=10)
    assert missing.status_code == 404
    wrong_method = httpx.get(server.url + INBOUND, timeout=10)  # not a webhook call: Django's handler
    assert wrong_method.status_code == 405 and wrong_method.headers["X-Frame-Options"] == "DENY"


# ------------------------------------------------------------- accepted on the event loop itself
# A deferred webhook whose inbox this process keeps is stored and handed off without a thread or
# the view (channels_adapters/common.py, LoopAccept). Driven through the ASGI app in this process,
# so the test sees which way each request went.

SMS = "/webhooks/twilio/sms/"


@pytest.fixture
def handed_off(monkeypatch) -> list[int]:
    """Tasks are queued, not run inline; the ids this process hands to workers land here."""
    from config.celery import app

    ids: list[int] = []
    monkeypatch.setattr(handoff, "_handoff", BatchedHandoff(ids.extend, ids.extend, interval_seconds=0))
    eager, app.conf.task_always_eager = app.conf.task_always_eager, False
    yield ids
    app.conf.task_always_eager = eager


@pytest.fixture
def views_run(monkeypatch) -> list[str]:
    """The paths of the requests that went to their view (on a thread) rather than the loop."""
    fast_path = application.application_mapping["http"].app  # inside config/request_limits.py BodyLimit
    paths: list[str] = []
    respond = fast_path.respond

    async def counted(scope, request):
        paths.append(request.path)
        return await respond(scope, request)

    monkeypatch.setattr(fast_path, "respond", counted)
    return paths


def post_through_asgi(*requests: tuple[str, bytes, dict]) -> list[httpx.Response]:
    """(path, body, headers) POSTs, one after the other on one event loop."""

    async def post_all() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url=settings.PUBLIC_BASE_URL) as client:
            responses = [await client.post(path, content=body, headers=headers) for path, body, headers in requests]
        await loop_writes.close()
        return responses

    return asyncio.run(post_all())


def post_sms_through_asgi(*requests: dict, token: str = AUTH_TOKEN) -> list[httpx.Response]:
    """Twilio's signed inbound SMS webhooks."""
    return post_through_asgi(*(
        (SMS, urlencode(params).encode(), {
            "Content-Type": FORM, "X-Twilio-Signature": signature(settings.PUBLIC_BASE_URL + SMS, params, token)})
        for params in requests
    ))


@pytest.fixture
def sms_inbox(support) -> Inbox:
    return twilio_inbox(support, channel="sms", name="SMS")


def test_an_sms_for_a_kept_inbox_is_stored_and_handed_off_by_the_loop(transactional_db, sms_inbox, handed_off,
                                                                     views_run):
    first, second = inbound_params(Body="first"), inbound_params(Body="second")
    responses = post_sms_through_asgi(first, second)

    assert [r.status_code for r in responses] == [200, 200]
    assert responses[0].text == responses[1].text == EMPTY_TWIML
    assert views_run == [SMS]  # the first found the inbox in the database and kept it; the second never left the loop
    assert handoff._handoff.flush()
    stored = list(RawInboundEvent.objects.order_by("id"))
    assert handed_off == [raw.pk for raw in stored]
    by_loop = stored[1]
    assert by_loop.result == RawInboundEvent.Result.PENDING and by_loop.inbox == sms_inbox
    assert (by_loop.channel, by_loop.endpoint, by_loop.url) == ("sms", "twilio_sms.inbound", SMS)
    assert bytes(by_loop.body) == urlencode(second).encode() and by_loop.content_type == FORM
    assert by_loop.headers.keys() == stored[0].headers.keys() >= {"Content-Type", "X-Twilio-Signature"}

    assert process_queued_events(handed_off) == []
    assert [m.text for m in Message.objects.order_by("id")] == ["first", "second"]
    assert Message.objects.values("conversation").distinct().count() == 1


def test_what_the_loop_does_not_accept_its_view_decides(transactional_db, sms_inbox, handed_off, views_run):
    post_sms_through_asgi(inbound_params(Body="keeps the inbox"))
    views_run.clear()

    [forged] = post_sms_through_asgi(inbound_params(Body="forged"), token="not-the-token")
    unreadable, unknown = post_sms_through_asgi(inbound_params(From="not a number"), inbound_params(To="+15005550000"))

    assert (forged.status_code, unreadable.status_code, unknown.status_code) == (403, 400, 404)
    assert views_run == [SMS] * 3
    assert unreadable.json()["detail"].startswith("'From' is not a phone number")
    refused = RawInboundEvent.objects.get(pk=unreadable.json()["raw_event"])
    assert refused.result == RawInboundEvent.Result.FAILED  # kept, as the view keeps what fails its check
    assert RawInboundEvent.objects.count() == 2


def test_an_inbox_deleted_since_the_loop_kept_it_is_looked_up_again(transactional_db, sms_inbox, handed_off,
                                                                    views_run):
    from django.db import connection

    assert inboxes_at("sms", INBOX_NUMBER) == [sms_inbox]  # kept
    with connection.cursor() as cursor:  # as another process deletes it: no model signal here
        cursor.execute("DELETE FROM inbox_inbox WHERE id = %s", [sms_inbox.pk])

    [response] = post_sms_through_asgi(inbound_params())
    assert response.status_code == 404 and views_run == [SMS]
    assert not RawInboundEvent.objects.exists()


# ------------------------------------------------ Postmark's inbound email, accepted on the loop too
POSTMARK = "/anymail/postmark/inbound/"


def postmark_request(payload: dict, auth: str | None = None) -> tuple[str, bytes, dict]:
    return POSTMARK, json.dumps(payload).encode(), {
        "Content-Type": "application/json", "Authorization": auth if auth is not None else basic_auth_header()}


def postmark_email(**overrides) -> dict:
    """What Postmark posts with "Include raw email content", with every field anymail reads beside the MIME."""
    raw = mime(to="Support+c7@Heron.local", headers={"X-Spam-Score": "2.5"})
    return {"RawEmail": raw.decode(), "OriginalRecipient": "Support+c7@Heron.local", "StrippedTextReply": "Hi there",
            "Headers": [{"Name": "Return-Path", "Value": "<bounces@example.org>"}, {"Name": "X-Spam-Score",
                                                                                    "Value": "2.5"}],
            "MessageID": "pm-1", **overrides}


@pytest.fixture
def email_inbox(support) -> Inbox:
    return Inbox.objects.create(name="Acme Support", channel="email", address="support@heron.local", team=support)


def test_a_postmark_email_for_a_kept_inbox_is_kept_by_the_loop_as_anymails_view_keeps_it(
    transactional_db, email_inbox, handed_off, views_run,
):
    payload = postmark_email()
    by_view, by_loop = post_through_asgi(postmark_request(payload), postmark_request(payload))  # a retried delivery

    assert (by_view.status_code, by_loop.status_code) == (200, 200)
    assert views_run == [POSTMARK]  # the first found the inbox in the database and kept it
    assert handoff._handoff.flush()
    first, second = RawInboundEvent.objects.order_by("id")
    assert handed_off == [first.pk, second.pk]
    assert second.inbox == email_inbox and second.result == RawInboundEvent.Result.PENDING
    kept = ("channel", "endpoint", "inbox_id", "url", "headers", "content_type", "body")
    assert [getattr(second, name) for name in kept] == [getattr(first, name) for name in kept]
    assert second.headers["X-Heron-Spam-Score"] == "2.5" and second.headers["X-Heron-Envelope-Sender"] == (
        "bounces@example.org")

    assert process_queued_events(handed_off) == []
    message = Message.objects.get()  # the retry is the same email
    assert message.inbox == email_inbox and message.text == "Hi there"  # Postmark's StrippedTextReply


def test_what_the_loop_does_not_accept_anymails_view_decides(transactional_db, email_inbox, handed_off, views_run):
    post_through_asgi(postmark_request(postmark_email()))
    views_run.clear()

    refused, parsed_fields, unknown = post_through_asgi(
        postmark_request(postmark_email(), auth=basic_auth_header(("heron", "wrong"))),
        postmark_request({**postmark_email(RawEmail=None), "FromFull": {"Email": "bob@example.org"},
                          "TextBody": "no raw MIME"}),
        postmark_request(postmark_email(OriginalRecipient="nobody@elsewhere.example")),
    )

    assert (refused.status_code, parsed_fields.status_code, unknown.status_code) == (400, 200, 200)
    assert views_run == [POSTMARK] * 3
    assert RawInboundEvent.objects.count() == 3  # the refused one left nothing
