"""Provider webhooks through uvicorn take the fast path (config/webhook_fast_path.py): the same views,
answers and errors, without the browser middleware. Everything else still goes through Django's handler."""

import asyncio
import json
from pathlib import Path
from urllib.parse import parse_qs, urlencode

import httpx
import pytest
from django.conf import settings
from django.utils.datastructures import MultiValueDict

from channels_adapters.simulator.signing import HEADER, sign
from config.asgi import application
from inbox import loop_writes
from inbox.inbox_cache import inboxes_of
from inbox.models import Inbox, Message, RawInboundEvent
from inbox.services import handoff
from inbox.services.handoff import BatchedHandoff
from inbox.services.raw_events import process_queued_events
from tests.conftest import post_simulator_webhook
from tests.fakes.twilio import AUTH_TOKEN, FORM, INBOX_NUMBER, inbound_params, signature, twilio_inbox
from tests.support.email import basic_auth_header, mime, postmark_payload

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
# the view (channels_adapters/common.py, Webhook.on_loop). Driven through the ASGI app in this
# process, so the test sees which way each request went.

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


def fast_path():
    return application.application_mapping["http"].app  # inside config/request_limits.py BodyLimit


@pytest.fixture
def views_run(monkeypatch) -> list[str]:
    """The paths of the requests that went to their view (on a thread) rather than the loop."""
    paths: list[str] = []
    respond = fast_path().respond

    async def counted(scope, request):
        paths.append(request.path)
        return await respond(scope, request)

    monkeypatch.setattr(fast_path(), "respond", counted)
    return paths


def post_through_asgi(*requests: tuple[str, bytes, dict | list], app=application) -> list[httpx.Response]:
    """(path, body, headers) POSTs, one after the other on one event loop."""

    async def post_all() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=settings.PUBLIC_BASE_URL) as client:
            responses = [await client.post(path, content=body, headers=headers) for path, body, headers in requests]
        await loop_writes.close()
        return responses

    return asyncio.run(post_all())


def signed_sms(params: dict | bytes, *, token: str = AUTH_TOKEN, path: str = SMS) -> tuple[str, bytes, dict]:
    """Twilio's signed inbound SMS webhook (a body given as bytes is signed as Django reads it)."""
    body = params if isinstance(params, bytes) else urlencode(params).encode()
    signed = MultiValueDict(parse_qs(body.decode(errors="replace"), keep_blank_values=True))
    return path, body, {"Content-Type": FORM, "X-Twilio-Signature": signature(settings.PUBLIC_BASE_URL + path, signed,
                                                                            token), "User-Agent": "TwilioProxy/1.1",
                        "I-Twilio-Idempotency-Token": "idem-1"}


def post_sms_through_asgi(*requests: dict, token: str = AUTH_TOKEN) -> list[httpx.Response]:
    return post_through_asgi(*(signed_sms(params, token=token) for params in requests))


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

    assert process_queued_events(handed_off) == []
    assert [m.text for m in Message.objects.order_by("id")] == ["first", "second"]
    assert Message.objects.values("conversation").distinct().count() == 1


def test_what_the_loop_cannot_decide_alone_its_view_decides(transactional_db, sms_inbox, handed_off, views_run):
    post_sms_through_asgi(inbound_params(Body="keeps the inbox"))
    views_run.clear()

    # A signature that fails against the kept inbox is checked against the stored one; an unknown
    # number is looked for in the database: both on a thread. A body that fails the endpoint's
    # check needs neither: the loop keeps it failed and answers 400 itself.
    [forged] = post_sms_through_asgi(inbound_params(Body="forged"), token="not-the-token")
    unreadable, unknown = post_sms_through_asgi(inbound_params(From="not a number"), inbound_params(To="+15005550000"))

    assert (forged.status_code, unreadable.status_code, unknown.status_code) == (403, 400, 404)
    assert views_run == [SMS] * 2
    assert unreadable.json()["detail"].startswith("'From' is not a phone number")
    refused = RawInboundEvent.objects.get(pk=unreadable.json()["raw_event"])
    assert refused.result == RawInboundEvent.Result.FAILED  # kept, as the view keeps what fails its check
    assert RawInboundEvent.objects.count() == 2


