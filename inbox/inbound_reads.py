"""The reads every customer message makes, written as SQL.

A worker loads a batch of stored webhooks with their inboxes; recording each message reads the
sender's identity (locking their contact), looks for a message with the same provider id, and picks
the contact's open conversation (or, for email, the one its headers name). Through the ORM,
building and compiling those querysets cost several times what PostgreSQL took to run them
(bench/RESULTS.md). Here they are plain statements whose column lists still come from the models,
and whose rows become model instances the way the ORM builds them (`from_db`, after the same
database converters).

Rare paths (a reopened conversation, a race on a new identity) keep using the ORM.
"""

from __future__ import annotations

from datetime import datetime
from functools import cache

from django.contrib.auth import get_user_model
from django.db import DEFAULT_DB_ALIAS, connection
from django.db.models import Model

from inbox.models import (
    Contact,
    Conversation,
    Direction,
    Identity,
    Inbox,
    Message,
    RawInboundEvent,
    Status,
    Team,
)
from inbox.selectors import label_names

_CONVERSATIONS = Conversation._meta.db_table
_MESSAGES = Message._meta.db_table


def raw_events_with_inbox(ids: list[int], results: list[str]) -> list[RawInboundEvent]:
    """The raw events among `ids` whose result is one of `results`, oldest first, each with its
    inbox and the inbox's team."""
    if not ids:
        return []
    raws, inboxes, teams = RawInboundEvent._meta.db_table, Inbox._meta.db_table, Team._meta.db_table
    sql = (
        f'SELECT {_columns(RawInboundEvent, raws)}, {_columns(Inbox, "i")}, {_columns(Team, "t")} '
        f'FROM "{raws}" LEFT JOIN "{inboxes}" i ON i."id" = "{raws}"."inbox_id" '
        f'LEFT JOIN "{teams}" t ON t."id" = i."team_id" '
        f'WHERE "{raws}"."id" IN ({", ".join(["%s"] * len(ids))}) '
        f'AND "{raws}"."result" IN ({", ".join(["%s"] * len(results))}) ORDER BY "{raws}"."id"'
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*ids, *results])
        rows = cursor.fetchall()
    events = []
    for row in rows:
        raw, start = _instance(RawInboundEvent, row, 0)
        inbox, start = _instance(Inbox, row, start)
        team, _ = _instance(Team, row, start)
        if raw.inbox_id is not None:
            inbox.team = team if inbox.team_id is not None else None
            raw.inbox = inbox
        events.append(raw)
    return events


def identity_with_contact(kind: str, value: str, *, lock: bool) -> Identity | None:
    """The identity of a (normalized) address with its contact; with `lock`, the contact row is
    locked FOR UPDATE for the caller's transaction."""
    with connection.cursor() as cursor:
        cursor.execute(_identity_sql(lock), [kind, value])
        row = cursor.fetchone()
    if row is None:
        return None
    identity, start = _instance(Identity, row, 0)
    identity.contact, _ = _instance(Contact, row, start)
    return identity


def message_id_for_external_id(inbox_id: int, external_id: str) -> int | None:
    # `<> ''`: the unique index's own condition, as `Message.objects.with_external_id` writes it.
    with connection.cursor() as cursor:
        cursor.execute(
            f'SELECT "id" FROM "{_MESSAGES}" WHERE "inbox_id" = %s AND "external_id" = %s '
            "AND \"external_id\" <> '' LIMIT 1",
            [inbox_id, external_id],
        )
        row = cursor.fetchone()
    return row[0] if row else None


def latest_unresolved_conversation(contact_id: int, team_id: int | None) -> Conversation | None:
    """The contact's latest conversation that is not resolved in an inbox of team `team_id`, with its
    team, assignee and `label_names` (what its events show), as `ingest._pick_conversation`'s ORM
    query (`ingest.continuable_conversations`) would return it."""
    in_team, team_params = _in_team(_CONVERSATIONS, team_id)
    where = (
        f'WHERE "{_CONVERSATIONS}"."contact_id" = %s AND "{_CONVERSATIONS}"."status" <> %s AND {in_team} '
        f'ORDER BY "{_CONVERSATIONS}"."last_message_at" DESC, "{_CONVERSATIONS}"."id" DESC LIMIT 1'
    )
    return _conversation(where, [contact_id, Status.RESOLVED, *team_params])


def contact_conversation(conversation_id: int, contact_id: int, team_id: int | None) -> Conversation | None:
    """One conversation, loaded as above, if it belongs to the contact and to an inbox of team
    `team_id`: threads never cross customers or teams."""
    in_team, team_params = _in_team(_CONVERSATIONS, team_id)
    where = f'WHERE "{_CONVERSATIONS}"."id" = %s AND "{_CONVERSATIONS}"."contact_id" = %s AND {in_team}'
    return _conversation(where, [conversation_id, contact_id, *team_params])


