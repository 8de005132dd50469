"""`inbox/loop_writes.py`: rows written from the event loop, those that arrive together in one statement."""

import asyncio
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.db import connection

from inbox import loop_writes
from inbox.models import RawInboundEvent
from tests.test_plain_writes import stored

pytestmark = pytest.mark.skipif(connection.vendor != "postgresql", reason="the event loop writes on PostgreSQL only")


def raw_event(inbox, n: int, **overrides) -> RawInboundEvent:
    return RawInboundEvent(**{
        "channel": "sms", "endpoint": "twilio_sms.inbound", "inbox": inbox, "url": f"/webhooks/twilio/sms/?n={n}",
        "headers": {"X-Twilio-Signature": f"sig{n}", "Content-Type": "application/x-www-form-urlencoded"},
        "content_type": "application/x-www-form-urlencoded", "body": b"Body=hi\xff&n=" + str(n).encode(),
        **overrides,
    })


def insert_together(*instances: RawInboundEvent) -> list:
    """Every instance handed to the loop's writer at once, as concurrent requests do; their outcomes."""

    async def insert_all() -> list:
        outcomes = await asyncio.gather(*(loop_writes.insert(i) for i in instances), return_exceptions=True)
        await loop_writes.close()
        return outcomes

    return asyncio.run(insert_all())


def transaction_ids(pks: list[int]) -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT xmin::text FROM {RawInboundEvent._meta.db_table} WHERE id = ANY(%s)", [pks])
        return {xmin for (xmin,) in cursor.fetchall()}


def test_rows_that_arrive_together_are_one_statement_writing_what_save_writes(transactional_db, inbox):
    rows = [raw_event(inbox, n) for n in range(4)]
    assert insert_together(*rows) == [None] * 4

    pks = [row.pk for row in rows]
    assert pks == sorted(pks) and len(set(pks)) == 4  # each instance has its own row's key, in order
    assert not any(row._state.adding for row in rows)
    assert len(transaction_ids(pks)) == 1  # one statement, one commit
    for n, row in enumerate(rows):
        by_save = raw_event(inbox, n)
        by_save.save()
        assert stored(row) == stored(by_save)
        assert RawInboundEvent.objects.get(pk=row.pk).url == f"/webhooks/twilio/sms/?n={n}"


def test_awkward_values_arrive_exactly_as_save_writes_them(transactional_db):
    """The rows travel as JSON (plain_writes.insert_many_statement): every byte, character and
    microsecond must come out as `save()` stores it."""
    awkward = {
        "body": bytes(range(256)),
        "headers": {"X-Heron-Signature": 'é "quoted" \\ back\nslash \u2603', "Content-Type": "text/plain; q=\"1\""},
        "url": "/webhooks/twilio/sms/?q=%C3%A9&é=1",
        "error": "line one\nline two\t\u00a0\U0001f600",
        "processed_at": datetime(2026, 3, 29, 1, 30, 15, 123456, tzinfo=ZoneInfo("Europe/Berlin")),
        "result": RawInboundEvent.Result.FAILED,
        "attempts": 7,
    }
    row = raw_event(None, 0, **awkward)
    assert insert_together(row) == [None]

    by_save = raw_event(None, 0, **awkward)
    by_save.save()
    assert stored(row) == stored(by_save)
    kept = RawInboundEvent.objects.get(pk=row.pk)
    assert bytes(kept.body) == bytes(range(256))
    assert kept.processed_at == awkward["processed_at"]
    assert kept.headers == awkward["headers"]


def test_a_row_that_fails_fails_its_whole_statement_and_nothing_is_stored(transactional_db, inbox):
    gone = raw_event(inbox, 1, inbox_id=inbox.pk + 1000)  # no such inbox: the foreign key refuses it
    outcomes = insert_together(raw_event(inbox, 0), gone, raw_event(inbox, 2))

    assert all(isinstance(outcome, Exception) for outcome in outcomes)
    assert not RawInboundEvent.objects.exists()


def test_rows_arriving_while_a_statement_runs_go_in_the_next(transactional_db, inbox):
    async def one_then_three() -> list[RawInboundEvent]:
        await loop_writes.insert(raw_event(inbox, -1))  # the pool is open: an insert waits for nothing else
        first = raw_event(inbox, 0)
        writing = asyncio.create_task(loop_writes.insert(first))
        await asyncio.sleep(0)  # the first statement is on its way with one row
        later = [raw_event(inbox, n) for n in range(1, 4)]
        await asyncio.gather(writing, *(loop_writes.insert(row) for row in later))
        await loop_writes.close()
        return [first, *later]

    rows = asyncio.run(one_then_three())
    assert len(transaction_ids([rows[0].pk])) == 1
    assert transaction_ids([rows[0].pk]) != transaction_ids([row.pk for row in rows[1:]])
    assert len(transaction_ids([row.pk for row in rows[1:]])) == 1