def test_an_inbox_deleted_since_the_loop_kept_it_is_looked_up_again(transactional_db, sms_inbox, handed_off,
                                                                    views_run):
    from django.db import connection

    assert inboxes_of("sms") == {INBOX_NUMBER: sms_inbox}  # kept
    with connection.cursor() as cursor:  # as another process deletes it: no model signal here
        cursor.execute("DELETE FROM inbox_inbox WHERE id = %s", [sms_inbox.pk])

    [response] = post_sms_through_asgi(inbound_params())
    assert response.status_code == 404 and views_run == [SMS]
    assert not RawInboundEvent.objects.exists()


def test_postmark_goes_through_anymails_view(transactional_db, handed_off, views_run, support):
    Inbox.objects.create(name="Acme Support", channel="email", address="support@heron.local", team=support)
    payload = postmark_payload(mime(to="support@heron.local"), "support@heron.local")
    request = ("/anymail/postmark/inbound/", json.dumps(payload).encode(),
               {"Content-Type": "application/json", "Authorization": basic_auth_header()})
    assert [r.status_code for r in post_through_asgi(request, request)] == [200, 200]
    assert views_run == ["/anymail/postmark/inbound/"] * 2
    assert RawInboundEvent.objects.filter(result=RawInboundEvent.Result.PENDING).count() == 2


# ------------------------------------------- every loop-capable endpoint, both ways, the same outcome
# In the spirit of Zulip's `verify_action`: each request goes once to Django's own handler (the view
# on a thread) and once through the fast path with its inbox kept (the loop), and both must store
# the same row (every column but the key and the times) and give the same answer. Requests the
# loop cannot finish alone (`view`) go to the view there too: their answers must still agree.

CORPUS = Path(__file__).parent / "fixtures"
SIMULATOR = "/webhooks/simulator/inbound/"
SERVICE_SID = "MG9752274e9e519418a7406176694466fa"  # the messaging service of samples.md's SMS


def simulator_request(payload: dict | bytes, *, sig: str | None = None) -> tuple[str, bytes, dict]:
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    return SIMULATOR, body, {"Content-Type": "application/json", HEADER: sign(body) if sig is None else sig}


def through_proxies(request: tuple[str, bytes, dict]) -> tuple[str, bytes, list]:
    """The request as two proxies forward it: a header given twice (Django joins them), and a charset."""
    path, body, headers = request
    return path, body, [*{**headers, "Content-Type": f"{headers['Content-Type']}; charset=utf-8"}.items(),
                        ("X-Forwarded-For", "203.0.113.7"), ("X-Forwarded-For", "10.0.0.2")]


def corpus_texts() -> list[str]:
    """The email corpus, as text: every charset, quoting and line ending a customer's text can hold."""
    return [path.read_bytes().decode("utf-8", "replace") for path in sorted((CORPUS / "email").glob("*.eml"))]


def sms_cases() -> list[tuple[str, tuple[str, bytes, dict]]]:
    samples = [(CORPUS / "twilio" / name).read_bytes().strip() for name in ("inbound_sms.form", "inbound_mms.form")]
    return [
        *(("loop", signed_sms(sample)) for sample in samples),
        *(("loop", signed_sms(inbound_params(Body=text[:1600]))) for text in corpus_texts()),
        ("loop", signed_sms(inbound_params(Body="query"), path=SMS + "?tenant=acme&x=%C3%A9")),
        ("loop", through_proxies(signed_sms(inbound_params(Body="forwarded")))),
        ("loop", signed_sms(inbound_params(Body="x" * 1601))),  # too long: kept failed, 400
        ("loop", signed_sms(inbound_params(From="not a number"))),
        ("loop", signed_sms(urlencode(inbound_params(Body="caf")).encode() + b"%E9")),  # not UTF-8: kept failed
        ("loop", signed_sms(b"&".join(b"f%d=1" % n for n in range(600)))),  # too many fields: 400, nothing kept
        ("view", signed_sms(inbound_params(Body="forged"), token="not-the-token")),
        ("view", signed_sms(inbound_params(To="+15005550000"))),
    ]


