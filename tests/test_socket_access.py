"""Open websockets follow their person's access: signing out, deactivation, a revoked token, a team
or role change apply to a socket already open within 2 seconds; read-only roles write nothing."""

from __future__ import annotations

import json
import time

import httpx
import pytest
from rest_framework.authtoken.models import Token
from websockets.exceptions import ConnectionClosed

from inbox.models import Message, Role
from tests.conftest import post_simulator_webhook, session_cookie_for
from tests.support.ws import assert_nothing_received, open_socket, receive_until

APPLIES_WITHIN = 2.0


def customer_writes_in(server, inbox, text: str) -> int:
    body = {"inbox": inbox.address, "from": "carol", "name": "Carol", "text": text, "id": text}
    assert post_simulator_webhook(server.url, "/webhooks/simulator/inbound/", body).status_code == 204
    return Message.objects.get(text=text).conversation_id


def close_code(socket, timeout: float = APPLIES_WITHIN) -> int:
    """The code the server closed the socket with, within `timeout` (frames before it are skipped)."""
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            socket.recv(timeout=max(0.01, deadline - time.monotonic()))
    except ConnectionClosed as closed:
        return closed.rcvd.code
    except TimeoutError:
        pass
    raise AssertionError(f"the socket was still open after {timeout}s")


def is_message(text):
    return lambda f: f.get("type") == "message.created" and f["data"]["message"]["text"] == text


def token(user) -> str:
    return Token.objects.get_or_create(user=user)[0].key


def test_signing_out_closes_that_sessions_sockets_and_no_other(server, inbox, agent):
    signed_out, other_session = session_cookie_for(agent), session_cookie_for(agent)
    with open_socket(server.ws_url, session_cookie=signed_out, origin=server.url) as leaving, \
            open_socket(server.ws_url, session_cookie=other_session, origin=server.url) as staying:
        with httpx.Client(base_url=server.url, cookies={"sessionid": signed_out}, timeout=10) as browser:
            browser.get("/api/v1/auth/csrf/")
            response = browser.post("/api/v1/auth/logout/", headers={
                "X-CSRFToken": browser.cookies["csrftoken"], "Origin": server.url, "Referer": server.url + "/"})
            assert response.status_code == 204, response.text
        assert close_code(leaving) == 4401
        customer_writes_in(server, inbox, "still heard")
        receive_until(staying, is_message("still heard"))


def test_leaving_a_team_stops_an_open_socket_hearing_it(server, inbox, agent, support):
    with open_socket(server.ws_url, token=token(agent)) as socket:
        customer_writes_in(server, inbox, "while in the team")
        receive_until(socket, is_message("while in the team"))
        agent.heron.teams.remove(support)
        time.sleep(APPLIES_WITHIN)
        customer_writes_in(server, inbox, "after leaving")
        assert_nothing_received(socket, lambda f: "after leaving" in str(f), wait=1.5)
        support.members.add(agent.heron)  # from the team's side
        time.sleep(APPLIES_WITHIN)
        customer_writes_in(server, inbox, "back again")
        receive_until(socket, is_message("back again"))


@pytest.mark.parametrize("change", ["deactivated", "token revoked", "role taken away"])
def test_a_socket_closes_when_its_credentials_no_longer_hold(server, agent, change):
    with open_socket(server.ws_url, token=token(agent)) as socket:
        if change == "deactivated":
            agent.is_active = False
            agent.save()
        elif change == "token revoked":
            Token.objects.filter(user=agent).delete()
        else:
            agent.heron.delete()
        assert close_code(socket) == (4403 if change == "role taken away" else 4401)


def test_an_agent_made_marketer_keeps_listening_but_may_no_longer_write(server, inbox, agent, sales_inbox):
    conversation_id = customer_writes_in(server, inbox, "before the change")
    with open_socket(server.ws_url, token=token(agent)) as socket:
        agent.heron.role = Role.MARKETER
        agent.heron.save()
        time.sleep(APPLIES_WITHIN)
        customer_writes_in(server, sales_inbox, "another team's news")  # marketers hear every team
        receive_until(socket, is_message("another team's news"))
        socket.send(json.dumps({"type": "presence", "conversation": conversation_id, "state": "replying"}))
        error = receive_until(socket, lambda f: f.get("type") == "error")
        assert error["detail"] == "Read-only access: your role sends no presence"


def test_a_marketer_writes_nothing_through_the_socket_or_read_markers(server, inbox, marketer, agent):
    conversation_id = customer_writes_in(server, inbox, "look at me")
    with open_socket(server.ws_url, token=token(marketer)) as mia, open_socket(server.ws_url, token=token(agent)) as ana:
        mia.send(json.dumps({"type": "presence", "conversation": conversation_id, "state": "replying"}))
        assert receive_until(mia, lambda f: f.get("type") == "error")["detail"] == (
            "Read-only access: your role sends no presence")
        assert_nothing_received(ana, lambda f: f.get("type") == "presence", wait=1.0)
    response = httpx.post(f"{server.url}/api/v1/conversations/{conversation_id}/read/",
                          headers={"Authorization": f"Token {token(marketer)}"}, timeout=10)
    assert response.status_code == 403
    assert "read-only" in response.json()["detail"]
