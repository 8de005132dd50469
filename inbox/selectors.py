"""Who may see what, in one place: the API, the websocket groups, catch-up and the event log all ask here.

The rule (docs/permissions.md): admins see everything; marketers read every conversation, contact and
timeline except private notes; agents see the conversations of their teams (the conversation's own
team or its inbox's team), with their notes, and the contacts of those conversations. A
conversation stays in the inbox team it started in (`inbox.services.ingest` never continues it from
another team's inbox), so a customer who writes to two teams has one contact and two conversations.
"""

from dataclasses import dataclass
from functools import reduce
from operator import or_

from django.db import connection
from django.db.models import (
    CharField,
    Count,
    DateTimeField,
    Exists,
    F,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.expressions import RawSQL
from django.db.models.functions import Coalesce

from inbox.models import (
    AgentProfile,
    Contact,
    ContactMerge,
    Conversation,
    ConversationRead,
    Direction,
    Event,
    Inbox,
    Label,
    Message,
    MessageKind,
    Role,
)

EPOCH = "1970-01-01T00:00:00Z"


def role_of(user) -> str | None:
    if not user or not user.is_authenticated:
        return None
    if user.is_superuser:
        return Role.ADMIN
    profile = getattr(user, "heron", None)
    return profile.role if profile else None


def team_ids_of(user) -> list[int]:
    profile = getattr(user, "heron", None)
    return list(profile.teams.values_list("id", flat=True)) if profile else []


def sees_everything(user) -> bool:
    return role_of(user) in EVERY_CONVERSATION_ROLES


def can_reply(user) -> bool:
    return role_of(user) in (Role.ADMIN, Role.AGENT)


def may_see_notes(user) -> bool:
    """Private notes are for the people who work conversations: never marketers."""
    return role_of(user) in NOTE_READER_ROLES


# Roles that see every conversation whatever their teams; of them, those that also read private notes.
EVERY_CONVERSATION_ROLES = frozenset({Role.ADMIN, Role.MARKETER})
NOTE_READER_ROLES = frozenset({Role.ADMIN, Role.AGENT})
# The conversation's teams, as paths from a conversation: agents of any of them see it.
CONVERSATION_TEAM_PATHS = ("team", "inbox__team")


@dataclass(frozen=True)
class Audience:
    """Who may see one thing: every reader of `roles`, and agents of one of `team_ids`.
    The websocket groups an event is published to are derived from it (`realtime.groups`)."""

    roles: frozenset[str]
    team_ids: frozenset[int] = frozenset()


def conversation_team_ids(conversation: Conversation) -> frozenset[int]:
    """`CONVERSATION_TEAM_PATHS` read from an instance (its inbox loaded, or loaded here)."""
    team_ids = set()
    for path in CONVERSATION_TEAM_PATHS:
        *hops, last = path.split("__")
        obj = reduce(getattr, hops, conversation)
        team_ids.add(getattr(obj, f"{last}_id"))
    return frozenset(team_ids - {None})


def conversation_audience(conversation: Conversation, *, private: bool = False) -> Audience:
    """Who sees the conversation, or (`private`) a note in it."""
    roles = EVERY_CONVERSATION_ROLES & NOTE_READER_ROLES if private else EVERY_CONVERSATION_ROLES
    return Audience(roles=frozenset(roles), team_ids=conversation_team_ids(conversation))


def contact_audience(contact: Contact) -> Audience:
    """Who sees the contact (`visible_contacts`): everyone who sees one of its conversations; every
    agent while it has none."""
    paths = [f"{path}_id" for path in CONVERSATION_TEAM_PATHS]
    rows = list(contact.conversations.values_list(*paths))
    if not rows:
        return Audience(roles=EVERY_CONVERSATION_ROLES | {Role.AGENT})
    team_ids = {team_id for row in rows for team_id in row}
    return Audience(roles=EVERY_CONVERSATION_ROLES, team_ids=frozenset(team_ids - {None}))


def conversations_of_teams(team_ids) -> Q:
    """Conversations that agents of `team_ids` (ids or a subquery of them) may see."""
    return reduce(or_, (Q(**{f"{path}__in": team_ids}) for path in CONVERSATION_TEAM_PATHS))


def visible_conversations(user) -> QuerySet[Conversation]:
    """Admins and marketers see every conversation; agents those of their teams (see the module's docstring)."""
    conversations = Conversation.objects.all()
    role = role_of(user)
    if role in EVERY_CONVERSATION_ROLES:
        return conversations
    if role == Role.AGENT:
        # A subquery rather than a list of ids: no query of its own, one statement shape to prepare.
        teams = AgentProfile.teams.through.objects.filter(agentprofile=user.heron).values("team_id")
        return conversations.filter(conversations_of_teams(teams))
    return conversations.none()


def visible_contacts(user) -> QuerySet[Contact]:
    """Agents see the contacts of their conversations, and contacts nobody has talked to yet.
    A contact merged into another is nobody's to see until the merge is undone."""
    if role_of(user) is None:
        return Contact.objects.none()
    contacts = Contact.objects.filter(
        ~Exists(ContactMerge.objects.filter(merged_contact=OuterRef("pk"), undone_at__isnull=True))
    )
    if sees_everything(user):
        return contacts
    # EXISTS per contact uses the (contact, last_message_at) index instead of scanning all conversations.
    return contacts.filter(
        Exists(visible_conversations(user).filter(contact=OuterRef("pk")))
        | ~Exists(Conversation.objects.filter(contact=OuterRef("pk")))
    )


def usable_inboxes(user) -> QuerySet[Inbox]:
    """Inboxes an agent may start conversations from: their teams' (all, for admins)."""
    if role_of(user) == Role.ADMIN:
        return Inbox.objects.all()
    if role_of(user) == Role.AGENT:
        return Inbox.objects.filter(team__in=team_ids_of(user))
    return Inbox.objects.none()


def _readable_messages(user) -> QuerySet[Message]:
    """Every message of the conversations `user` sees, less the notes they may not read."""
    messages = Message.objects.all()
    return messages if may_see_notes(user) else messages.exclude(kind=MessageKind.NOTE)


def visible_messages(user) -> QuerySet[Message]:
    if sees_everything(user):
        return _readable_messages(user)
    return _readable_messages(user).filter(conversation__in=visible_conversations(user))


def visible_events(user, after: int) -> QuerySet[Event]:
    events = Event.objects.filter(id__gt=after).order_by("id")
    if not may_see_notes(user):
        events = events.exclude(private=True)
    if sees_everything(user):
        return events
    return events.filter(
        Q(conversation__in=visible_conversations(user))
        | Q(conversation__isnull=True, contact__in=visible_contacts(user))
    )


# What the inbox list shows of a conversation, as `values()` paths; each path is also an attribute
# chain on a Conversation instance (`contact__name` is `conversation.contact.name`), so the serializer
# builds an instance (an event's, a PATCH answer) and a row through one function.
CONVERSATION_ROW = (
    "id", "status", "snoozed_until", "priority", "subject", "last_message_at", "waiting_since",
    "first_response_at", "resolved_at", "created_at",
    "contact_id", "contact__name",
    "inbox_id", "inbox__name", "inbox__channel",
    "assignee_id", "assignee__first_name", "assignee__last_name", "assignee__email", "assignee__username",
    "team_id", "team__name",
    "last_message_id", "last_message__text", "last_message__channel", "last_message__direction",
    "last_message__kind", "last_message__sender_user_id", "last_message__created_at",
)
# Label names are slugs, so a comma cannot occur inside one.
LABEL_SEPARATOR = ","


def _unread_count(user) -> Coalesce | Value:
    """Inbound messages newer than what `user` has read of the conversation (all of them if never opened).
    Read-only roles keep no read markers, so nothing is unread for them."""
    if not can_reply(user):
        return Value(0, output_field=IntegerField())
    # Nested inside the message subquery below, so the conversation is two levels out.
    reads = ConversationRead.objects.filter(conversation=OuterRef(OuterRef("pk")), user=user).values(
        "last_read_at"
    )[:1]
    unread = (
        Message.objects.filter(conversation=OuterRef("pk"), direction=Direction.IN)
        .filter(created_at__gt=Coalesce(Subquery(reads), Value(EPOCH, output_field=DateTimeField())))
        .order_by()
        .values("conversation")
        .annotate(n=Count("id"))
        .values("n")
    )
    return Coalesce(Subquery(unread, output_field=IntegerField()), 0)


def conversation_list(user) -> QuerySet[Conversation]:
    """Conversations as model instances shaped for the API's answers to a change (one query plus the
    labels' prefetch). The list itself reads `conversation_rows`.

    The columns it never shows stay in the database: inbox credentials, password hashes, and the
    HTML and metadata of each last message (a whole email, for the snippet of its text). Labels
    come as a plain `label_list`, without a related manager per row."""
    return (
        visible_conversations(user)
        .select_related("contact", "inbox", "assignee", "team", "last_message")
        .defer(
            "inbox__encrypted_credentials", "inbox__settings", "assignee__password", "last_message__html",
            "last_message__metadata",
        )
        .prefetch_related(Prefetch("labels", to_attr="label_list"))
        .annotate(unread_count=_unread_count(user))
    )


def conversation_rows(user) -> QuerySet[dict]:
    """The inbox list: one query per page whatever its size, each conversation a plain dict of
    `CONVERSATION_ROW` plus `unread_count` and `label_names` (joined by `LABEL_SEPARATOR`, or None).

    Plain rows rather than model instances: building six models per row (the conversation and what
    it shows of its contact, inbox, assignee, team and last message) cost twice the query itself."""
    return visible_conversations(user).values(
        *CONVERSATION_ROW, unread_count=_unread_count(user), label_names=label_names()
    )


def label_names() -> RawSQL:
    """A conversation's label names joined by `LABEL_SEPARATOR` (NULL when it has none), inside the
    query that reads the conversation: no second query for them.

    Written as SQL: the same subquery built with the ORM took longer to compile than the whole
    query takes to run, on every webhook's conversation pick and every inbox page. Only for a query
    whose own table is the conversations table (not for one nested inside another query)."""
    conversation = Conversation._meta.db_table
    through = Conversation.labels.through._meta.db_table
    label = Label._meta.db_table
    name = f'"{label}"."name"'
    tables = (
        f'FROM "{through}" JOIN "{label}" ON "{label}"."id" = "{through}"."label_id" '
        f'WHERE "{through}"."conversation_id" = "{conversation}"."id"'
    )
    if connection.vendor == "sqlite":  # the embedded default: no ORDER BY inside an aggregate before 3.44
        sql = f'SELECT group_concat("name", %s) FROM (SELECT {name} AS "name" {tables} ORDER BY {name})'
    else:
        sql = f"SELECT string_agg({name}, %s ORDER BY {name}) {tables}"
    return RawSQL(sql, (LABEL_SEPARATOR,), output_field=CharField())


def conversation_messages(user, conversation_id: int) -> QuerySet[Message]:
    """The messages of one conversation; none unless the user may see it (checked inside the page's query)."""
    return _readable_messages(user).filter(conversation__in=visible_conversations(user).filter(pk=conversation_id))


def contact_timeline(user, contact_id: int) -> QuerySet[Message]:
    """Every message of one contact the user may see, with its conversation's `conversation_contact_id`.
    Whether the contact itself is visible is the caller's to check (see `ContactViewSet.timeline`)."""
    return visible_messages(user).filter(contact=contact_id).annotate(
        conversation_contact_id=F("conversation__contact_id")
    )


def message_list(queryset: QuerySet[Message]) -> QuerySet[Message]:
    """Messages as the API shows them: the sender's password hash stays in the database."""
    return (
        queryset.select_related("contact", "sender_user")
        .defer("sender_user__password")
        .prefetch_related("attachments")
    )
