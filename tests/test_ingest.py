"""The one ingest path: identity → contact → conversation → message, exactly once."""

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from inbox.inbound_reads import contact_conversation, identity_with_contact, latest_unresolved_conversation
from inbox.models import Contact, Conversation, Event, Label, Message, Status
from inbox.selectors import label_names
from inbox.services.identities import InvalidIdentity
from inbox.services.ingest import record_inbound
from tests.conftest import inbound


def test_same_phone_written_two_ways_is_one_contact(inbox, customer_writes):
    first = customer_writes(inbox, "+1 (555) 867-5310", kind="phone")
    second = customer_writes(inbox, "+15558675310", kind="phone")
    assert first.contact_id == second.contact_id
    assert first.identity.value == "+15558675310"
    assert Contact.objects.count() == 1


def test_one_contact_across_sms_voice_and_email_identities(inbox, customer_writes):
    """A person reachable by phone and email: both identities on one contact, one timeline."""
    sms = customer_writes(inbox, "+15558675310", kind="phone", text="text me")
    call = customer_writes(inbox, "+1 555 867 5310", kind="phone", text="called", external_id="CA1")
    from inbox.services.contacts import add_identity

    add_identity(sms.contact, "email", "Alice@Example.org")
    email = customer_writes(inbox, "alice@example.org", kind="email", text="emailed")
    assert {sms.contact_id, call.contact_id, email.contact_id} == {sms.contact_id}
    assert sorted(sms.contact.identities.values_list("kind", flat=True)) == ["email", "phone"]
    # While the conversation is open, every channel lands in it.
    assert {sms.conversation_id, call.conversation_id, email.conversation_id} == {sms.conversation_id}


def test_retried_webhook_returns_the_first_message(inbox):
    message = inbound(inbox, "bob", "hi", external_id="SM123")
    first = record_inbound(message)
    again = record_inbound(message)
    assert first.created and not again.created
    assert again.message.pk == first.message.pk
    assert Message.objects.count() == 1
    assert Event.objects.filter(type="message.created").count() == 1


@pytest.mark.django_db(transaction=True)
def test_concurrent_deliveries_of_one_webhook_store_one_message(inbox):
    message = inbound(inbox, "carol", "hi", external_id="SM-concurrent")

    def deliver(_):
        try:
            return record_inbound(message).created
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=10) as pool:
        created = list(pool.map(deliver, range(20)))
    assert created.count(True) == 1
    assert Message.objects.filter(external_id="SM-concurrent").count() == 1
    assert Conversation.objects.count() == 1


def test_resolved_conversation_reopens_within_window(inbox, customer_writes):
    first = customer_writes(inbox, "dave")
    Conversation.objects.filter(pk=first.conversation_id).update(status=Status.RESOLVED, resolved_at=timezone.now())
    second = customer_writes(inbox, "dave")
    assert second.conversation_id == first.conversation_id
    assert Conversation.objects.get(pk=first.conversation_id).status == Status.OPEN


def test_old_resolved_conversation_gives_way_to_a_new_one(inbox, customer_writes, settings):
    first = customer_writes(inbox, "erin")
    long_ago = timezone.now() - timedelta(hours=settings.HERON["REOPEN_WINDOW_HOURS"] + 1)
    Conversation.objects.filter(pk=first.conversation_id).update(status=Status.RESOLVED, resolved_at=long_ago)
    second = customer_writes(inbox, "erin")
    assert second.conversation_id != first.conversation_id


def test_explicit_thread_of_another_customer_is_ignored(inbox, customer_writes):
    """Threading must never attach a message to another customer's conversation."""
    frank = customer_writes(inbox, "frank")
    grace = customer_writes(inbox, "grace", thread_conversation_id=frank.conversation_id)
    assert grace.conversation_id != frank.conversation_id
    assert grace.conversation.contact_id == grace.contact_id


def test_automated_message_does_not_reopen(inbox, customer_writes):
    first = customer_writes(inbox, "heidi")
    Conversation.objects.filter(pk=first.conversation_id).update(status=Status.RESOLVED, resolved_at=timezone.now())
    auto = customer_writes(inbox, "heidi", is_automated=True, text="I am out of office")
    assert auto.conversation_id == first.conversation_id
    assert Conversation.objects.get(pk=first.conversation_id).status == Status.RESOLVED


def test_html_is_sanitized_on_the_way_in(inbox, customer_writes):
    message = customer_writes(
        inbox, "ivan", html='<p onclick="x()">Hi<script>alert(1)</script><a href="javascript:evil()">x</a></p>'
    )
    assert "script" not in message.html and "onclick" not in message.html and "javascript" not in message.html
    assert "Hi" in message.html


def test_bad_sender_is_refused(inbox):
    with pytest.raises(InvalidIdentity):
        record_inbound(inbound(inbox, "not a phone", kind="phone"))


def test_events_are_written_with_the_change(inbox, customer_writes):
    message = customer_writes(inbox, "judy", text="hello")
    types = list(Event.objects.order_by("id").values_list("type", flat=True))
    assert types == ["conversation.created", "message.created"]
    event = Event.objects.get(type="message.created")
    assert event.data["message"]["id"] == message.pk
    assert event.data["conversation"]["id"] == message.conversation_id


