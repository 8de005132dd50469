"""Deferred webhooks: stored and checked in the request, recorded by a worker (inbox/services/raw_events.py).

The real-worker path (Redis broker, Celery worker process) is in tests/test_realtime.py; here are
the parts a worker cannot show: a refused body, a lost task, an unreachable broker, and order.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from datetime import timedelta

import pytest
import redis
from asgiref.sync import async_to_sync, sync_to_async
from celery import Celery
from channels.layers import get_channel_layer
from django.conf import settings
from django.utils import timezone

from channels_adapters.simulator.signing import HEADER, sign
from inbox.models import Message, RawInboundEvent
from inbox.realtime.groups import role_group
from inbox.realtime.publish import frames_held, publish_events
from inbox.services import handoff as handoff_module
from inbox.services.handoff import BatchedHandoff
from inbox.services.raw_events import is_deferred, process_queued_events, workers_behind_check
from inbox.tasks import process_raw_events_task, process_stale_raw_events
from tests.conftest import post_simulator_webhook
from tests.support.servers import Server, free_port
from tests.support.waiting import wait_for

INBOUND = "/webhooks/simulator/inbound/"

ADMINS = role_group("admin")


def stored_webhook(inbox, text: str, *, received_at=None, sender="carol") -> RawInboundEvent:
    """A raw event as the webhook view leaves it when its task never ran."""
    body = json.dumps({"inbox": inbox.address, "from": sender, "text": text, "id": text}).encode()
    raw = RawInboundEvent.objects.create(
        channel="simulator", endpoint="simulator.inbound", inbox=inbox, url=INBOUND,
        headers={HEADER: sign(body)}, content_type="application/json", body=body,
    )
    if received_at is not None:
        RawInboundEvent.objects.filter(pk=raw.pk).update(received_at=received_at)
        raw.refresh_from_db()
    return raw


def test_inbound_endpoints_of_every_webhook_channel_are_deferred():
    for endpoint in ("simulator.inbound", "twilio_sms.inbound", "google_business.webhook"):
        assert is_deferred(endpoint), endpoint
    # Twilio waits on these answers to continue a call, and status callbacks are one UPDATE.
    assert not is_deferred("twilio_sms.status")


def test_a_body_the_check_refuses_gets_400_and_is_kept_failed(client, inbox):
    body = json.dumps({"inbox": inbox.address, "from": "carol", "text": "hi", "media": "not a list"}).encode()
    response = client.post(INBOUND, body, content_type="application/json", headers={HEADER: sign(body)})
    assert response.status_code == 400
    raw = RawInboundEvent.objects.get(pk=response.json()["raw_event"])
    assert raw.result == RawInboundEvent.Result.FAILED and raw.error
    assert not Message.objects.exists()


def test_a_stored_event_whose_task_never_ran_is_processed_by_the_sweeper(inbox):
    lost = stored_webhook(inbox, "lost task", received_at=timezone.now() - timedelta(minutes=5))
    fresh = stored_webhook(inbox, "still queued")  # its task may yet run: the sweeper leaves it

    assert process_stale_raw_events.apply().get() == 1

    lost.refresh_from_db()
    fresh.refresh_from_db()
    assert lost.result == RawInboundEvent.Result.PROCESSED
    assert fresh.result == RawInboundEvent.Result.PENDING
    assert list(Message.objects.values_list("text", flat=True)) == ["lost task"]


def test_a_late_task_for_an_event_the_sweeper_handled_does_nothing(inbox):
    raw = stored_webhook(inbox, "handled once", received_at=timezone.now() - timedelta(minutes=5))
    process_stale_raw_events.apply()
    process_raw_events_task.apply(args=[[raw.pk]])
    raw.refresh_from_db()
    assert raw.attempts == 1 and Message.objects.filter(text="handled once").count() == 1


def test_one_task_records_a_batch_in_arrival_order_and_retries_only_what_failed(inbox):
    first = stored_webhook(inbox, "batch one")
    broken = stored_webhook(inbox, "no processor")
    RawInboundEvent.objects.filter(pk=broken.pk).update(endpoint="gone.endpoint")  # a bug of ours
    second = stored_webhook(inbox, "batch two")

    process_raw_events_task.apply(args=[[second.pk, broken.pk, first.pk]])

    assert list(Message.objects.order_by("id").values_list("text", flat=True)) == ["batch one", "batch two"]
    first.refresh_from_db()
    broken.refresh_from_db()
    assert first.attempts == 1
    assert broken.result == RawInboundEvent.Result.FAILED and "No processor" in broken.error
    assert broken.attempts == 1 + settings.HERON["SEND_MAX_RETRIES"]


def channel_layer_messages(group: str, action, *, quiet_seconds: float = 0.5) -> list[dict]:
    """What the channel layer delivers to a member of `group` while `action` runs (in this thread),
    until nothing more comes for `quiet_seconds`."""
    layer = get_channel_layer()

    async def listen():
        channel = await layer.new_channel()
        await layer.group_add(group, channel)
        await sync_to_async(action)()
        received = []
        while True:
            try:
                received.append(await asyncio.wait_for(layer.receive(channel), quiet_seconds))
            except TimeoutError:
                return received

    return async_to_sync(listen)()


@pytest.mark.django_db(transaction=True)  # events are published once their transaction commits
def test_a_batch_reaches_the_sockets_as_one_message_per_group(inbox, monkeypatch):
    """A worker's batch is published together (realtime/publish.py `frames_held`): a PUBLISH per
    group, not one per event and group, with every frame in the order it committed."""
    monkeypatch.setattr("inbox.services.raw_events.FRAMES_HELD_SECONDS", 60)  # however slow this machine
    hooks = [stored_webhook(inbox, f"together {n}") for n in range(3)]

    [message] = channel_layer_messages(ADMINS, lambda: process_queued_events([hook.pk for hook in hooks]))

    frames = [json.loads(text) for _event_id, text in message["frames"]]
    assert [(frame["type"], frame["data"].get("message", {}).get("text")) for frame in frames] == [
        ("conversation.created", None), *(("message.created", f"together {n}") for n in range(3))]
    assert [frame["id"] for frame in frames] == sorted(frame["id"] for frame in frames)


def test_held_frames_wait_no_longer_than_the_hold():
    def frame(event_id):
        return [({"id": event_id, "type": "test.held"}, [ADMINS])]

    def held_for(seconds):
        with frames_held(seconds):
            publish_events(frame(1))
            publish_events(frame(2))

    held = channel_layer_messages(ADMINS, lambda: held_for(60))
    not_held = channel_layer_messages(ADMINS, lambda: held_for(0))

    assert [[event_id for event_id, _text in message["frames"]] for message in held] == [[1, 2]]
    assert [[event_id for event_id, _text in message["frames"]] for message in not_held] == [[1], [2]]


def test_the_handoff_sends_what_arrives_together_as_one_batch():
    batches, fallen_back = [], []
    handoff = BatchedHandoff(batches.append, fallen_back.append, interval_seconds=0.5)
    handoff.submit(5)  # after a quiet spell: sent at once
    assert handoff.flush()
    for event_id in (3, 1, 2):  # within the interval: together
        handoff.submit(event_id)
    assert handoff.flush()
    assert batches == [[5], [3, 1, 2]] and fallen_back == []


@pytest.mark.parametrize("workers_behind", [True, False])
def test_a_large_batch_grows_while_the_workers_are_behind(monkeypatch, workers_behind):
    monkeypatch.setattr(handoff_module, "MAX_HOLD_SECONDS", 1.0)
    batches = []
    handoff = BatchedHandoff(batches.append, batches.append, interval_seconds=0.1,
                             workers_behind=lambda: workers_behind)
    handoff.submit(0)  # alone after a quiet spell: sent at once, behind or not
    time.sleep(0.02)
    for event_id in range(1, 16):  # within the interval: a batch of 15, at least HOLD_FROM
        handoff.submit(event_id)
    time.sleep(0.25)  # the interval is over: sent, unless the workers are behind
    for event_id in range(16, 40):
        handoff.submit(event_id)
    assert handoff.flush()

    assert handoff_module.HOLD_FROM <= 15
    if workers_behind:
        assert batches == [[0], list(range(1, 40))]
    else:
        assert batches == [[0], list(range(1, 16)), list(range(16, 40))]


@pytest.mark.skipif(not settings.CELERY_BROKER_URL.startswith("redis://"), reason="needs the Redis broker")
def test_the_handoff_sees_messages_that_no_worker_has_taken():
    app = Celery(broker=settings.CELERY_BROKER_URL)
    app.conf.task_default_queue = f"heron-test-{uuid.uuid4().hex}"
    workers_behind = workers_behind_check(app)
    assert workers_behind() is False
    app.send_task("inbox.tasks.process_raw_events_task", args=[[1, 2]])
    assert workers_behind() is True
    with app.connection_for_write() as connection:
        connection.default_channel.queue_purge(app.conf.task_default_queue)
    assert workers_behind() is False
    queue = app.conf.task_default_queue  # and the bindings kombu declared for it
    redis.Redis.from_url(settings.CELERY_BROKER_URL).delete(f"_kombu.binding.{queue}",
                                                           f"_kombu.binding_permanent.{queue}")


def test_the_handoff_falls_back_when_the_broker_refuses():
    fallen_back = []

    def unreachable(ids):
        raise ConnectionError("broker down")

    handoff = BatchedHandoff(unreachable, fallen_back.append, interval_seconds=0)
    handoff.submit(7)
    assert handoff.flush()
    assert fallen_back == [[7]]


def test_messages_processed_out_of_order_keep_the_order_they_arrived_in(inbox):
    first = stored_webhook(inbox, "first", received_at=timezone.now() - timedelta(seconds=2))
    second = stored_webhook(inbox, "second", received_at=timezone.now() - timedelta(seconds=1))

    process_raw_events_task.apply(args=[[second.pk]])
    process_raw_events_task.apply(args=[[first.pk]])

    messages = list(Message.objects.order_by("created_at"))
    assert [m.text for m in messages] == ["first", "second"]
    assert messages[0].created_at == first.received_at
    conversation = messages[1].conversation
    assert conversation.last_message_id == messages[1].pk
    assert conversation.last_message_at == second.received_at


@pytest.mark.django_db(transaction=True)
def test_with_the_broker_unreachable_the_server_records_the_webhook_itself(inbox):
    closed_port = free_port()
    server = Server(CELERY_TASK_ALWAYS_EAGER="0", CELERY_BROKER_URL=f"redis://127.0.0.1:{closed_port}/0")
    try:
        response = post_simulator_webhook(server.url, INBOUND, {
            "inbox": inbox.address, "from": "dave", "text": "broker is down", "id": "broker-down"})
        assert response.status_code == 204, server.output()[-3000:]
        wait_for(lambda: RawInboundEvent.objects.get().result == RawInboundEvent.Result.PROCESSED)
        assert Message.objects.filter(text="broker is down").exists()
        assert "could not queue raw events" in server.output()
    finally:
        server.stop()


def test_a_batch_is_read_with_its_inboxes_as_the_orm_reads_it(inbox):
    """`raw_events_with_inbox` is SQL (inbox/inbound_reads.py): the events, their inboxes (credentials
    decrypted) and teams must come out as the ORM gives them."""
    from inbox.inbound_reads import raw_events_with_inbox
    from inbox.models import Inbox

    def fields(instance) -> dict:
        return {field.attname: getattr(instance, field.attname) for field in type(instance)._meta.concrete_fields}

    inbox.credentials = {"account_sid": "AC1", "auth_token": "secret"}
    inbox.save()
    teamless = Inbox.objects.create(name="No team", channel="simulator", address="teamless")
    first, second = stored_webhook(inbox, "one"), stored_webhook(teamless, "two")
    orphan = RawInboundEvent.objects.create(channel="sms", endpoint="sms", url="/x", body=b"\x00\xff", headers={"A": "b"})
    done = stored_webhook(inbox, "done")
    RawInboundEvent.objects.filter(pk=done.pk).update(result=RawInboundEvent.Result.PROCESSED)

    read = raw_events_with_inbox([orphan.pk, second.pk, first.pk, done.pk], [RawInboundEvent.Result.PENDING])

    assert [raw.pk for raw in read] == [first.pk, second.pk, orphan.pk]  # oldest first, the processed one left out
    for raw in read:
        expected = RawInboundEvent.objects.select_related("inbox__team").get(pk=raw.pk)
        assert fields(raw) == fields(expected)
        assert bytes(raw.body) == bytes(expected.body)
        if expected.inbox is None:
            assert raw.inbox is None
            continue
        assert fields(raw.inbox) == fields(expected.inbox)
        assert raw.inbox.credentials == expected.inbox.credentials
        assert (raw.inbox.team and fields(raw.inbox.team)) == (expected.inbox.team and fields(expected.inbox.team))
    assert read[0].inbox.credentials == {"account_sid": "AC1", "auth_token": "secret"}
    assert read[1].inbox.team is None
    assert raw_events_with_inbox([], [RawInboundEvent.Result.PENDING]) == []
