"""`inbox/plain_writes.py` must write what `save()` writes, for every model it is used on, and those
models must have no signal receivers (plain SQL sends no signals)."""

from datetime import timedelta

import pytest
from django.db import DatabaseError, transaction
from django.db.models.signals import m2m_changed, post_delete, post_save, pre_delete, pre_save
from django.utils import timezone

from inbox import plain_writes
from inbox.models import Contact, Conversation, Event, Identity, Message, RawInboundEvent, Status, Team
from inbox.services.events import published_together, record_event
from inbox.services.ingest import INBOUND_CHANGES

AUTO_TIMESTAMPS = {"created_at", "updated_at", "received_at"}
NOW = timezone.now()


def stored(instance, unique: str = "") -> dict:
    """The row as the ORM reads it back, without the key, the columns the clock fills and a column
    that must differ between the two rows (unique)."""
    fresh = type(instance).objects.get(pk=instance.pk)
    return {
        field.attname: getattr(fresh, field.attname)
        for field in type(instance)._meta.concrete_fields
        if field.attname not in {*AUTO_TIMESTAMPS, unique} and not field.primary_key
    }


def assert_same_insert(make, unique: str = "") -> None:
    """`make(n)` builds the instance; the first is saved, the second inserted."""
    by_save, by_plain = make(0), make(1)
    by_save.save()
    plain_writes.insert(by_plain)
    assert by_plain.pk is not None and by_plain.pk != by_save.pk
    assert not by_plain._state.adding
    assert stored(by_plain, unique) == stored(by_save, unique)
    assert getattr(by_plain, unique or "pk") == getattr(type(by_plain).objects.get(pk=by_plain.pk), unique or "pk")
    fresh = type(by_plain).objects.get(pk=by_plain.pk)
    for name in AUTO_TIMESTAMPS & {field.attname for field in type(by_plain)._meta.concrete_fields}:
        assert abs(getattr(fresh, name) - getattr(by_save, name)) < timedelta(seconds=5)


def test_inserts_write_what_save_writes(inbox, customer_writes, agent):
    first = customer_writes(inbox, "+15558675310", kind="phone")
    assert_same_insert(lambda n: Contact(name="Grace"))
    assert_same_insert(lambda n: Identity(contact=first.contact, kind="email", value=f"grace{n}@x.org",
                                          display_name="Grace"), unique="value")
    assert_same_insert(lambda n: Conversation(contact=first.contact, inbox=inbox, team=inbox.team, assignee=agent,
                                            status=Status.OPEN, subject="Refund", last_message_at=NOW))
    assert_same_insert(lambda n: Message(
        conversation=first.conversation, contact=first.contact, inbox=inbox, direction="in", channel="sms",
        text="Hi ☕", html="<p>Hi</p>", metadata={"segments": 2, "nested": {"a": [1, "b"]}}, created_at=NOW,
    ))
    assert_same_insert(lambda n: RawInboundEvent(
        channel="sms", endpoint="sms", inbox=inbox, url="/webhooks/twilio/sms/", headers={"X-Twilio-Signature": "s"},
        content_type="application/x-www-form-urlencoded", body=b"Body=hi\xff",
    ))
    assert_same_insert(lambda n: Event(type="message.created", conversation=first.conversation, contact=first.contact,
                                       data={"text": "é ☕", "nested": [1, None]}, private=True, created_at=NOW))


def test_events_recorded_together_are_what_save_writes_with_ids_in_order(inbox, customer_writes):
    first = customer_writes(inbox, "lena")
    with transaction.atomic(), published_together():
        recorded = [record_event(f"test.{n}", {"n": n, "é": [n, None]}, conversation=first.conversation,
                                 contact=first.contact, private=n == 1) for n in range(3)]
    assert [event.pk for event in recorded] == sorted(event.pk for event in recorded)
    for n, event in enumerate(recorded):
        by_save = Event(type=f"test.{n}", data={"n": n, "é": [n, None]}, conversation=first.conversation,
                        contact=first.contact, private=n == 1, created_at=event.created_at)
        by_save.save()
        assert stored(event) == stored(by_save)


# ---------------------------------------------------- no signal receiver on a model written in plain SQL
MODEL_SIGNALS = {"pre_save": pre_save, "post_save": post_save, "pre_delete": pre_delete, "post_delete": post_delete}


def receivers_skipped_by_plain_sql() -> list[str]:
    """Every receiver that would run for a `plain_writes.WRITTEN` model's row (or its many-to-many
    relations) if it were saved through the ORM, as `signal(Sender): module.receiver`."""
    senders = [(name, signal, model) for model in plain_writes.WRITTEN for name, signal in MODEL_SIGNALS.items()]
    senders += [("m2m_changed", m2m_changed, field.remote_field.through)
                for model in plain_writes.WRITTEN for field in model._meta.many_to_many]
    return [f"{name}({sender.__name__}): {receiver.__module__}.{receiver.__qualname__}"
            for name, signal, sender in senders for receivers in signal._live_receivers(sender)
            for receiver in receivers]


def test_no_model_written_in_plain_sql_has_a_signal_receiver():
    """plain_writes, loop_writes and the event INSERT bypass `save()`: a receiver on one of their
    models would silently never run. Heron's own receivers (inbox/realtime/access.py: User,
    AgentProfile, Token, Team) are on other models."""
    assert receivers_skipped_by_plain_sql() == []


