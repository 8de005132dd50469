"""Writing events: the one record of "something changed" that realtime and catch-up both read."""

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from django.db import connection, transaction
from django.utils import timezone

from inbox import plain_writes
from inbox.models import Contact, Conversation, Event, Message, MessageKind
from inbox.realtime.groups import groups_for
from inbox.realtime.publish import publish_events
from inbox.selectors import contact_audience, conversation_audience
from inbox.services.payloads import as_json, contact_payload, conversation_payload, message_payload

# Any constant works; it names the lock that orders event inserts (see record_event).
EVENT_ORDER_LOCK = 7_4736_2001
# The events (with their groups) of a `published_together` block being recorded on this thread.
_published_together: ContextVar[list[tuple[Event, list[str]]] | None] = ContextVar("published_together", default=None)


def record_event(
    type: str, data: dict, *, conversation: Conversation | None = None, contact: Contact | None = None,
    private: bool = False,
) -> Event:
    """Insert an event in the caller's transaction (inside `published_together`, when the block
    ends) and publish it once that commits, to whoever may see its conversation, else its contact
    (`private`: about a note, so only to those who read notes).

    On PostgreSQL a transaction-scoped advisory lock makes events commit in id order, so a
    client that has seen id N can never later miss an id below N (gap-free catch-up).
    Record events after the transaction's row writes, so the lock is held briefly and always last.
    """
    event = Event(
        type=type, data=data, conversation=conversation, contact=contact, private=private, created_at=timezone.now()
    )
    if conversation is not None:
        groups = groups_for(conversation_audience(conversation, private=private))
    else:
        groups = groups_for(contact_audience(contact))
    together = _published_together.get()
    if together is None:  # a block of its own
        with published_together():
            _published_together.get().append((event, groups))
    else:
        together.append((event, groups))
    return event


@contextmanager
def published_together() -> Iterator[None]:
    """Inside a transaction: the events recorded in the block are inserted together when it ends (one
    statement on PostgreSQL: they get their ids then) and reach the sockets as one channel-layer
    message per group once the transaction commits (see `publish_events`); none if the block raises."""
    recorded: list[tuple[Event, list[str]]] = []
    token = _published_together.set(recorded)
    try:
        yield
    finally:
        _published_together.reset(token)
    if recorded:
        _insert_in_order([event for event, _groups in recorded])
        frames = [(event.as_frame(), groups) for event, groups in recorded]
        transaction.on_commit(lambda: publish_events(frames))


def _insert_in_order(events: list[Event]) -> None:
    """Take the event lock and insert in one round trip; ids are drawn after the lock is held, in
    the order of `events`, and set on them."""
    if connection.vendor != "postgresql":  # SQLite serializes writers anyway
        for event in events:
            plain_writes.insert(event)
        return
    sql, values = plain_writes.insert_many_statement(events, lock=EVENT_ORDER_LOCK)
    with connection.cursor() as cursor:
        cursor.execute(sql, values)
        ids = sorted(event_id for (event_id,) in cursor.fetchall())
    for event, event_id in zip(events, ids, strict=True):
        plain_writes.inserted(event, event_id)


def record_message_event(type: str, message: Message) -> Event:
    conversation = message.conversation
    data = as_json({"message": message_payload(message), "conversation": conversation_payload(conversation)})
    return record_event(
        type, data, conversation=conversation, contact=message.contact, private=message.kind == MessageKind.NOTE
    )


def record_conversation_event(type: str, conversation: Conversation) -> Event:
    data = as_json({"conversation": conversation_payload(conversation)})
    return record_event(type, data, conversation=conversation, contact=conversation.contact)


def record_contact_event(type: str, contact: Contact, **extra) -> Event:
    # Relations the caller prefetched (an API view's identities, labels) predate the change this
    # event announces: read them again.
    contact._prefetched_objects_cache = {}
    data = as_json({"contact": contact_payload(contact), **extra})
    return record_event(type, data, contact=contact)
