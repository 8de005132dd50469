"""Realtime over real processes: uvicorn, Redis channel layer, websockets, and catch-up."""

import json

import httpx
import pytest
from websockets.exceptions import InvalidStatus

from inbox.models import Message, RawInboundEvent
from inbox.services.people import token_for
from tests.conftest import post_simulator_webhook, session_cookie_for
from tests.support.servers import CeleryWorker, Server
from tests.support.ws import assert_nothing_received, open_socket, receive_until


def is_message(text):
    return lambda f: f.get("type") == "message.created" and f["data"]["message"]["text"] == text


def customer_webhook(base_url, inbox, text, sender="alice", external_id=None):
    return post_simulator_webhook(base_url, "/webhooks/simulator/inbound/", {
        "inbox": inbox.address, "from": sender, "name": "Alice", "text": text, "id": external_id or text,
    })


def test_webhook_message_reaches_an_open_browser_socket(server, inbox, agent):
    with open_socket(server.ws_url, session_cookie=session_cookie_for(agent), origin=server.url) as socket:
        response = customer_webhook(server.url, inbox, "live hello")
        assert response.status_code == 204, response.text
        frame = receive_until(socket, is_message("live hello"))
        assert frame["id"] > 0 and frame["data"]["conversation"]["contact"]["name"] == "Alice"


def test_a_new_customers_two_events_arrive_in_order_once(server, inbox, agent, admin):
    """They leave together (one broadcast per group: events.published_together), as two frames."""
    for user in (agent, admin):  # a team group and the everyone group
        with open_socket(server.ws_url, token=token_for(user)) as socket:
            text = f"first words to {user.pk}"
            customer_webhook(server.url, inbox, text, sender=f"new-{user.pk}")
            created = receive_until(socket, lambda f: f.get("type") == "conversation.created")
            message = receive_until(socket, lambda f: True)  # the very next frame
            assert is_message(text)(message)
            assert message["id"] == created["id"] + 1
            assert message["data"]["conversation"]["id"] == created["data"]["conversation"]["id"]
            ids = {created["id"], message["id"]}
            assert_nothing_received(socket, lambda f, ids=ids: f.get("id") in ids, wait=1.0)


def test_forged_webhook_is_refused_and_nothing_is_stored(server, inbox):
    response = post_simulator_webhook(server.url, "/webhooks/simulator/inbound/", {
        "inbox": inbox.address, "from": "mallory", "text": "forged", "id": "F1"}, signature="0" * 64)
    assert response.status_code == 403
    assert not RawInboundEvent.objects.exists() and not Message.objects.exists()


def test_replayed_webhook_creates_no_second_message(server, inbox):
    for _ in range(3):
        assert customer_webhook(server.url, inbox, "once", external_id="SIM-1").status_code == 204
    assert Message.objects.filter(text="once").count() == 1
    assert list(RawInboundEvent.objects.values_list("result", flat=True).order_by("id")) == [
        "processed", "duplicate", "duplicate"]


def test_signed_but_malformed_webhook_is_a_400_and_kept_raw(server, inbox):
    response = post_simulator_webhook(server.url, "/webhooks/simulator/inbound/", {
        "inbox": inbox.address, "from": "", "text": "no sender", "id": "M1"})
    assert response.status_code == 400 and "'from'" in response.json()["detail"]
    raw = RawInboundEvent.objects.get()
    assert raw.result == "failed" and b"no sender" in bytes(raw.body)


def test_agent_of_another_team_hears_nothing(server, inbox, sales_agent):
    with open_socket(server.ws_url, session_cookie=session_cookie_for(sales_agent), origin=server.url) as socket:
        customer_webhook(server.url, inbox, "support only")
        assert_nothing_received(socket, lambda f: f.get("type", "").startswith("message."), wait=1.5)
        conversation_id = Message.objects.get(text="support only").conversation_id
        socket.send(json.dumps({"type": "presence", "conversation": conversation_id, "state": "viewing"}))
        error = receive_until(socket, lambda f: f["type"] == "error")
        assert error["detail"] == "No such conversation"


