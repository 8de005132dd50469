"""The read paths bench/reads.py measures (inbox list, contact timeline, conversation messages):
query counts that do not grow with the page, hand-built shapes equal to DRF's generic output, and
the visibility rules kept while the views skip queries."""

import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework import serializers as drf
from rest_framework.test import APIClient

from channels_adapters.base import InboundAttachment
from inbox.api.serializers import ConversationSerializer, MessageSerializer
from inbox.models import Conversation, Message
from inbox.selectors import conversation_list, message_list
from inbox.services.people import token_for


def token_client(user) -> APIClient:
    """Token auth, as the benchmark and integrations call the API."""
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token_for(user)}")
    return client


@pytest.fixture
def busy_contact(admin, agent, inbox, customer_writes):
    """One contact with a dozen messages: inbound with attachments, agent replies, a labelled and assigned
    conversation; and a dozen other conversations so the list has pages too."""
    for n in range(12):
        customer_writes(inbox, f"customer-{n}", f"message {n}")
    first = customer_writes(inbox, "busy", "hello", name="Busy Bee", attachments=(
        InboundAttachment("invoice.pdf", "application/pdf", b"%PDF-1.4 fake"),
    ))
    api = token_client(agent)
    url = f"/api/v1/conversations/{first.conversation_id}/messages/"
    for n in range(5):
        customer_writes(inbox, "busy", f"more {n}", attachments=(
            InboundAttachment(f"photo-{n}.png", "image/png", b"\x89PNG fake"),
        ))
        assert api.post(url, {"text": f"reply {n}"}, format="json").status_code == 201
    assert api.patch(f"/api/v1/conversations/{first.conversation_id}/",
                     {"assignee": agent.pk, "labels": ["vip", "billing"]}, format="json").status_code == 200
    return first.contact


def query_count(client: APIClient, url: str, page_size: int) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, {"page_size": page_size})
    assert response.status_code == 200, response.content
    assert len(response.json()["results"]) == page_size
    return len(queries)


@pytest.mark.parametrize("role", ["admin", "agent"])
@pytest.mark.parametrize("endpoint", ["inbox list", "contact timeline", "conversation messages"])
def test_query_count_does_not_grow_with_page_size(request, role, endpoint, busy_contact):
    conversation = Conversation.objects.filter(contact=busy_contact).get()
    url = {
        "inbox list": "/api/v1/conversations/",
        "contact timeline": f"/api/v1/contacts/{busy_contact.pk}/timeline/",
        "conversation messages": f"/api/v1/conversations/{conversation.pk}/messages/",
    }[endpoint]
    client = token_client(request.getfixturevalue(role))
    query_count(client, url, 2)  # warm caches (content types)
    assert query_count(client, url, 2) == query_count(client, url, 10)


def test_query_counts_per_request(admin, agent, busy_contact):
    """The budget bench/reads.py reports: the token (with the user and their Heron profile, for the
    role), the page, and for messages their attachments; a visible page needs no separate visibility check."""
    conversation = Conversation.objects.filter(contact=busy_contact).get()
    for user in (admin, agent):
        client = token_client(user)
        assert query_count(client, "/api/v1/conversations/", 10) == 2
        assert query_count(client, f"/api/v1/contacts/{busy_contact.pk}/timeline/", 10) == 3
        assert query_count(client, f"/api/v1/conversations/{conversation.pk}/messages/", 10) == 3


def test_list_rows_render_like_instances(admin, busy_contact):
    """The list renders `selectors.conversation_rows` dicts, events render instances: the same JSON."""
    api = token_client(admin)
    listed = api.get("/api/v1/conversations/").json()["results"]
    by_contact = api.get(f"/api/v1/contacts/{busy_contact.pk}/conversations/").json()
    instances = {c.pk: c for c in conversation_list(admin)}
    assert len(listed) == len(instances) == 13
    for row in listed + by_contact:
        assert row == json.loads(json.dumps(ConversationSerializer(instances[row["id"]]).data))
    busy = next(row for row in listed if row["contact"]["name"] == "Busy Bee")
    assert busy["labels"] == ["billing", "vip"] and busy["assignee"]["name"] == "Ana Agent"
    assert busy["last_message"]["sender_user"] is not None and busy["unread_count"] == 6
    assert api.get(f"/api/v1/conversations/{busy['id']}/").json() == busy


def test_fast_message_shape_matches_declared_fields(busy_contact):
    """MessageSerializer builds its output by hand for speed; it must equal what DRF would build."""
    messages = list(message_list(Message.objects.filter(contact=busy_contact)))
    assert {m.direction for m in messages} == {"in", "out"} and any(m.attachments.all() for m in messages)
    serializer = MessageSerializer()
    for message in messages:
        generic = drf.ModelSerializer.to_representation(serializer, message)
        assert serializer.to_representation(message) == json.loads(json.dumps(generic))


def test_timeline_visibility_is_kept_without_its_own_query(client_for, agent, inbox, sales_inbox, customer_writes):
    """A visible message on the page proves its contact visible only if its conversation is the contact's
    own: an un-merge leaves newer messages of a conversation with the contact it was merged into."""
    from inbox.models import Contact

    api = client_for(agent)
    stranger = customer_writes(sales_inbox, "stranger", "not your team's")
    straggler = customer_writes(inbox, "known", "in a support conversation")
    Message.objects.filter(pk=straggler.pk).update(contact=stranger.contact)
    assert api.get(f"/api/v1/contacts/{stranger.contact_id}/timeline/").status_code == 404
    assert api.get(f"/api/v1/contacts/{straggler.contact_id}/timeline/").json()["results"] == []
    nobody = Contact.objects.create(name="Not talked to yet")
    assert api.get(f"/api/v1/contacts/{nobody.pk}/timeline/").json()["results"] == []
    assert api.get("/api/v1/contacts/987654/timeline/").status_code == 404


def test_messages_of_an_empty_or_invisible_conversation(client_for, agent, inbox, sales_inbox, customer_writes):
    api = client_for(agent)
    visible = customer_writes(inbox, "alice", "hello")
    hidden = customer_writes(sales_inbox, "bob", "hello")
    Message.objects.filter(conversation=visible.conversation_id).delete()
    assert api.get(f"/api/v1/conversations/{visible.conversation_id}/messages/").json()["results"] == []
    assert api.get(f"/api/v1/conversations/{hidden.conversation_id}/messages/").status_code == 404
    assert api.get("/api/v1/conversations/987654/messages/").status_code == 404