def simulator_cases() -> list[tuple[str, tuple[str, bytes, dict]]]:
    message = {"inbox": "support", "from": "maria.lopez", "name": "María López", "id": "SIM-1"}
    return [
        *(("loop", simulator_request({**message, "text": text})) for text in corpus_texts()),
        ("loop", simulator_request({**message, "text": "photo", "media": [{"url": "https://example.org/a.png"}]})),
        ("loop", through_proxies(simulator_request({**message, "text": "forwarded"}))),
        ("loop", simulator_request(b'{"inbox": "support", "from": "a\\u0000b", "text": "nul", "id": "N1"}')),
        ("loop", simulator_request({**message, "media": "not a list"})),  # kept failed, 400
        ("loop", simulator_request(b"{not json")),  # 400, nothing kept
        ("loop", simulator_request({**message, "inbox": 7})),
        ("loop", simulator_request({**message, "text": "forged"}, sig="0" * 64)),  # 403, nothing kept
        ("view", simulator_request({**message, "inbox": "nobody"})),  # looked for in the database
    ]


def answer(response: httpx.Response, stored: list[dict]) -> tuple:
    """Status, the headers a provider reads, and the body; a `raw_event` it names is this side's row."""
    body = response.content
    if response.headers.get("Content-Type") == "application/json":
        body = response.json()
        if "raw_event" in body:
            assert [row["id"] for row in stored] == [body.pop("raw_event")]
    return response.status_code, response.headers.get("Content-Type"), body


def new_rows(after: int) -> list[dict]:
    rows = list(RawInboundEvent.objects.filter(id__gt=after).order_by("id").values())
    for row in rows:
        row["body"] = bytes(row["body"])
    return rows


def without_key_and_times(rows: list[dict]) -> list[dict]:
    return [{name: value for name, value in row.items() if name not in ("id", "received_at", "processed_at")}
            for row in rows]


def both_ways(request: tuple[str, bytes, dict], way: str, views_run: list[str]) -> None:
    last = RawInboundEvent.objects.order_by("id").values_list("id", flat=True).last() or 0
    [by_view] = post_through_asgi(request, app=fast_path().django)  # Django's handler: the view on a thread
    in_view = new_rows(last)
    views_run.clear()
    [by_fast_path] = post_through_asgi(request)
    in_fast_path = new_rows(max([last, *(row["id"] for row in in_view)]))

    assert views_run == ([] if way == "loop" else [request[0].partition("?")[0]]), request
    assert without_key_and_times(in_fast_path) == without_key_and_times(in_view), request
    assert answer(by_fast_path, in_fast_path) == answer(by_view, in_view), request


def test_the_loop_takes_exactly_the_endpoints_listed_here():
    from config.urls import urlpatterns

    def views(patterns):
        for pattern in patterns:
            yield from views(pattern.url_patterns) if hasattr(pattern, "url_patterns") else [pattern.callback]

    on_loop = {view.webhook.endpoint for view in views(urlpatterns) if getattr(view, "webhook", None)
               and view.webhook.on_loop}
    assert on_loop == {"twilio_sms.inbound", "simulator.inbound"}  # each with its cases below


def test_an_sms_is_kept_and_answered_alike_by_the_view_and_the_loop(transactional_db, support, handed_off,
                                                                   views_run):
    inbox = twilio_inbox(support, channel="sms", name="SMS")
    inbox.credentials = {**inbox.credentials, "messaging_service_sid": SERVICE_SID}
    inbox.save()
    for way, request in sms_cases():
        both_ways(request, way, views_run)
    assert RawInboundEvent.objects.filter(result=RawInboundEvent.Result.FAILED).count() == 2 * 3


def test_a_simulator_message_is_kept_and_answered_alike_by_the_view_and_the_loop(transactional_db, inbox,
                                                                                handed_off, views_run):
    for way, request in simulator_cases():
        both_ways(request, way, views_run)
    assert RawInboundEvent.objects.filter(result=RawInboundEvent.Result.FAILED, error__contains="'media'").count() == 2