def test_a_receiver_on_a_model_written_in_plain_sql_is_named():
    def on_message_saved(**kwargs):
        pass

    def on_labels_changed(**kwargs):
        pass

    post_save.connect(on_message_saved, sender=Message)
    m2m_changed.connect(on_labels_changed, sender=Conversation.labels.through)
    pre_delete.connect(on_labels_changed, sender=Team)  # not a model written in plain SQL
    try:
        assert receivers_skipped_by_plain_sql() == [
            f"post_save(Message): {__name__}.{on_message_saved.__qualname__}",
            f"m2m_changed({Conversation.labels.through.__name__}): {__name__}.{on_labels_changed.__qualname__}",
        ]
    finally:
        post_save.disconnect(on_message_saved, sender=Message)
        m2m_changed.disconnect(on_labels_changed, sender=Conversation.labels.through)
        pre_delete.disconnect(on_labels_changed, sender=Team)


def test_a_model_not_listed_is_not_written_in_plain_sql(db):
    with pytest.raises(TypeError, match="Team is not written in plain SQL"):
        plain_writes.insert(Team(name="Ops"))


def test_an_update_writes_only_the_named_fields(inbox, customer_writes):
    conversation = customer_writes(inbox, "heidi").conversation
    elsewhere = Conversation.objects.get(pk=conversation.pk)
    elsewhere.priority = "high"  # an agent's change, saved meanwhile
    elsewhere.save(update_fields=["priority"])

    before = Conversation.objects.get(pk=conversation.pk).updated_at
    conversation.status, conversation.subject = Status.PENDING, "Where is my parcel?"
    plain_writes.update(conversation, INBOUND_CHANGES)

    fresh = Conversation.objects.get(pk=conversation.pk)
    assert (fresh.status, fresh.subject, fresh.priority) == (Status.PENDING, "Where is my parcel?", "high")
    assert fresh.updated_at > before  # auto_now, as save(update_fields=...) sets it


def test_updating_a_deleted_row_fails_as_save_does(inbox, customer_writes):
    conversation = customer_writes(inbox, "ivan").conversation
    Conversation.objects.filter(pk=conversation.pk).delete()
    with pytest.raises(DatabaseError):
        plain_writes.update(conversation, ("status",))


@pytest.mark.parametrize("becomes_last", [True, False])
def test_a_message_and_its_conversation_are_written_as_insert_then_save_writes_them(inbox, customer_writes,
                                                                                     becomes_last):
    first = customer_writes(inbox, "judy")
    conversation = first.conversation

    def message(n):
        return Message(conversation=conversation, contact=first.contact, inbox=inbox, direction="in",
                       channel="simulator", text=f"again {n}", created_at=NOW)

    by_save, by_plain = message(0), message(1)
    by_save.save()
    conversation.status = Status.PENDING
    if becomes_last:
        conversation.last_message = by_plain
    plain_writes.insert_then_update(by_plain, conversation, INBOUND_CHANGES)

    assert by_plain.pk is not None and not by_plain._state.adding
    assert stored(by_plain, unique="text") == stored(by_save, unique="text")
    fresh = Conversation.objects.get(pk=conversation.pk)
    assert fresh.status == Status.PENDING
    expected_last = by_plain.pk if becomes_last else first.pk
    assert fresh.last_message_id == conversation.last_message_id == expected_last


def test_insert_then_update_of_a_deleted_row_fails_as_save_does(inbox, customer_writes):
    first = customer_writes(inbox, "ken")
    conversation = first.conversation
    Conversation.objects.filter(pk=conversation.pk).delete()
    orphan = Message(conversation=conversation, contact=first.contact, inbox=inbox, direction="in",
                     channel="simulator", text="x", created_at=NOW)
    conversation.last_message = orphan
    with pytest.raises(DatabaseError), transaction.atomic():  # as in record_inbound: the INSERT rolls back too
        plain_writes.insert_then_update(orphan, conversation, INBOUND_CHANGES)
    assert not Message.objects.filter(text="x").exists()


def test_a_contact_and_its_identity_are_written_as_two_saves_write_them(db):
    by_save = Contact(name="Ivan")
    by_save.save()
    Identity(contact=by_save, kind="phone", value="+15550000001", display_name="Ivan").save()

    contact = Contact(name="Ivan")
    identity = Identity(kind="phone", value="+15550000002", display_name="Ivan")
    assert plain_writes.insert_unless_taken(identity, contact, link="contact", unique_on=("kind", "value"))

    assert not contact._state.adding and not identity._state.adding
    assert identity.contact is contact and identity.contact_id == contact.pk
    assert stored(contact) == stored(by_save)
    assert stored(identity, unique="value") == stored(by_save.identities.get(), unique="value") | {
        "contact_id": contact.pk}


def test_a_taken_identity_writes_neither_row(db):
    first = Contact(name="Judy")
    assert plain_writes.insert_unless_taken(Identity(kind="email", value="judy@x.org"), first, link="contact",
                                            unique_on=("kind", "value"))
    contacts = Contact.objects.count()

    again = Identity(kind="email", value="judy@x.org")
    assert not plain_writes.insert_unless_taken(again, Contact(name="Judy"), link="contact",
                                                unique_on=("kind", "value"))
    assert again.pk is None
    assert Contact.objects.count() == contacts  # no contact without an identity
    assert Identity.objects.get(value="judy@x.org").contact_id == first.pk
    with transaction.atomic():  # the transaction is still usable
        assert Contact.objects.filter(pk=first.pk).exists()
