"""The team wall: a customer who writes to two teams' inboxes is one contact with two conversations,
and neither team reads the other's (REST, websockets on two processes, catch-up, errors, merges)."""

from __future__ import annotations

import httpx
import pytest
from rest_framework.authtoken.models import Token

from inbox.inbound_reads import contact_conversation, latest_unresolved_conversation
from inbox.models import Conversation, Inbox, Message, Status
from inbox.services.contacts import add_identity, merge_contacts
from inbox.services.ingest import continuable_conversations
from inbox.services.outbound import send_message
from tests.conftest import session_cookie_for
from tests.fakes.twilio import ACCOUNT_SID, AUTH_TOKEN, new_sid, signature
from tests.support.email import mime, post_postmark
from tests.support.servers import Server
from tests.support.waiting import wait_for
from tests.support.ws import assert_nothing_received, open_socket, receive_until

CUSTOMER = "+15553330001"
SUPPORT_NUMBER = "+15017120001"
SALES_NUMBER = "+15017120002"


def sms_inbox(team, number: str) -> Inbox:
    inbox = Inbox(name=f"{team.name} SMS", channel="sms", address=number, team=team)
    inbox.credentials = {"account_sid": ACCOUNT_SID, "auth_token": AUTH_TOKEN}
    inbox.save()
    return inbox


def text_in(server: Server, to: str, body: str) -> None:
    params = {"MessageSid": new_sid(), "AccountSid": ACCOUNT_SID, "From": CUSTOMER,
              "To": to, "Body": body, "NumMedia": "0"}
    path = "/webhooks/twilio/sms/"
    response = httpx.post(server.url + path, data=params, timeout=30,
                          headers={"X-Twilio-Signature": signature(server.url + path, params)})
    assert response.status_code == 200, response.text
    wait_for(lambda: Message.objects.filter(text=body).exists(), timeout=15)


def api(server: Server, user) -> httpx.Client:
    token = Token.objects.get_or_create(user=user)[0]
    return httpx.Client(base_url=server.url, headers={"Authorization": f"Token {token.key}"}, timeout=30)


def texts_of(frames: list[dict]) -> set[str]:
    return {f["data"]["message"]["text"] for f in frames if f.get("type", "").startswith("message.")}


def frames_until(socket, text: str) -> list[dict]:
    seen: list[dict] = []
    receive_until(socket, lambda f: seen.append(f) or text in texts_of([f]))
    return seen


@pytest.fixture
def other_process(server):
    other = Server(CELERY_TASK_ALWAYS_EAGER="1", SIMULATOR_DELIVERY_CALLBACKS="1")
    yield other
    other.stop()


