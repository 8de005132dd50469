"""Lookups that run on every webhook must keep their index in PostgreSQL's generic plan.

Repeated statements are prepared (config/settings.py). After five runs PostgreSQL compares the
statement's generic plan, made without the parameters' values, with the plans it made for them,
and keeps planning afresh each time when the generic one looks worse. A lookup whose index is
partial (only some values) can use it in a generic plan only if its own SQL implies the index's
condition without a parameter.
"""

import re

import pytest
from django.db import connection
from psycopg import sql

from inbox.inbound_reads import message_id_for_external_id
from inbox.models import Message

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's plans"),
]


def generic_plan(run_lookup) -> str:
    """The generic plan of the one statement `run_lookup` runs, with sequential scans as a last resort."""
    statements = []

    def capture(execute, statement, params, many, context):
        statements.append((statement, params))
        return execute(statement, params, many, context)

    with connection.execute_wrapper(capture):
        run_lookup()
    [(statement, params)] = statements
    counter = iter(range(1, len(params) + 1))
    numbered = re.sub("%s", lambda _: f"${next(counter)}", statement)
    raw = connection.connection
    arguments = ", ".join(sql.Literal(str(value)).as_string(raw) for value in params)
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL plan_cache_mode = force_generic_plan")
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(f"PREPARE plan_check AS {numbered}")
        try:
            cursor.execute(f"EXPLAIN EXECUTE plan_check({arguments})")
            return "\n".join(row[0] for row in cursor.fetchall())
        finally:
            cursor.execute("DEALLOCATE plan_check")


@pytest.fixture
def busy_inbox(inbox, customer_writes):
    """An inbox with thousands of messages, analyzed: on a nearly empty table every plan costs about
    the same, and which one the planner takes says nothing about the index."""
    first = customer_writes(inbox)
    Message.objects.bulk_create(
        Message(
            conversation_id=first.conversation_id, contact_id=first.contact_id, inbox=inbox,
            direction=first.direction, channel=first.channel, external_id=f"SM{n:06d}",
        )
        for n in range(3000)
    )
    with connection.cursor() as cursor:
        cursor.execute(f'ANALYZE "{Message._meta.db_table}"')
    return inbox


@pytest.mark.parametrize(
    "run_lookup",
    [
        pytest.param(lambda inbox_id: message_id_for_external_id(inbox_id, "SM123"), id="ingest's duplicate check"),
        pytest.param(
            lambda inbox_id: Message.objects.filter(inbox_id=inbox_id).with_external_id("SM123").first(),
            id="Message.objects.with_external_id",
        ),
    ],
)
def test_a_provider_id_lookup_uses_the_unique_index_in_its_generic_plan(busy_inbox, run_lookup):
    plan = generic_plan(lambda: run_lookup(busy_inbox.pk))
    assert "message_unique_external_id" in plan, plan


def test_the_lookups_find_a_message_by_its_provider_id_and_never_one_without(inbox, customer_writes):
    """The condition that lets the index serve holds for every message the lookups are for."""
    known = customer_writes(inbox, external_id="SM-known")
    without = customer_writes(inbox)
    Message.objects.filter(pk=without.pk).update(external_id="")

    assert message_id_for_external_id(inbox.pk, "SM-known") == known.pk
    assert list(Message.objects.filter(inbox=inbox).with_external_id("SM-known")) == [known]
    assert message_id_for_external_id(inbox.pk, "") is None
    assert not Message.objects.filter(inbox=inbox).with_external_id("").exists()
