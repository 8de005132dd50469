"""Search latency on bench/reads' data set (1 M messages, 100 k contacts, 200 k conversations), and
what the search index costs ingest.

The data is bench/reads' (COPY straight into PostgreSQL, triggers off), each message's text one of
its eight sentences plus an order number shared by about 20 messages. Then, as a migration on an
existing database does it: the documents are backfilled in batches of ids (search/migrations/0002)
and the indexes built with CREATE INDEX CONCURRENTLY (0003); both are timed.

Over real HTTP (one uvicorn process, `Authorization: Token`), as an admin and as an agent of one
team, sequentially, `GET /api/v1/search/?q=` for: a common word, a rare word (an order number), two
words, a phrase, a prefix while typing, and a name with a typo. p50/p95 per row; queries per
request counted in-process at page_size 5 and 20 (they must be equal).

Ingest: `inbox.services.ingest.record_inbound` (what the worker runs for each webhook) stores new
SMS messages in-process on the same database, in alternating rounds with the search triggers on
and off (and its GIN index there or dropped): messages recorded per second each way.

    python -m bench.search [--quick] [--requests 100]

Targets: p95 <= 100 ms for every row; the same query count at both page sizes; ingest loss <= 10 %.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import psycopg  # noqa: E402

from bench import reads  # noqa: E402
from bench.common import (  # noqa: E402
    BenchError,
    Server,
    drop_database,
    fresh_database,
    machine_info,
    pg_conninfo,
    require_env,
    table,
    write_json,
)

DB_NAME = "heron_bench_search"
TARGET_P95_MS = 100
MAX_LOSS = 0.10
ORDERS = 50_000  # distinct order numbers: about 20 messages each at 1 M
QUERIES = {
    "common word": "order",
    "rare word": "10457",
    "two words": "delivery address",
    "phrase": '"tracking number"',
    "prefix while typing": "wareh",
    "name with a typo": "Chloe Tanka",
}


def text_for(mid: int) -> str:
    return f"{reads.TEXTS[mid % len(reads.TEXTS)]} Ref order {10_000 + (mid * 7919) % ORDERS}."


def time_backfill_and_indexes() -> dict:
    """What migrations 0002 and 0003 do on an existing database, timed: backfill, then the indexes."""
    from importlib import import_module

    from django.db import connection

    from search import index

    concurrent = import_module("search.migrations.0003_concurrent_indexes")
    with connection.cursor() as cursor:
        for name in concurrent.INDEXES:
            cursor.execute(f"DROP INDEX IF EXISTS {name}")
    t = time.perf_counter()
    after, batches = 0, 0
    while (after := index.reindex_batch(connection, after, 5000, only_missing=True)) is not None:
        batches += 1
    backfill_s = time.perf_counter() - t
    t = time.perf_counter()
    concurrent.create(None, type("Editor", (), {"connection": connection})())
    indexes_s = time.perf_counter() - t
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE inbox_message")
        cursor.execute("SELECT count(*) FROM inbox_message WHERE search_document IS NULL")
        (missing,) = cursor.fetchone()
    if missing:
        raise BenchError(f"{missing} messages without a search document after the backfill")
    return {"backfill_s": round(backfill_s, 1), "batches": batches, "indexes_s": round(indexes_s, 1)}


def urls(page_size: int | None = None) -> dict[str, str]:
    from urllib.parse import urlencode

    return {row: "/api/v1/search/?" + urlencode({"q": q, **({"page_size": page_size} if page_size else {})})
            for row, q in QUERIES.items()}


def query_counts(people: dict) -> dict:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    out = {}
    for role in ("admin", "agent"):
        client = Client(HTTP_AUTHORIZATION=f"Token {people['users'][role][1]}")
        for row in QUERIES:
            counts = []
            for size in (5, 20):
                url = urls(size)[row]
                client.get(url)
                with CaptureQueriesContext(connection) as captured:
                    response = client.get(url)
                if response.status_code != 200:
                    raise BenchError(f"{url} as {role}: {response.status_code} {response.content[:300]!r}")
                counts.append((len(captured.captured_queries), len(response.json()["results"]),
                               response.json()["count"], len(response.json()["contacts"])))
            out[(role, row)] = counts
    return out


def ingest_rates(people: dict, rounds: int, per_round: int) -> dict:
    """Messages recorded per second by `record_inbound`, search index on and off, alternating."""
    from django.db import connection

    from channels_adapters.base import InboundMessage, SenderIdentity
    from inbox.services.ingest import record_inbound

    inbox_id = people["inboxes"][0][0]
    rates = {"with index": [], "without index": []}
    serial = 0

    def toggle(on: bool) -> None:
        with connection.cursor() as cursor:
            for trigger in ("heron_message_search_insert", "heron_message_search_update"):
                cursor.execute(f"ALTER TABLE inbox_message {'ENABLE' if on else 'DISABLE'} TRIGGER {trigger}")
            if on:
                cursor.execute("CREATE INDEX IF NOT EXISTS msg_search_document ON inbox_message "
                               "USING gin (search_document)")
            else:
                cursor.execute("DROP INDEX IF EXISTS msg_search_document")

    for n in range(rounds):
        for label in ("with index", "without index") if n % 2 == 0 else ("without index", "with index"):
            toggle(label == "with index")
            t = time.perf_counter()
            for _ in range(per_round):
                serial += 1
                record_inbound(InboundMessage(
                    channel="sms", inbox_id=inbox_id, external_id=f"SMbench{serial:026d}",
                    sender=SenderIdentity(kind="phone", value=f"+1629{serial % 5000:07d}"),
                    text=text_for(serial),
                ))
            rates[label].append(per_round / (time.perf_counter() - t))
    toggle(True)
    return {label: round(statistics.median(values), 1) for label, values in rates.items()} | {
        "rounds": rounds, "per_round": per_round}


def run(args) -> dict:
    server_url, redis_url = require_env()
    sizes = {k: v // 10 for k, v in reads.SIZES.items()} if args.quick else dict(reads.SIZES)
    if args.messages:
        sizes = {k: int(v * args.messages / reads.SIZES["messages"]) for k, v in reads.SIZES.items()}
    t0 = time.perf_counter()
    db_url = fresh_database(server_url, DB_NAME)
    reads.setup_django(db_url)
    people = reads.create_people()
    print(f"search: generating {sizes['messages']:,} messages, {sizes['contacts']:,} contacts ...", flush=True)
    generated = reads.generate(db_url, people, sizes, text_for=text_for)
    with psycopg.connect(pg_conninfo(db_url), autocommit=True) as conn:
        conn.execute("UPDATE inbox_contact SET name = 'Chloé Tanaka' WHERE id % 997 = 0")
    print(f"  generated in {round(time.perf_counter() - t0, 1)} s; backfilling the index ...", flush=True)
    built = time_backfill_and_indexes()
    print(f"  backfilled in {built['backfill_s']} s ({built['batches']} batches), indexes in {built['indexes_s']} s",
          flush=True)
    counts = query_counts(people)
    with Server(db_url, redis_url, name="search") as server:
        latencies = {
            (role, row): reads.http_latencies(server, people["users"][role][1], [url], args.requests)
            for role in ("admin", "agent") for row, url in urls().items()
        }
    ingest = ingest_rates(people, args.ingest_rounds, args.ingest_messages)
    rows, problems = [], []
    for (role, row), lat in latencies.items():
        c5, c20 = counts[(role, row)]
        rows.append([role, row, QUERIES[row], lat["p50_ms"], lat["p95_ms"], lat["cpu_ms"], c5[0], c20[0], c20[1],
                     c20[2], c20[3]])
        if lat["failed"]:
            problems.append(f"{role} {row}: {lat['failed']} failed requests, e.g. {lat['failures']}")
        if c5[0] != c20[0]:
            problems.append(f"{role} {row}: {c5[0]} queries at page_size 5, {c20[0]} at 20")
    loss = 1 - ingest["with index"] / ingest["without index"]
    result = {
        "benchmark": "search", "sizes": sizes, "generated": generated, "index_build": built,
        "requests_per_row": args.requests, "rows": rows, "ingest": ingest | {"loss": round(loss, 3)},
        "meets_target": all(r[4] <= TARGET_P95_MS for r in rows) and loss <= MAX_LOSS and not problems,
        "problems": problems, "machine": machine_info(db_url),
    }
    if not args.keep_db:
        from django.db import connections

        connections.close_all()
        drop_database(server_url, DB_NAME)
    return result


def report(result: dict) -> str:
    build = result["index_build"]
    ingest = result["ingest"]
    return "\n".join([
        f"{result['sizes']['messages']:,} messages, {result['sizes']['contacts']:,} contacts, "
        f"{result['sizes']['conversations']:,} conversations; index backfilled in {build['backfill_s']} s "
        f"({build['batches']} batches of 5,000), indexes built concurrently in {build['indexes_s']} s; "
        f"{result['requests_per_row']} sequential requests per row",
        table(["role", "search", "q", "p50 ms", "p95 ms", "server CPU ms/req", "queries @5", "queries @20",
               "results @20", "count", "contacts"], result["rows"]),
        f"ingest (record_inbound in-process, median of {ingest['rounds']} alternating rounds of "
        f"{ingest['per_round']}): {ingest['with index']} msg/s with the search index, {ingest['without index']} "
        f"without: loss {ingest['loss']:.1%}",
        f"target p95 <= {TARGET_P95_MS} ms, same query count at both page sizes, ingest loss <= {MAX_LOSS:.0%}: "
        f"{'MET' if result['meets_target'] else 'NOT MET'}",
        *[f"PROBLEM: {p}" for p in result["problems"]],
    ])


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="1/10 of the sizes")
    parser.add_argument("--messages", type=int, help="another size: this many messages, the rest in proportion")
    parser.add_argument("--requests", type=int, default=100, help="requests per row and role")
    parser.add_argument("--ingest-rounds", type=int, default=4)
    parser.add_argument("--ingest-messages", type=int, default=1000, help="messages per ingest round")
    parser.add_argument("--keep-db", action="store_true", help=f"keep the {DB_NAME} database afterwards")
    parser.add_argument("--json", help="also write the result as JSON to this file")
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    try:
        result = run(args)
    except BenchError as exc:
        print(f"search benchmark FAILED: {exc}", file=sys.stderr)
        return 2
    print(report(result))
    write_json(args.json, result)
    return 1 if result["problems"] else 0


if __name__ == "__main__":
    sys.exit(main())