def test_a_customer_texting_a_second_team_starts_a_conversation_there(
    server, other_process, support, sales, agent, sales_agent, marketer
):
    support_sms, sales_sms = sms_inbox(support, SUPPORT_NUMBER), sms_inbox(sales, SALES_NUMBER)
    with open_socket(server.ws_url, token=Token.objects.get_or_create(user=sales_agent)[0].key) as sales_here, \
            open_socket(other_process.ws_url, session_cookie=session_cookie_for(sales_agent),
                        origin=other_process.url) as sales_there, \
            open_socket(other_process.ws_url, token=Token.objects.get_or_create(user=agent)[0].key) as support_there:
        text_in(server, SUPPORT_NUMBER, "My blue mug arrived broken")
        first = Message.objects.get(text="My blue mug arrived broken")
        note = api(server, agent).post(f"/api/v1/conversations/{first.conversation_id}/messages/",
                                       json={"text": "Refund approved, keep it quiet", "private": True})
        assert note.status_code == 201, note.text
        assert api(other_process, sales_agent).get(
            f"/api/v1/conversations/{first.conversation_id}/messages/").status_code == 404

        text_in(other_process, SALES_NUMBER, "Also, do you sell plates?")
        second = Message.objects.get(text="Also, do you sell plates?")
        assert second.contact_id == first.contact_id  # one person
        assert second.conversation_id != first.conversation_id  # two conversations, one per team
        kept = Conversation.objects.select_related("inbox").get(pk=first.conversation_id)
        assert (kept.inbox_id, kept.team_id) == (support_sms.pk, support.pk)
        moved = Conversation.objects.get(pk=second.conversation_id)
        assert (moved.inbox_id, moved.team_id) == (sales_sms.pk, sales.pk)

        # REST, from both processes: Sales reads its conversation, never Support's or its note.
        for process in (server, other_process):
            sales_api = api(process, sales_agent)
            assert sales_api.get(f"/api/v1/conversations/{first.conversation_id}/messages/").status_code == 404
            assert sales_api.get(f"/api/v1/conversations/{first.conversation_id}/").status_code == 404
            page = sales_api.get(f"/api/v1/conversations/{second.conversation_id}/messages/").json()["results"]
            assert [m["text"] for m in page] == ["Also, do you sell plates?"]
            timeline = sales_api.get(f"/api/v1/contacts/{first.contact_id}/timeline/").json()["results"]
            assert [m["text"] for m in timeline] == ["Also, do you sell plates?"]
            listed = [c["id"] for c in sales_api.get("/api/v1/conversations/").json()["results"]]
            assert listed == [second.conversation_id]
            missed = sales_api.get("/api/v1/events/", params={"after": 0}).json()["events"]
            assert {e["data"]["conversation"]["id"] for e in missed if "conversation" in e["data"]} == {
                second.conversation_id}
            assert "Refund approved" not in str(missed) and "blue mug" not in str(missed)

        # Websockets on both processes heard only what their user may read.
        for socket in (sales_here, sales_there):
            heard = frames_until(socket, "Also, do you sell plates?")
            assert texts_of(heard) == {"Also, do you sell plates?"}
        assert {"My blue mug arrived broken", "Refund approved, keep it quiet"} <= texts_of(
            frames_until(support_there, "Refund approved, keep it quiet"))
        assert_nothing_received(support_there, lambda f: "plates" in str(f), wait=1.0)

        # Support's agent still has their conversation with everything in it; the marketer reads both, no note.
        support_page = api(server, agent).get(f"/api/v1/conversations/{first.conversation_id}/messages/").json()
        assert {m["text"] for m in support_page["results"]} == {"My blue mug arrived broken",
                                                               "Refund approved, keep it quiet"}
        marketer_timeline = api(server, marketer).get(f"/api/v1/contacts/{first.contact_id}/timeline/").json()
        assert {m["text"] for m in marketer_timeline["results"]} == {"My blue mug arrived broken",
                                                                    "Also, do you sell plates?"}


def test_an_email_with_the_same_subject_to_a_second_team_starts_its_own_conversation(client, support, sales):
    support_mail = Inbox.objects.create(name="Support mail", channel="email", address="help@heron.local", team=support)
    sales_mail = Inbox.objects.create(name="Sales mail", channel="email", address="sales@heron.local", team=sales)
    first = mime(to="help@heron.local", subject="Order #2001", text="Where is my order?")
    assert post_postmark(client, first).status_code == 200
    # Same sender, same subject, even naming the first email: Sales gets a conversation of its own.
    second = mime(to="sales@heron.local", subject="Re: Order #2001", text="Can I add a plate?",
                  in_reply_to=_message_id(first))
    assert post_postmark(client, second).status_code == 200
    one, two = (Message.objects.get(text__startswith=text) for text in ("Where is my order?", "Can I add a plate?"))
    assert one.contact_id == two.contact_id and one.conversation_id != two.conversation_id
    assert Conversation.objects.get(pk=one.conversation_id).inbox == support_mail
    assert Conversation.objects.get(pk=two.conversation_id).inbox == sales_mail
    # Within one team, the same email still threads.
    third = mime(to="help@heron.local", subject="Re: Order #2001", text="Any news?", in_reply_to=_message_id(first))
    assert post_postmark(client, third).status_code == 200
    assert Message.objects.get(text__startswith="Any news?").conversation_id == one.conversation_id


def _message_id(raw: bytes) -> str:
    from email import message_from_bytes

    return str(message_from_bytes(raw)["Message-ID"])