def test_frames_the_server_cannot_read_get_an_error_and_the_socket_stays_open(server, inbox, agent, admin):
    customer_webhook(server.url, inbox, "still here")
    conversation_id = Message.objects.get(text="still here").conversation_id
    with open_socket(server.ws_url, token=token_for(agent)) as socket, \
            open_socket(server.ws_url, token=token_for(admin)) as watcher:
        for frame, detail in [("{not json", "Frames must be JSON text"), (b"\x00\x01", "Frames must be JSON text"),
                              (json.dumps({"type": "presence", "conversation": 2**80, "state": "viewing"}),
                               "presence needs a conversation id and a state"),
                              (json.dumps({"type": "presence", "conversation": True, "state": "viewing"}),
                               "presence needs a conversation id and a state")]:
            socket.send(frame)
            assert receive_until(socket, lambda f: f["type"] == "error")["detail"] == detail
        socket.send(json.dumps({"type": "presence", "conversation": conversation_id, "state": "viewing"}))
        presence = receive_until(watcher, lambda f: f["type"] == "presence")
        assert presence["data"]["user"]["id"] == agent.pk


def test_an_agent_of_both_teams_hears_a_two_team_event_once(server, inbox, support, sales):
    from inbox.models import Conversation, Role
    from inbox.services.people import create_agent

    both = create_agent("bo@example.com", role=Role.AGENT, name="Bo Both", teams=["Support", "Sales"])
    customer_webhook(server.url, inbox, "first")
    Conversation.objects.update(team=sales)  # the inbox is Support's: its events go to both team groups
    with open_socket(server.ws_url, token=token_for(both)) as socket:
        customer_webhook(server.url, inbox, "heard once")
        frame = receive_until(socket, is_message("heard once"))
        assert_nothing_received(socket, lambda f: f.get("id") == frame["id"], wait=1.0)


def test_marketer_hears_every_team(server, inbox, sales_inbox, marketer):
    with open_socket(server.ws_url, token=token_for(marketer)) as socket:
        customer_webhook(server.url, sales_inbox, "sales news", sender="bob")
        receive_until(socket, is_message("sales news"))


def test_socket_without_login_or_with_foreign_origin_is_refused(server, agent):
    attempts = [
        {"origin": server.url},
        {"session_cookie": session_cookie_for(agent), "origin": "https://evil.example"},
        {"token": "not-a-token"},
    ]
    for kwargs in attempts:
        with pytest.raises(InvalidStatus), open_socket(server.ws_url, **kwargs):
            pass
    with open_socket(server.ws_url, session_cookie=session_cookie_for(agent), origin=server.url) as accepted:
        assert accepted.protocol.state.name == "OPEN"


def test_presence_reaches_colleagues_but_not_oneself(server, inbox, agent, admin):
    customer_webhook(server.url, inbox, "who is here")
    conversation_id = Message.objects.get(text="who is here").conversation_id
    with open_socket(server.ws_url, token=token_for(agent)) as ana, \
            open_socket(server.ws_url, token=token_for(admin)) as ada:
        ana.send(json.dumps({"type": "presence", "conversation": conversation_id, "state": "replying"}))
        frame = receive_until(ada, lambda f: f["type"] == "presence")
        assert frame["data"] == {"conversation": conversation_id, "user": {"id": agent.pk, "name": "Ana Agent"},
                                 "state": "replying"}
        assert_nothing_received(ana, lambda f: f["type"] == "presence", wait=0.5)


def test_reconnecting_client_gets_every_missed_event(server, inbox, sales_inbox, agent):
    with open_socket(server.ws_url, session_cookie=session_cookie_for(agent), origin=server.url) as socket:
        customer_webhook(server.url, inbox, "before drop")
        last_seen = receive_until(socket, is_message("before drop"))["id"]

    for n in range(5):
        customer_webhook(server.url, inbox, f"missed {n}")
    customer_webhook(server.url, sales_inbox, "not yours", sender="bob")

    cookies = {"sessionid": session_cookie_for(agent)}
    missed = httpx.get(f"{server.url}/api/v1/events/", params={"after": last_seen}, cookies=cookies).json()
    texts = [e["data"]["message"]["text"] for e in missed["events"] if e["type"] == "message.created"]
    assert texts == [f"missed {n}" for n in range(5)]
    ids = [e["id"] for e in missed["events"]]
    assert ids == sorted(ids) and missed["last_id"] == ids[-1]


