"""Private notes: admins and the agents who may see the conversation read them; marketers never, on
any read path (messages, timeline, list snippet, catch-up, websocket, attachments)."""

from __future__ import annotations

import httpx
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.authtoken.models import Token

from inbox.models import Attachment, Conversation, Message
from inbox.services.outbound import send_message
from tests.conftest import post_simulator_webhook
from tests.support.ws import assert_nothing_received, open_socket, receive_until

NOTE = "Refund approved: do not tell the customer yet"


@pytest.fixture
def noted(inbox, agent, customer_writes, django_capture_on_commit_callbacks) -> Message:
    """A customer's message, then an agent's note with a file: the conversation's latest item."""
    customer_writes(inbox, "alice", "Where is my refund?")
    conversation = Conversation.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        return send_message(conversation, agent, text=NOTE, private=True,
                            files=[SimpleUploadedFile("plan.txt", b"internal plan", "text/plain")])


def readers(agent, admin, marketer, sales_agent) -> dict:
    return {"agent": agent, "admin": admin, "marketer": marketer, "other team": sales_agent}


SEES_NOTE = {"agent": True, "admin": True, "marketer": False}


def test_each_read_path_shows_the_note_only_to_those_who_may_read_notes(
    noted, client_for, agent, admin, marketer, sales_agent
):
    conversation_id, contact_id = noted.conversation_id, noted.contact_id
    attachment = Attachment.objects.get(message=noted)
    for role, user in readers(agent, admin, marketer, sales_agent).items():
        api = client_for(user)
        if role == "other team":
            assert api.get(f"/api/v1/conversations/{conversation_id}/messages/").status_code == 404
            assert api.get(f"/api/v1/attachments/{attachment.pk}/").status_code == 404
            continue
        sees = SEES_NOTE[role]
        messages = api.get(f"/api/v1/conversations/{conversation_id}/messages/").json()["results"]
        assert (NOTE in [m["text"] for m in messages]) is sees, role
        timeline = api.get(f"/api/v1/contacts/{contact_id}/timeline/").json()["results"]
        assert (NOTE in [m["text"] for m in timeline]) is sees, role
        events = api.get("/api/v1/events/", {"after": 0}).json()["events"]
        assert (NOTE in str(events)) is sees, role
        assert api.get(f"/api/v1/attachments/{attachment.pk}/").status_code == (200 if sees else 404), role
        # The list's snippet is the latest message the customer and the team exchanged, never a note.
        [row] = api.get("/api/v1/conversations/").json()["results"]
        assert row["last_message"]["text"] == "Where is my refund?", role
        assert api.get(f"/api/v1/conversations/{conversation_id}/").json()["last_message"]["text"] == (
            "Where is my refund?")


def test_a_note_reaches_agents_and_admins_sockets_but_not_a_marketers(server, inbox, agent, admin, marketer):
    body = {"inbox": inbox.address, "from": "bob", "name": "Bob", "text": "Is it shipped?", "id": "n-1"}
    assert post_simulator_webhook(server.url, "/webhooks/simulator/inbound/", body).status_code == 204
    conversation_id = Message.objects.get(text="Is it shipped?").conversation_id
    tokens = {user: Token.objects.get_or_create(user=user)[0].key for user in (agent, admin, marketer)}
    with open_socket(server.ws_url, token=tokens[agent]) as ana, open_socket(server.ws_url, token=tokens[admin]) as ada, \
            open_socket(server.ws_url, token=tokens[marketer]) as mia:
        response = httpx.post(f"{server.url}/api/v1/conversations/{conversation_id}/messages/",
                              json={"text": NOTE, "private": True},
                              headers={"Authorization": f"Token {tokens[agent]}"}, timeout=30)
        assert response.status_code == 201, response.text

        def is_note(frame):
            return frame.get("type") == "message.created" and frame["data"]["message"]["text"] == NOTE

        receive_until(ana, is_note)
        receive_until(ada, is_note)
        # The marketer hears the conversation move (its snippet unchanged), never the note itself.
        heard: list[dict] = []
        update = receive_until(mia, lambda f: heard.append(f) or f.get("type") == "conversation.updated")
        assert update["data"]["conversation"]["last_message"]["text"] == "Is it shipped?"
        assert NOTE not in str(heard)
        assert_nothing_received(mia, lambda f: NOTE in str(f), wait=1.0)
