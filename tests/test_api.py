"""REST API: shapes, filters, validation, and roles enforced on the server."""

import pytest

from inbox.models import Conversation, DeliveryStatus, Inbox, Message, Status
from inbox.services.contacts import add_identity


@pytest.fixture
def support_message(inbox, customer_writes):
    return customer_writes(inbox, "alice", "Where is my parcel?", name="Alice Doe")


@pytest.fixture
def sales_message(sales_inbox, customer_writes):
    return customer_writes(sales_inbox, "bob", "I want a quote", name="Bob Buyer")


def test_unauthenticated_requests_are_refused(client):
    response = client.get("/api/v1/conversations/")
    assert response.status_code == 403


def test_login_with_email_and_password(client, agent):
    from tests.conftest import PASSWORD

    bad = client.post("/api/v1/auth/login/", {"email": "ana@example.com", "password": "nope"},
                      content_type="application/json")
    assert bad.status_code == 400 and "Wrong email or password" in bad.json()["detail"]
    good = client.post("/api/v1/auth/login/", {"email": "ANA@example.com", "password": PASSWORD},
                       content_type="application/json")
    assert good.status_code == 200
    assert good.json()["role"] == "agent" and good.json()["can_reply"] is True
    assert client.get("/api/v1/me/").json()["email"] == "ana@example.com"


def test_repeated_failed_sign_ins_lock_that_email_out_from_that_address(client, agent, settings):
    from tests.conftest import PASSWORD

    settings.AXES_FAILURE_LIMIT = 3  # each attempt hashes a password: fewer of them

    def sign_in(password, address="10.0.0.1"):
        return client.post("/api/v1/auth/login/", {"email": "ana@example.com", "password": password},
                           content_type="application/json", REMOTE_ADDR=address)

    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert sign_in("nope").status_code == 400
    assert sign_in(PASSWORD).status_code == 200  # a success starts the count again
    for _ in range(settings.AXES_FAILURE_LIMIT):
        assert sign_in("nope").status_code in (400, 429)
    locked = sign_in(PASSWORD)  # even the right password, until the cool-off ends
    assert locked.status_code == 429
    assert locked.json()["detail"].startswith("Too many failed sign-ins. Try again in 15 minutes")
    assert locked["Retry-After"] == "900"
    assert sign_in(PASSWORD, address="10.0.0.2").status_code == 200  # the same email from elsewhere


def test_message_fields_in_api_output(client_for, admin, support_message):
    response = client_for(admin).get(f"/api/v1/conversations/{support_message.conversation_id}/messages/")
    assert response.status_code == 200
    message = response.json()["results"][0]
    for field in ["id", "conversation", "contact", "direction", "kind", "channel", "text", "status",
                  "provider_status", "external_id", "created_at"]:
        assert field in message
    assert message["text"] == "Where is my parcel?" and message["direction"] == "in"


def test_agent_sees_only_their_teams_conversations(client_for, agent, support_message, sales_message):
    api = client_for(agent)
    ids = [c["id"] for c in api.get("/api/v1/conversations/").json()["results"]]
    assert ids == [support_message.conversation_id]
    assert api.get(f"/api/v1/conversations/{sales_message.conversation_id}/").status_code == 404
    assert api.get(f"/api/v1/conversations/{sales_message.conversation_id}/messages/").status_code == 404
    assert api.get(f"/api/v1/contacts/{sales_message.contact_id}/timeline/").status_code == 404
    reply = api.post(f"/api/v1/conversations/{sales_message.conversation_id}/messages/", {"text": "hi"},
                     format="json")
    assert reply.status_code == 404
    assert not Message.objects.filter(direction="out").exists()


def test_conversation_reassigned_to_a_team_becomes_visible_to_it(client_for, admin, sales_agent, support_message):
    from inbox.models import Team

    sales = Team.objects.get(name="Sales")
    client_for(admin).patch(f"/api/v1/conversations/{support_message.conversation_id}/", {"team": sales.pk},
                            format="json")
    ids = [c["id"] for c in client_for(sales_agent).get("/api/v1/conversations/").json()["results"]]
    assert ids == [support_message.conversation_id]