def test_a_reply_on_another_channel_goes_only_through_the_teams_own_inbox(
    support, sales, agent, customer_writes, django_capture_on_commit_callbacks
):
    support_sim = Inbox.objects.create(name="Support chat", channel="simulator", address="s", team=support)
    sms_inbox(sales, SALES_NUMBER)  # another team's number: never used for Support's replies
    message = customer_writes(support_sim, "pat")
    add_identity(message.contact, "phone", CUSTOMER)
    from inbox.services.outbound import CannotSend

    with pytest.raises(CannotSend, match="team has no sms inbox"):
        send_message(message.conversation, agent, text="Texting you", channel="sms")
    own = sms_inbox(support, SUPPORT_NUMBER)
    with django_capture_on_commit_callbacks(execute=False):
        sent = send_message(message.conversation, agent, text="Texting you", channel="sms")
    assert sent.inbox_id == own.pk


def test_the_sql_and_orm_picks_agree_on_the_team(support, sales, customer_writes):
    """`inbound_reads` writes `continuable_conversations`' team condition in SQL: both give the same."""
    teamless = Inbox.objects.create(name="No team", channel="simulator", address="n")
    inboxes = [Inbox.objects.create(name=f"{team} chat", channel="simulator", address=str(team), team=team)
               for team in (support, sales)] + [teamless]
    messages = {inbox.pk: customer_writes(inbox, "sam") for inbox in inboxes}
    contact_id = next(iter(messages.values())).contact_id
    assert len({m.conversation_id for m in messages.values()}) == 3
    for inbox in inboxes:
        orm = continuable_conversations(contact_id, inbox).exclude(status=Status.RESOLVED).first()
        sql = latest_unresolved_conversation(contact_id, inbox.team_id)
        assert orm.pk == sql.pk == messages[inbox.pk].conversation_id
        for other in inboxes:
            theirs = messages[other.pk].conversation_id
            same = other.team_id == inbox.team_id
            assert (contact_conversation(theirs, contact_id, inbox.team_id) is not None) is same
            assert continuable_conversations(contact_id, inbox).filter(pk=theirs).exists() is same


def test_an_identity_conflict_names_only_a_contact_the_caller_may_see(
    client_for, support, sales, agent, sales_agent, admin, customer_writes
):
    sales_sim = Inbox.objects.create(name="Sales chat", channel="simulator", address="b", team=sales)
    support_sim = Inbox.objects.create(name="Support chat", channel="simulator", address="a", team=support)
    theirs = customer_writes(sales_sim, "cust-b", name="Cust B").contact
    add_identity(theirs, "email", "custb@example.org")
    mine = customer_writes(support_sim, "cust-a", name="Cust A").contact

    for path, body in [(f"/api/v1/contacts/{mine.pk}/identities/", {"kind": "email", "value": "custb@example.org"}),
                       ("/api/v1/contacts/", {"name": "New", "identities": [
                           {"kind": "email", "value": "CustB@example.org"}]})]:
        refused = client_for(agent).post(path, body, format="json")
        assert refused.status_code == 400
        assert refused.json()["detail"] == (
            "custb@example.org already belongs to another contact; an admin can merge the two contacts.")
        assert "Cust B" not in refused.content.decode() and f"#{theirs.pk}" not in refused.content.decode()
    named = client_for(admin).post(f"/api/v1/contacts/{mine.pk}/identities/",
                                   {"kind": "email", "value": "custb@example.org"}, format="json")
    assert f"contact #{theirs.pk} (Cust B)" in named.json()["detail"]
    named = client_for(sales_agent).post("/api/v1/contacts/", {"name": "New", "identities": [
        {"kind": "email", "value": "custb@example.org"}]}, format="json")
    assert f"contact #{theirs.pk} (Cust B)" in named.json()["detail"]


def test_a_contact_merged_away_is_listed_nowhere_until_the_merge_is_undone(
    client_for, support, inbox, agent, sales_agent, admin, marketer, customer_writes
):
    kept = customer_writes(inbox, "kept", name="Kept Person").contact
    gone = customer_writes(inbox, "gone", name="Gone Person").contact
    merge = merge_contacts(kept, gone)
    for user in (agent, sales_agent, admin, marketer):
        listed = {c["id"] for c in client_for(user).get("/api/v1/contacts/").json()["results"]}
        assert gone.pk not in listed
        assert client_for(user).get(f"/api/v1/contacts/{gone.pk}/").status_code == 404
    from inbox.services.contacts import unmerge_contacts

    unmerge_contacts(merge)
    assert gone.pk in {c["id"] for c in client_for(admin).get("/api/v1/contacts/").json()["results"]}