def test_event_in_one_process_reaches_a_socket_held_by_another(server, inbox, agent):
    """Production runs several ASGI processes; Redis carries events between them."""
    other = Server(CELERY_TASK_ALWAYS_EAGER="1", SIMULATOR_DELIVERY_CALLBACKS="1")
    try:
        with open_socket(other.ws_url, token=token_for(agent)) as socket:
            customer_webhook(server.url, inbox, "cross process")
            frame = receive_until(socket, is_message("cross process"))
            assert frame["data"]["message"]["direction"] == "in"
    finally:
        other.stop()


def test_reply_goes_through_a_real_celery_worker_and_status_comes_back_live(transactional_db, inbox, agent):
    """Not eager: the webhook is answered once stored and a worker records it; the API queues the
    reply in Redis, a worker sends it, the provider reports delivery."""
    server = Server(CELERY_TASK_ALWAYS_EAGER="0", SIMULATOR_DELIVERY_CALLBACKS="1")
    worker = CeleryWorker(PUBLIC_BASE_URL=server.url, SIMULATOR_DELIVERY_CALLBACKS="1")
    try:
        with open_socket(server.ws_url, token=token_for(agent)) as socket:
            assert customer_webhook(server.url, inbox, "please reply").status_code == 204
            frame = receive_until(socket, is_message("please reply"), timeout=20)
            conversation_id = frame["data"]["conversation"]["id"]
            assert "process_raw_events_task" in worker.output()
            assert RawInboundEvent.objects.get(endpoint="simulator.inbound").result == "processed"

            response = httpx.post(f"{server.url}/api/v1/conversations/{conversation_id}/messages/",
                                  json={"text": "Replying via the worker"},
                                  headers={"Authorization": f"Token {token_for(agent)}"})
            assert response.status_code == 201, response.text
            assert response.json()["status"] == "queued"
            message_id = response.json()["id"]

            def status_of(status):
                return lambda f: (f.get("type") == "message.updated" and f["data"]["message"]["id"] == message_id
                                  and f["data"]["message"]["status"] == status)

            receive_until(socket, status_of("sent"), timeout=20)
            receive_until(socket, status_of("delivered"), timeout=20)
            assert "deliver_message" in worker.output()
    finally:
        worker.stop()
        server.stop()


def test_customer_simulator_endpoint_posts_a_signed_webhook(server, inbox, admin, agent):
    """The demo drawer runs `simulate` server-side: the message takes the real webhook path."""
    headers = {"Authorization": f"Token {token_for(admin)}"}
    options = httpx.get(f"{server.url}/api/v1/simulate/", headers=headers).json()["channels"]
    assert {"sender", "text", "to"} <= set(options["simulator"])
    response = httpx.post(f"{server.url}/api/v1/simulate/", headers=headers, json={
        "channel": "simulator", "options": {"sender": "drawer", "to": inbox.address, "text": "from the drawer"}})
    assert response.status_code == 200, response.text
    assert Message.objects.get(text="from the drawer").identity.value == "drawer"
    refused = httpx.post(f"{server.url}/api/v1/simulate/", headers={"Authorization": f"Token {token_for(agent)}"},
                         json={"channel": "simulator", "options": {"text": "x"}})
    assert refused.status_code == 403
    bad = httpx.post(f"{server.url}/api/v1/simulate/", headers=headers,
                     json={"channel": "simulator", "options": {"nope": "x"}})
    assert bad.status_code == 400


def test_reply_events_reach_the_browser_in_order(server, inbox, agent):
    customer_webhook(server.url, inbox, "order please")
    conversation_id = Message.objects.get(text="order please").conversation_id
    with open_socket(server.ws_url, token=token_for(agent)) as socket:
        reply = httpx.post(f"{server.url}/api/v1/conversations/{conversation_id}/messages/",
                           json={"text": "in order"}, headers={"Authorization": f"Token {token_for(agent)}"})
        message_id = reply.json()["id"]
        frames = []
        receive_until(socket, lambda f: frames.append(f) or (
            f.get("type") == "message.updated" and f["data"]["message"]["status"] == "delivered"))
        mine = [(f["type"], f["data"]["message"]["status"]) for f in frames
                if f.get("type", "").startswith("message.") and f["data"]["message"]["id"] == message_id]
        assert mine == [("message.created", "queued"), ("message.updated", "sent"), ("message.updated", "delivered")]
        ids = [f["id"] for f in frames if "id" in f]
        assert ids == sorted(ids)