def test_marketer_reads_everything_and_changes_nothing(client_for, marketer, support_message, sales_message):
    api = client_for(marketer)
    ids = {c["id"] for c in api.get("/api/v1/conversations/").json()["results"]}
    assert ids == {support_message.conversation_id, sales_message.conversation_id}
    timeline = api.get(f"/api/v1/contacts/{sales_message.contact_id}/timeline/")
    assert timeline.status_code == 200 and timeline.json()["results"][0]["text"] == "I want a quote"

    reply = api.post(f"/api/v1/conversations/{support_message.conversation_id}/messages/", {"text": "hi"},
                     format="json")
    assert reply.status_code == 403 and "read-only" in reply.json()["detail"]
    note = api.post(f"/api/v1/conversations/{support_message.conversation_id}/messages/",
                    {"text": "hi", "private": True}, format="json")
    assert note.status_code == 403
    patch = api.patch(f"/api/v1/conversations/{support_message.conversation_id}/", {"status": "resolved"},
                      format="json")
    assert patch.status_code == 403
    assert Conversation.objects.get(pk=support_message.conversation_id).status == Status.OPEN
    assert not Message.objects.filter(direction="out").exists()
    assert api.get("/api/v1/me/").json()["can_reply"] is False


def test_agent_replies_and_the_message_is_delivered_by_the_simulator(
    client_for, agent, support_message, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(agent).post(
            f"/api/v1/conversations/{support_message.conversation_id}/messages/", {"text": "On its way!"},
            format="json",
        )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["direction"] == "out" and body["sender"]["name"] == "Ana Agent"
    message = Message.objects.get(pk=body["id"])
    # Tasks run inline here, so the simulator provider has already accepted it.
    assert message.status == DeliveryStatus.SENT and message.external_id.startswith("SIM")
    from channels_adapters.simulator.models import SimulatedSend

    sent = SimulatedSend.objects.get(external_id=message.external_id)
    assert (sent.to, sent.text) == ("alice", "On its way!")
    conversation = Conversation.objects.get(pk=support_message.conversation_id)
    assert conversation.first_response_at is not None and conversation.waiting_since is None


def test_note_is_not_sent_to_the_customer(client_for, agent, support_message):
    from channels_adapters.simulator.models import SimulatedSend

    response = client_for(agent).post(f"/api/v1/conversations/{support_message.conversation_id}/messages/",
                                      {"text": "Customer is VIP", "private": True}, format="json")
    assert response.status_code == 201 and response.json()["kind"] == "note"
    assert not SimulatedSend.objects.exists()


@pytest.mark.parametrize(
    "payload, field",
    [
        ({}, "text"),
        ({"text": ""}, "text"),
        ({"text": "x" * 20_001}, "text"),
        ({"text": "hi", "channel": "sms"}, "detail"),  # no SMS inbox and no phone identity
        ({"text": "hi", "private": "maybe"}, "private"),
    ],
)
def test_bad_replies_get_a_400_with_a_message(client_for, agent, support_message, payload, field):
    response = client_for(agent).post(f"/api/v1/conversations/{support_message.conversation_id}/messages/",
                                      payload, format="json")
    assert response.status_code == 400
    assert field in response.json()


@pytest.mark.parametrize(
    "payload, field",
    [
        ({"status": "closed"}, "status"),
        ({"status": "snoozed"}, "snoozed_until"),
        ({"assignee": 999999}, "assignee"),
        ({"assignee": "abc"}, "assignee"),
        ({"labels": "vip"}, "labels"),
        ({"labels": ["not a slug!"]}, "labels"),
        ({"priority": "whenever"}, "priority"),
    ],
)
def test_bad_conversation_updates_get_a_400(client_for, agent, support_message, payload, field):
    response = client_for(agent).patch(f"/api/v1/conversations/{support_message.conversation_id}/", payload,
                                       format="json")
    assert response.status_code == 400
    assert field in response.json()


@pytest.mark.parametrize("url", [
    "/api/v1/contacts/?q=%00", "/api/v1/conversations/?q=a%00b", "/api/v1/conversations/?label=%00",
    "/api/v1/conversations/?status=open&status=%00", "/admin/inbox/contact/?q=%00",
])
def test_a_nul_character_in_the_query_string_is_a_400_not_a_500(client_for, admin, support_message, url):
    """PostgreSQL cannot compare a column with a NUL character: such a search was a 500."""
    response = client_for(admin).get(url)
    assert response.status_code == 400
    assert response.json()["detail"] == "Query parameters must not contain NUL characters."


def test_update_conversation_leaves_activities_and_events(client_for, agent, support_message):
    response = client_for(agent).patch(
        f"/api/v1/conversations/{support_message.conversation_id}/",
        {"status": "resolved", "assignee": agent.pk, "priority": "high", "labels": ["billing", "vip"]},
        format="json",
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "resolved" and body["assignee"]["id"] == agent.pk
    assert body["priority"] == "high" and body["labels"] == ["billing", "vip"]
    activities = list(Message.objects.filter(kind="activity").values_list("text", flat=True))
    assert any("status to resolved" in a for a in activities)
    assert any("assigned the conversation to Ana Agent" in a for a in activities)


def test_list_filters(client_for, admin, agent, inbox, customer_writes):
    a = customer_writes(inbox, "carol", "first", name="Carol Jones")
    b = customer_writes(inbox, "+1 555 010 9999", "second", kind="phone", name="Dan Smith")
    api = client_for(admin)
    api.patch(f"/api/v1/conversations/{a.conversation_id}/", {"assignee": admin.pk, "labels": ["vip"]}, format="json")

    def ids(query):
        response = api.get("/api/v1/conversations/" + query)
        assert response.status_code == 200, response.content
        return [c["id"] for c in response.json()["results"]]

    assert ids("?view=mine") == [a.conversation_id]
    assert ids("?view=unassigned") == [b.conversation_id]
    assert ids("?label=vip") == [a.conversation_id]
    assert ids("?q=carol") == [a.conversation_id]
    assert ids("?q=(555) 010-9999") == [b.conversation_id]
    assert ids(f"?assignee={admin.pk}") == [a.conversation_id]
    assert ids("?status=resolved") == []
    assert api.get("/api/v1/conversations/?view=everything").status_code == 400
    assert api.get("/api/v1/conversations/?inbox=abc").status_code == 400


def test_contact_search_matches_any_phone_format(client_for, marketer, inbox, customer_writes):
    message = customer_writes(inbox, "+15558675310", kind="phone", name="Pat")
    add_identity(message.contact, "email", "pat@example.org")
    api = client_for(marketer)
    for q in ["+1 (555) 867-5310", "555-867-5310", "pat@EXAMPLE.org", "Pat"]:
        results = api.get("/api/v1/contacts/", {"q": q}).json()["results"]
        assert [c["id"] for c in results] == [message.contact_id], q


def test_timeline_spans_conversations_and_channels_newest_first(client_for, admin, inbox, customer_writes):
    first = customer_writes(inbox, "+15558675310", "sms one", kind="phone")
    Conversation.objects.filter(pk=first.conversation_id).update(status=Status.RESOLVED)
    add_identity(first.contact, "email", "pat@example.org")
    second = customer_writes(inbox, "pat@example.org", "email two", kind="email")
    assert second.conversation_id != first.conversation_id
    api = client_for(admin)
    page = api.get(f"/api/v1/contacts/{first.contact_id}/timeline/", {"page_size": 1}).json()
    assert [m["text"] for m in page["results"]] == ["email two"]
    older = api.get(page["next"]).json()
    assert [m["text"] for m in older["results"]] == ["sms one"]


def test_merge_and_unmerge_contacts(client_for, admin, inbox, customer_writes):
    a = customer_writes(inbox, "+15558675310", "by sms", kind="phone", name="Alice")
    b = customer_writes(inbox, "alice@example.org", "by email", kind="email")
    api = client_for(admin)
    merged = api.post(f"/api/v1/contacts/{a.contact_id}/merge/", {"other": b.contact_id}, format="json")
    assert merged.status_code == 200, merged.content
    assert sorted(i["kind"] for i in merged.json()["identities"]) == ["email", "phone"]
    timeline = api.get(f"/api/v1/contacts/{a.contact_id}/timeline/").json()["results"]
    assert {m["text"] for m in timeline} == {"by sms", "by email"}

    merge_id = merged.json()["merged_from"][0]["merge_id"]
    undone = api.post(f"/api/v1/contacts/{a.contact_id}/unmerge/", {"merge_id": merge_id}, format="json")
    assert undone.status_code == 200
    assert [i["kind"] for i in undone.json()["identities"]] == ["phone"]
    b_timeline = api.get(f"/api/v1/contacts/{b.contact_id}/timeline/").json()["results"]
    assert [m["text"] for m in b_timeline] == ["by email"]
    again = api.post(f"/api/v1/contacts/{a.contact_id}/unmerge/", {"merge_id": merge_id}, format="json")
    assert again.status_code == 400


def test_merge_validation(client_for, admin, agent, inbox, sales_inbox, customer_writes):
    a = customer_writes(inbox, "x1")
    other_team = customer_writes(sales_inbox, "x2")
    assert client_for(admin).post(f"/api/v1/contacts/{a.contact_id}/merge/", {"other": a.contact_id},
                                  format="json").status_code == 400
    assert client_for(admin).post(f"/api/v1/contacts/{a.contact_id}/merge/", {}, format="json").status_code == 400
    # An agent cannot reach a contact they cannot see, even to merge it.
    assert client_for(agent).post(f"/api/v1/contacts/{a.contact_id}/merge/", {"other": other_team.contact_id},
                                  format="json").status_code == 404


def test_inbox_creation_is_admin_only_and_credentials_are_write_only(client_for, admin, agent, support):
    payload = {"name": "SMS", "channel": "simulator", "address": "new", "team": support.pk,
               "credentials": {"account_sid": "AC1", "auth_token": "secret-token"}}
    assert client_for(agent).post("/api/v1/inboxes/", payload, format="json").status_code == 403
    response = client_for(admin).post("/api/v1/inboxes/", payload, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["team"] == support.pk  # a team is named by its id, as everywhere else in the API
    assert "credentials" not in body and "secret-token" not in response.content.decode()
    assert body["webhook_urls"]["inbound"].endswith("/webhooks/simulator/inbound/")
    from inbox.models import Inbox

    inbox = Inbox.objects.get(pk=body["id"])
    assert inbox.credentials == {"account_sid": "AC1", "auth_token": "secret-token"}
    assert b"secret-token" not in bytes(inbox.encrypted_credentials)
    duplicate = client_for(admin).post("/api/v1/inboxes/", payload, format="json")
    assert duplicate.status_code == 400
    by_name = client_for(admin).post("/api/v1/inboxes/", {**payload, "address": "other", "team": "Support"},
                                     format="json")
    assert by_name.status_code == 400 and "team" in by_name.json()


def test_token_auth_for_integrations(client, agent, support_message):
    from inbox.services.people import token_for

    response = client.get("/api/v1/conversations/", headers={"Authorization": f"Token {token_for(agent)}"})
    assert response.status_code == 200
    assert [c["id"] for c in response.json()["results"]] == [support_message.conversation_id]


@pytest.mark.parametrize(("settings", "detail"), [
    ({"greeting": "hi\x00"}, "Must not contain NUL characters."),
    ({"key\x00": 1}, "Must not contain NUL characters."),
    (["forward_to"], "Must be a JSON object."),
])
def test_inbox_settings_postgresql_cannot_store_are_a_400(client_for, admin, settings, detail):
    payload = {"name": "Sim", "channel": "simulator", "address": "sim-1", "settings": settings}
    response = client_for(admin).post("/api/v1/inboxes/", payload, format="json")
    assert response.status_code == 400
    assert response.json() == {"settings": [detail]}


def test_an_inbox_with_conversations_is_not_deleted_409(client_for, admin, inbox, customer_writes):
    customer_writes(inbox, "alice", "hello")
    response = client_for(admin).delete(f"/api/v1/inboxes/{inbox.pk}/")
    assert response.status_code == 409
    assert response.json()["detail"] == (
        "It cannot be deleted: conversations and messages still refer to it, and their history would be lost.")
    assert Inbox.objects.filter(pk=inbox.pk).exists()


def test_list_query_count_does_not_grow_with_page_size(client_for, admin, inbox, customer_writes):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for n in range(12):
        customer_writes(inbox, f"customer-{n}", f"message {n}")
    api = client_for(admin)
    counts = []
    for size in (2, 10):
        with CaptureQueriesContext(connection) as queries:
            assert api.get("/api/v1/conversations/", {"page_size": size}).status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1]


def test_openapi_schema_is_served(client):
    response = client.get("/api/schema/")
    assert response.status_code == 200
    assert b"/api/v1/conversations/" in response.content


def test_note_mentions_are_validated_and_carried_in_the_event(client_for, agent, admin, support_message):
    from inbox.models import Event

    url = f"/api/v1/conversations/{support_message.conversation_id}/messages/"
    api = client_for(agent)
    note = api.post(url, {"text": "@Ada can you check?", "private": True, "mentions": [admin.pk]}, format="json")
    assert note.status_code == 201, note.content
    assert note.json()["metadata"]["mentions"] == [{"id": admin.pk, "name": "Ada Admin"}]
    event = Event.objects.filter(type="message.created").latest("id")
    assert event.data["message"]["metadata"]["mentions"][0]["id"] == admin.pk
    assert api.post(url, {"text": "hi", "mentions": [admin.pk]}, format="json").status_code == 400
    assert api.post(url, {"text": "hi", "private": True, "mentions": [987654]}, format="json").status_code == 400


def test_agent_creates_a_contact_and_writes_first(client_for, agent, inbox, django_capture_on_commit_callbacks):
    api = client_for(agent)
    created = api.post("/api/v1/contacts/", {"name": "Lead Lee", "identities": [
        {"kind": "phone", "value": "+1 (555) 777-1234"}, {"kind": "simulator", "value": "lead.lee"}]}, format="json")
    assert created.status_code == 201, created.content
    contact = created.json()
    assert sorted(i["value"] for i in contact["identities"]) == ["+15557771234", "lead.lee"]
    with django_capture_on_commit_callbacks(execute=True):
        first = api.post("/api/v1/conversations/", {"contact": contact["id"], "inbox": inbox.pk,
                                                     "text": "Hi Lee, following up on your call"}, format="json")
    assert first.status_code == 201, first.content
    conversation = Conversation.objects.get(pk=first.json()["conversation"])
    assert conversation.assignee == agent and conversation.team == inbox.team
    assert Message.objects.get(pk=first.json()["id"]).status == DeliveryStatus.SENT
    listed = [c["id"] for c in api.get("/api/v1/conversations/?view=mine").json()["results"]]
    assert listed == [conversation.pk]


def test_contact_and_identity_validation(client_for, agent, marketer, sales_inbox, inbox, customer_writes):
    taken = customer_writes(inbox, "+15558675310", kind="phone")
    api = client_for(agent)
    bad_phone = api.post("/api/v1/contacts/", {"identities": [{"kind": "phone", "value": "12"}]}, format="json")
    assert bad_phone.status_code == 400 and "phone" in bad_phone.json()["detail"]
    clash = api.post("/api/v1/contacts/", {"identities": [{"kind": "phone", "value": "555-867-5310"}]},
                     format="json")
    assert clash.status_code == 400 and "merge" in clash.json()["detail"]
    assert api.post("/api/v1/contacts/", {"identities": [{"kind": "fax", "value": "1"}]},
                    format="json").status_code == 400
    assert client_for(marketer).post("/api/v1/contacts/", {"name": "x"}, format="json").status_code == 403
    new = api.post("/api/v1/contacts/", {"name": "N"}, format="json").json()
    other_team = api.post("/api/v1/conversations/", {"contact": new["id"], "inbox": sales_inbox.pk, "text": "x"},
                          format="json")
    assert other_team.status_code == 400 and "inbox" in other_team.json()
    added = api.post(f"/api/v1/contacts/{taken.contact_id}/identities/", {"kind": "email", "value": "A@B.org"},
                     format="json")
    assert added.status_code == 201
    email = next(i for i in added.json()["identities"] if i["kind"] == "email")
    assert email["value"] == "a@b.org"
    removed = api.delete(f"/api/v1/contacts/{taken.contact_id}/identities/{email['id']}/")
    assert removed.status_code == 204
    assert [i["kind"] for i in api.get(f"/api/v1/contacts/{taken.contact_id}/").json()["identities"]] == ["phone"]


def test_an_identity_change_is_announced_with_the_identities_after_it(client_for, agent, inbox, customer_writes):
    """The browser applies the event's contact: it must not be the one the view loaded before the change."""
    from inbox.models import Event

    contact_id = customer_writes(inbox, "+15558675310", kind="phone").contact_id
    api = client_for(agent)
    added = api.post(f"/api/v1/contacts/{contact_id}/identities/", {"kind": "email", "value": "pat@example.org"},
                     format="json")
    assert added.status_code == 201
    event = Event.objects.filter(type="contact.updated").latest("id")
    assert sorted(i["value"] for i in event.data["contact"]["identities"]) == ["+15558675310", "pat@example.org"]

    email_id = next(i["id"] for i in added.json()["identities"] if i["kind"] == "email")
    assert api.delete(f"/api/v1/contacts/{contact_id}/identities/{email_id}/").status_code == 204
    event = Event.objects.filter(type="contact.updated").latest("id")
    assert [i["value"] for i in event.data["contact"]["identities"]] == ["+15558675310"]


def test_attachments_are_served_only_to_those_who_may_see_them(client_for, agent, sales_agent, marketer, inbox,
                                                              customer_writes):
    from channels_adapters.base import InboundAttachment

    message = customer_writes(inbox, "pat", "see attached", attachments=(
        InboundAttachment("invoice.pdf", "application/pdf", b"%PDF-1.4 fake"),
        InboundAttachment("photo.png", "image/png", b"\x89PNG fake"),
        InboundAttachment("vector.svg", "image/svg+xml", b"<svg onload='alert(1)'/>"),
    ))
    pdf, png, svg = sorted(message.attachments.all(), key=lambda a: a.filename)
    svg_response = client_for(agent).get(f"/api/v1/attachments/{svg.pk}/")
    assert svg_response["Content-Disposition"].startswith("attachment")
    assert "sandbox" in svg_response["Content-Security-Policy"]
    response = client_for(agent).get(f"/api/v1/attachments/{pdf.pk}/")
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == b"%PDF-1.4 fake"
    assert response["Content-Disposition"].startswith("attachment")
    assert response["X-Content-Type-Options"] == "nosniff"
    inline = client_for(marketer).get(f"/api/v1/attachments/{png.pk}/")
    assert inline.status_code == 200 and inline["Content-Type"] == "image/png"
    assert not inline["Content-Disposition"].startswith("attachment")
    assert client_for(sales_agent).get(f"/api/v1/attachments/{pdf.pk}/").status_code == 404
    listed = client_for(agent).get(f"/api/v1/conversations/{message.conversation_id}/messages/").json()
    assert {a["url"] for a in listed["results"][0]["attachments"]} == {
        f"/api/v1/attachments/{pdf.pk}/", f"/api/v1/attachments/{png.pk}/", f"/api/v1/attachments/{svg.pk}/"}


def test_unread_count_is_per_user_and_cleared_by_reading(client_for, agent, admin, inbox, customer_writes):
    first = customer_writes(inbox, "reader", "one")
    customer_writes(inbox, "reader", "two")

    def unread(user):
        [row] = client_for(user).get("/api/v1/conversations/").json()["results"]
        return row["unread_count"]

    assert unread(agent) == 2 and unread(admin) == 2
    assert client_for(agent).post(f"/api/v1/conversations/{first.conversation_id}/read/").status_code == 204
    assert unread(agent) == 0 and unread(admin) == 2
    customer_writes(inbox, "reader", "three")
    assert unread(agent) == 1 and unread(admin) == 3


def test_fast_conversation_shape_matches_declared_fields(client_for, admin, agent, inbox, customer_writes):
    """ConversationSerializer builds its output by hand for speed; it must equal what DRF would build."""
    from rest_framework import serializers as drf

    from inbox.api.serializers import ConversationSerializer
    from inbox.selectors import conversation_list

    message = customer_writes(inbox, "shape", "hello", name="Shape Tester")
    client_for(admin).patch(f"/api/v1/conversations/{message.conversation_id}/",
                            {"assignee": agent.pk, "labels": ["vip"], "status": "snoozed",
                             "snoozed_until": "2030-01-01T00:00:00Z"}, format="json")
    conversation = conversation_list(admin).get(pk=message.conversation_id)
    serializer = ConversationSerializer()
    fast = serializer.to_representation(conversation)
    generic = drf.ModelSerializer.to_representation(serializer, conversation)
    assert fast == dict(generic)
    assert fast["assignee"]["name"] == "Ana Agent" and fast["snoozed_until"] == "2030-01-01T00:00:00Z"


def test_a_phone_inbox_keeps_its_number_in_e164(client_for, admin):
    api = client_for(admin)
    created = api.post("/api/v1/inboxes/", {"name": "Line", "channel": "sms", "address": "+1 (501) 712-2661",
                                            "credentials": {"account_sid": "AC" + "1" * 32, "auth_token": "t"}},
                       format="json")
    assert created.status_code == 201, created.content
    assert created.json()["address"] == "+15017122661"
    refused = api.post("/api/v1/inboxes/", {"name": "Bad", "channel": "voice", "address": "not a number"},
                       format="json")
    assert refused.status_code == 400 and "address" in refused.json()
    email = api.post("/api/v1/inboxes/", {"name": "Mail", "channel": "email", "address": "Help@Example.org"},
                     format="json")
    assert email.status_code == 201 and email.json()["address"] == "Help@Example.org"  # not a phone: as typed
