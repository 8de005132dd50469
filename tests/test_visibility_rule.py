"""One rule: a socket hears exactly what `inbox.selectors` lets its user read. The websocket groups
(`realtime.groups`) are derived from the selectors' audiences; this keeps the two equal for every
kind of reader, conversation, note and contact."""

from __future__ import annotations

from itertools import product

from inbox.models import Contact, Conversation, Inbox, Role, Team
from inbox.realtime.groups import groups_for, groups_for_user
from inbox.selectors import (
    contact_audience,
    conversation_audience,
    may_see_notes,
    visible_contacts,
    visible_conversations,
)
from inbox.services.people import create_agent


def hears(user, audience) -> bool:
    return bool(set(groups_for_user(user)) & set(groups_for(audience)))


def test_socket_groups_and_selectors_agree_for_every_reader(db):
    a, b = Team.objects.create(name="A"), Team.objects.create(name="B")
    inbox_a = Inbox.objects.create(name="A", channel="simulator", address="a", team=a)
    inbox_b = Inbox.objects.create(name="B", channel="simulator", address="b", team=b)
    teamless = Inbox.objects.create(name="none", channel="simulator", address="n")
    readers = [
        create_agent("admin@x.org", role=Role.ADMIN),
        create_agent("mia@x.org", role=Role.MARKETER),
        create_agent("ana@x.org", role=Role.AGENT, teams=["A"]),
        create_agent("bob@x.org", role=Role.AGENT, teams=["B"]),
        create_agent("both@x.org", role=Role.AGENT, teams=["A", "B"]),
        create_agent("new@x.org", role=Role.AGENT),
    ]
    nobody = create_agent("gone@x.org", role=Role.AGENT)
    nobody.heron.delete()
    nobody.refresh_from_db()
    readers.append(nobody)

    contacts = [Contact.objects.create(name=f"c{n}") for n in range(6)]
    conversations = [
        Conversation.objects.create(contact=contacts[0], inbox=inbox_a, team=a),
        Conversation.objects.create(contact=contacts[1], inbox=inbox_a, team=b),  # handed to another team
        Conversation.objects.create(contact=contacts[2], inbox=inbox_b, team=b),
        Conversation.objects.create(contact=contacts[3], inbox=teamless, team=None),
        Conversation.objects.create(contact=contacts[4], inbox=teamless, team=a),
    ]  # contacts[5] has no conversation yet
    for user, conversation, private in product(readers, conversations, (False, True)):
        conversation = Conversation.objects.select_related("inbox").get(pk=conversation.pk)
        readable = visible_conversations(user).filter(pk=conversation.pk).exists() and (
            not private or may_see_notes(user))
        assert hears(user, conversation_audience(conversation, private=private)) is readable, (
            user.email, conversation.pk, private)
    for user, contact in product(readers, contacts):
        readable = visible_contacts(user).filter(pk=contact.pk).exists()
        assert hears(user, contact_audience(contact)) is readable, (user.email, contact.name)