def test_ingest_query_budget(inbox, customer_writes):
    """The hot path of every webhook: a known customer writing again. Guard against N+1 creep."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    customer_writes(inbox, "+15558675310", "first", kind="phone")
    with CaptureQueriesContext(connection) as queries:
        record_inbound(inbound(inbox, "+15558675310", "second", kind="phone"))
    statements = [q["sql"] for q in queries.captured_queries if "SAVEPOINT" not in q["sql"]]
    # inbox, identity (locked), retry check, conversation (with its labels), message + conversation, event
    assert len(statements) <= 6, "\n".join(s[:120] for s in statements)


def test_events_recorded_together_take_their_ids_in_the_order_recorded(inbox, customer_writes):
    """`published_together` inserts a block's events with one statement (inbox/services/events.py)."""
    from django.db import connection, transaction
    from django.test.utils import CaptureQueriesContext

    from inbox.services.events import published_together, record_event

    conversation = customer_writes(inbox, "olga").conversation
    types = ["conversation.updated", "message.created", "conversation.created", "message.updated"]
    with transaction.atomic(), CaptureQueriesContext(connection) as queries, published_together():
        events = [record_event(type, {"position": n}, conversation=conversation) for n, type in enumerate(types)]
        assert all(event.pk is None for event in events)  # not yet: when the block ends
    assert len([q for q in queries.captured_queries if "inbox_event" in q["sql"]]) == 1
    assert [e.pk for e in events] == sorted(e.pk for e in events)
    stored = Event.objects.filter(pk__in=[e.pk for e in events]).order_by("id")
    assert [(e.type, e.data["position"]) for e in stored] == [(t, n) for n, t in enumerate(types)]


def test_an_agents_change_made_while_a_message_is_recorded_is_kept(inbox, customer_writes, agent):
    """Recording a message writes only what the message changes, not the whole row it read."""
    first = customer_writes(inbox, "lee", "first")

    def read_then_an_agent_assigns(identity, inbox):
        conversation = Conversation.objects.get(pk=first.conversation_id)  # what the worker read
        Conversation.objects.filter(pk=conversation.pk).update(assignee=agent, priority="high")  # meanwhile
        return conversation

    second = record_inbound(inbound(inbox, "lee", "second"), find_thread=read_then_an_agent_assigns).message
    conversation = Conversation.objects.get(pk=first.conversation_id)
    assert second.conversation_id == conversation.pk and conversation.last_message_id == second.pk
    assert conversation.assignee == agent and conversation.priority == "high"


def test_the_event_of_a_message_shows_its_conversations_labels(inbox, customer_writes):
    first = customer_writes(inbox, "kim", "first")
    first.conversation.labels.set([Label.objects.create(name="vip"), Label.objects.create(name="billing")])
    second = customer_writes(inbox, "kim", "second")
    assert second.conversation_id == first.conversation_id
    event = Event.objects.filter(type="message.created").latest("id")
    assert event.data["message"]["id"] == second.pk
    assert event.data["conversation"]["labels"] == ["billing", "vip"]


def test_nameless_customer_is_called_by_their_number_until_a_name_arrives(inbox, customer_writes):
    message = customer_writes(inbox, "+15558675310", "hi", kind="phone")
    assert message.contact.name == "+1 555-867-5310"
    from inbox.services.contacts import add_identity

    add_identity(message.contact, "email", "pat@example.org")
    named = customer_writes(inbox, "+15558675310", "again", kind="phone", name="Pat Doe")
    assert Contact.objects.get(pk=named.contact_id).name == "Pat Doe"
    unnamed_again = customer_writes(inbox, "+15558675310", "third", kind="phone", name="Someone Else")
    assert Contact.objects.get(pk=unnamed_again.contact_id).name == "Pat Doe"


def _fields(instance) -> dict:
    return {field.attname: getattr(instance, field.attname) for field in type(instance)._meta.concrete_fields}


def test_the_sql_reads_build_the_instances_the_orm_builds(inbox, customer_writes, agent, sales):
    """`inbox/inbound_reads.py` writes ingest's hot reads as SQL: every column, relation and label
    must come out as the ORM's queries give them."""
    message = customer_writes(inbox, "+15558675310", kind="phone", name="Alice")
    Conversation.objects.filter(pk=message.conversation_id).update(
        assignee=agent, team=sales, status=Status.SNOOZED, snoozed_until=timezone.now() + timedelta(days=1),
        priority="high", subject="Refund",
    )
    conversation = Conversation.objects.get(pk=message.conversation_id)
    conversation.labels.set([Label.objects.create(name="vip"), Label.objects.create(name="billing")])

    read = latest_unresolved_conversation(message.contact_id, inbox.team_id)
    expected = (
        Conversation.objects.select_related("team", "assignee").annotate(label_names=label_names())
        .get(pk=conversation.pk)
    )
    assert _fields(read) == _fields(expected)
    assert read.label_names == expected.label_names == "billing,vip"
    assert _fields(read.team) == _fields(expected.team)
    assert _fields(read.assignee) == _fields(expected.assignee)

    by_pk = contact_conversation(conversation.pk, message.contact_id, inbox.team_id)
    assert _fields(by_pk) == _fields(expected) and by_pk.label_names == "billing,vip"
    stranger = customer_writes(inbox, "+15558675311", kind="phone")
    assert contact_conversation(conversation.pk, stranger.contact_id, inbox.team_id) is None  # never across customers

    identity = identity_with_contact("phone", "+15558675310", lock=False)
    assert _fields(identity) == _fields(message.identity)
    assert _fields(identity.contact) == _fields(Contact.objects.get(pk=message.contact_id))
    assert identity_with_contact("phone", "+15550000000", lock=False) is None


def test_the_sql_read_of_an_unassigned_conversation_has_no_team_or_assignee(inbox, customer_writes):
    message = customer_writes(inbox, "frank")
    Conversation.objects.filter(pk=message.conversation_id).update(team=None)
    read = latest_unresolved_conversation(message.contact_id, inbox.team_id)
    assert read.pk == message.conversation_id
    assert (read.team, read.assignee, read.label_names) == (None, None, None)
    Conversation.objects.filter(pk=message.conversation_id).update(status=Status.RESOLVED)
    assert latest_unresolved_conversation(message.contact_id, inbox.team_id) is None