def _in_team(table: str, team_id: int | None) -> tuple[str, list]:
    """The row's inbox belongs to team `team_id` (None: to no team), as SQL and its parameters."""
    inboxes = Inbox._meta.db_table
    if team_id is None:
        return f'"{table}"."inbox_id" IN (SELECT "id" FROM "{inboxes}" WHERE "team_id" IS NULL)', []
    return f'"{table}"."inbox_id" IN (SELECT "id" FROM "{inboxes}" WHERE "team_id" = %s)', [team_id]


def email_conversations_by_message_id(contact_id: int, message_ids: list[str]) -> dict[str, int]:
    """Which of `message_ids` are emails of this contact (theirs or ours) we hold, and in what conversation."""
    if not message_ids:
        return {}
    with connection.cursor() as cursor:
        cursor.execute(
            f'SELECT "external_id", "conversation_id" FROM "{_MESSAGES}" WHERE "contact_id" = %s '
            f'AND "channel" = %s AND "external_id" IN ({", ".join(["%s"] * len(message_ids))})',
            [contact_id, "email", *message_ids],
        )
        return dict(cursor.fetchall())


def latest_email_with_subject(identity_id: int, base_subject: str, since: datetime, team_id: int | None) -> int | None:
    """The conversation of the identity's latest inbound email to an inbox of team `team_id` since
    `since` whose base subject (`metadata.base_subject`, "Re:" and tags taken off) is this one."""
    in_team, team_params = _in_team(_MESSAGES, team_id)
    with connection.cursor() as cursor:
        cursor.execute(
            f'SELECT "conversation_id" FROM "{_MESSAGES}" WHERE "identity_id" = %s AND "channel" = %s '
            f'AND "direction" = %s AND "created_at" >= %s AND "metadata" ->> \'base_subject\' = %s AND {in_team} '
            'ORDER BY "created_at" DESC, "id" DESC LIMIT 1',  # ->>: PostgreSQL, and SQLite since 3.38
            [identity_id, "email", Direction.IN, connection.ops.adapt_datetimefield_value(since), base_subject,
             *team_params],
        )
        row = cursor.fetchone()
    return row[0] if row else None


def _conversation(where: str, params: list) -> Conversation | None:
    select, label_params = _conversation_select()
    with connection.cursor() as cursor:
        cursor.execute(f"{select} {where}", [*label_params, *params])
        row = cursor.fetchone()
    if row is None:
        return None
    conversation, start = _instance(Conversation, row, 0)
    conversation.label_names = row[start]
    team, start = _instance(Team, row, start + 1)
    assignee, _ = _instance(get_user_model(), row, start)
    # The joined rows are all NULL when the conversation has no team or assignee.
    conversation.team = team if conversation.team_id is not None else None
    conversation.assignee = assignee if conversation.assignee_id is not None else None
    return conversation


@cache
def _identity_sql(lock: bool) -> str:
    # SQLite (the embedded default) has no row locks: a writer holds the whole database anyway.
    lock = lock and connection.features.has_select_for_update_of
    return (
        f"SELECT {_columns(Identity, 'i')}, {_columns(Contact, 'c')} "
        f'FROM "{Identity._meta.db_table}" i JOIN "{Contact._meta.db_table}" c ON c."id" = i."contact_id" '
        'WHERE i."kind" = %s AND i."value" = %s' + (" FOR UPDATE OF c" if lock else "")
    )


@cache
def _conversation_select() -> tuple[str, tuple]:
    user = get_user_model()
    labels = label_names()  # refers to the conversations table by name
    sql = (
        f'SELECT {_columns(Conversation, _CONVERSATIONS)}, ({labels.sql}), {_columns(Team, "t")}, '
        f'{_columns(user, "u")} FROM "{_CONVERSATIONS}" '
        f'LEFT JOIN "{Team._meta.db_table}" t ON t."id" = "{_CONVERSATIONS}"."team_id" '
        f'LEFT JOIN "{user._meta.db_table}" u ON u."id" = "{_CONVERSATIONS}"."assignee_id"'
    )
    return sql, tuple(labels.params)


def _columns(model: type[Model], table: str) -> str:
    return ", ".join(f'"{table}"."{field.column}"' for field in model._meta.concrete_fields)


def _instance(model: type[Model], row: tuple, start: int) -> tuple[Model, int]:
    """The model whose columns start at `row[start]`, and where the next model's columns start."""
    fields = model._meta.concrete_fields
    values = list(row[start : start + len(fields)])
    for index, (converters, column) in enumerate(_converters(model)):
        for convert in converters:
            values[index] = convert(values[index], column, connection)
    return model.from_db(DEFAULT_DB_ALIAS, [field.attname for field in fields], values), start + len(fields)


@cache
def _converters(model: type[Model]) -> list[tuple[list, object]]:
    """Per column, what the ORM's compiler applies to a value read from the database: the backend's
    converters (SQLite's datetimes) and the field's own (`from_db_value`: JSON)."""
    columns = [field.get_col(model._meta.db_table) for field in model._meta.concrete_fields]
    return [(connection.ops.get_db_converters(col) + col.get_db_converters(connection), col) for col in columns]
