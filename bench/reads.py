"""Read latency on a large inbox: 1 M messages, 100 k contacts, 200 k conversations.

The data is generated straight into PostgreSQL with COPY (psycopg `cursor.copy()`), consistent
with the schema: contacts with phone (and some email) identities, four inboxes owned by four
teams, conversations with `last_message_*` set, messages in and out with provider ids; then
VACUUM ANALYZE. Over real HTTP (one uvicorn process, `Authorization: Token`), as an admin and as
an agent of one team, sequentially:

- inbox list, first page:             GET /api/v1/conversations/
- contact timeline, first page:       GET /api/v1/contacts/{id}/timeline/
- conversation messages, first page:  GET /api/v1/conversations/{id}/messages/

p50/p95 per endpoint, and the uvicorn process's CPU time per request (from /proc: what a request
costs, whatever else runs on the machine; GET /healthz gives the floor of any request on the same
server), with the app's default database settings (a psycopg connection pool per process, hot
statements prepared on each pooled connection: config/settings.py), and with `--also-unpooled`
once more with HERON_DB_POOL=0 (a new PostgreSQL connection per request).
Queries per request are counted in-process (Django test client + CaptureQueriesContext) at
page_size 10 and 50: they must be equal. For an endpoint over target, the slowest query is shown
with EXPLAIN ANALYZE.

    python -m bench.reads [--quick] [--requests 200]

Targets: p95 <= 30 ms; query count independent of page size.
"""

from __future__ import annotations

import argparse
import io
import os
import random
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx  # noqa: E402
import psycopg  # noqa: E402

from bench.common import (  # noqa: E402
    BenchError,
    Server,
    drop_database,
    fresh_database,
    machine_info,
    ms,
    percentile,
    pg_conninfo,
    require_env,
    table,
    write_json,
)

DB_NAME = "heron_bench_reads"
TARGET_P95_MS = 30
SIZES = {"messages": 1_000_000, "contacts": 100_000, "conversations": 200_000}
TEAMS = ["Support", "Sales", "Billing", "Reviews"]
# (name, channel, address, team index)
INBOXES = [
    ("Main line", "sms", "+15005550006", 0),
    ("Sales line", "sms", "+15005550007", 1),
    ("Billing", "email", "billing@heron.example", 2),
    ("Reviews", "simulator", "reviews", 3),
]
TEXTS = [
    "Hi, where is my order? It was supposed to arrive yesterday.",
    "Thanks a lot, that solved it!",
    "Can I change the delivery address for order 4412?",
    "We have shipped your parcel, tracking number follows.",
    "Sorry for the delay, I am checking with the warehouse now.",
    "Is the store open on Sunday?",
    "Your refund has been processed and should appear within 5 days.",
    "The item arrived damaged, can you send a replacement?",
]
STATUSES = ["resolved"] * 4 + ["open"] * 3 + ["pending"] * 2 + ["snoozed"]
ENDPOINTS = ["inbox list", "contact timeline", "conversation messages"]


# ----------------------------------------------------------------------------- Django in-process
def setup_django(db_url: str) -> None:
    os.environ.update(
        DATABASE_URL=db_url, DJANGO_SETTINGS_MODULE="config.settings", ALLOWED_HOSTS="testserver,127.0.0.1",
        LOG_LEVEL="WARNING", HERON_LOG_LEVEL="WARNING", CELERY_TASK_ALWAYS_EAGER="1",
    )
    os.environ.pop("REDIS_URL", None)  # nothing is published here; keep this process off Redis
    import django

    django.setup()


def create_people() -> dict:
    """Teams, inboxes, an admin and an agent (of the first team), through Heron's own services."""
    from inbox.models import Inbox, Team
    from inbox.services.people import create_agent, token_for

    teams = [Team.objects.create(name=name) for name in TEAMS]
    inboxes = []
    for name, channel, address, team in INBOXES:
        inbox = Inbox(name=name, channel=channel, address=address, team=teams[team])
        inbox.credentials = {"account_sid": "AC" + "0" * 32, "auth_token": "x"} if channel == "sms" else {}
        inbox.save()
        inboxes.append(inbox)
    admin = create_agent("bench@x", role="admin")
    agent = create_agent("agent@x", role="agent", teams=[TEAMS[0]])
    return {
        "teams": [t.pk for t in teams],
        "inboxes": [(i.pk, i.channel, INBOXES[n][3]) for n, i in enumerate(inboxes)],
        "users": {"admin": (admin.pk, token_for(admin)), "agent": (agent.pk, token_for(agent))},
    }


# ----------------------------------------------------------------------------- data generation
class Copier:
    """Rows → COPY ... FROM STDIN text format, written in ~1 MB chunks."""

    def __init__(self, cursor, table_name: str, columns: list[str]):
        self.context = cursor.copy(f"COPY {table_name} ({', '.join(columns)}) FROM STDIN")
        self.copy = self.context.__enter__()
        self.buffer = io.StringIO()
        self.rows = 0

    def row(self, line: str) -> None:
        self.buffer.write(line)
        self.rows += 1
        if self.rows % 20_000 == 0:
            self.flush()

    def flush(self) -> None:
        self.copy.write(self.buffer.getvalue())
        self.buffer = io.StringIO()

    def close(self) -> None:
        self.flush()
        self.context.__exit__(None, None, None)


def check_columns(conn, table_name: str, columns: list[str]) -> None:
    """Fail clearly if the schema grew a NOT NULL column without a default that we do not fill."""
    missing = [
        name for (name,) in conn.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = %s AND is_nullable = 'NO' "
            "AND column_default IS NULL AND NOT (column_name = 'id')", [table_name],
        ).fetchall() if name not in columns
    ]
    if missing:
        raise BenchError(f"bench/reads.py does not fill {table_name}.{', '.join(missing)}: update the generator")


def ts(value: datetime) -> str:
    return value.isoformat()


def generate(db_url: str, people: dict, sizes: dict, seed: int = 7,
             text_for=lambda mid: TEXTS[mid % len(TEXTS)]) -> dict:
    """`text_for(message id)`: each message's text (bench/search gives words of varied frequency)."""
    rng = random.Random(seed)
    n_contacts, n_conversations, n_messages = sizes["contacts"], sizes["conversations"], sizes["messages"]
    inboxes = people["inboxes"]
    team_ids = people["teams"]
    admin_id, agent_id = people["users"]["admin"][0], people["users"]["agent"][0]
    now = datetime.now(UTC).replace(microsecond=0)
    start = now - timedelta(days=365)
    tables = {
        "inbox_contact": ["id", "name", "created_at", "updated_at"],
        "inbox_identity": ["id", "contact_id", "kind", "value", "display_name", "opted_out", "created_at"],
        "inbox_message": [
            "id", "conversation_id", "contact_id", "inbox_id", "direction", "kind", "channel", "subject", "text",
            "html", "sender_user_id", "identity_id", "external_id", "status", "provider_status", "error_code",
            "error_message", "metadata", "send_attempts", "created_at", "updated_at",
        ],
        "inbox_conversation": [
            "id", "contact_id", "inbox_id", "status", "snoozed_until", "assignee_id", "team_id", "priority",
            "subject", "last_message_id", "last_message_at", "last_inbound_at", "waiting_since",
            "first_response_at", "resolved_at", "created_at", "updated_at",
        ],
    }
    timings = {}
    with psycopg.connect(pg_conninfo(db_url)) as conn:
        for table_name, columns in tables.items():
            check_columns(conn, table_name, columns)
        # FK checks are deferred triggers; skip them for the bulk load (ids are consistent by construction).
        conn.execute("SET session_replication_role = replica")
        cur = conn.cursor()

        t = time.perf_counter()
        contacts = Copier(cur, "inbox_contact", tables["inbox_contact"])
        first_names = ["Ana", "Ben", "Chloé", "Dev", "Eli", "Fatou", "Gus", "Hana", "Ivo", "June", "Kofi", "Lea"]
        last_names = ["Martin", "Nguyen", "Okafor", "Popescu", "Quinn", "Rossi", "Silva", "Tanaka", "Usman"]
        contact_created = []
        names = []
        for cid in range(1, n_contacts + 1):
            created = start + timedelta(seconds=rng.randrange(0, 300 * 86400))
            contact_created.append(created)
            name = f"{rng.choice(first_names)} {rng.choice(last_names)}"
            names.append(name)
            contacts.row(f"{cid}\t{name}\t{ts(created)}\t{ts(created)}\n")
        contacts.close()
        identities = Copier(cur, "inbox_identity", tables["inbox_identity"])
        for cid in range(1, n_contacts + 1):
            created = ts(contact_created[cid - 1])
            identities.row(f"{cid}\t{cid}\tphone\t+1628{cid:07d}\t{names[cid - 1]}\tf\t{created}\n")
            if cid % 2 == 0:
                identities.row(
                    f"{n_contacts + cid // 2}\t{cid}\temail\tcustomer{cid}@example.com\t\tf\t{created}\n"
                )
        identities.close()
        timings["contacts+identities_s"] = round(time.perf_counter() - t, 1)

        # Messages per conversation: 1..9 (mean 5), adjusted so the total is exact.
        mean = n_messages / n_conversations
        counts = [max(1, int(rng.uniform(1, 2 * mean - 1) + 0.5)) for _ in range(n_conversations)]
        diff = n_messages - sum(counts)
        while diff:
            i = rng.randrange(n_conversations)
            if diff > 0:
                counts[i] += 1
                diff -= 1
            elif counts[i] > 1:
                counts[i] -= 1
                diff += 1

        t = time.perf_counter()
        messages = Copier(cur, "inbox_message", tables["inbox_message"])
        conversation_rows = []
        mid = 0
        for conv_id in range(1, n_conversations + 1):
            # Every contact has a conversation; the rest go to random contacts (some have many).
            contact_id = conv_id if conv_id <= n_contacts else rng.randrange(1, n_contacts + 1)
            inbox_id, channel, team_index = inboxes[rng.randrange(len(inboxes))]
            team_id = team_ids[team_index] if rng.random() < 0.9 else team_ids[rng.randrange(len(team_ids))]
            identity_id = contact_id if channel != "email" or contact_id % 2 else n_contacts + contact_id // 2
            status = rng.choice(STATUSES)
            assignee = rng.choice([admin_id, agent_id, "\\N", "\\N"])
            created = contact_created[contact_id - 1] + timedelta(seconds=rng.randrange(0, 60 * 86400))
            created = min(created, now - timedelta(hours=1))
            at = created
            first_response = last_inbound = "\\N"
            for k in range(counts[conv_id - 1]):
                mid += 1
                at = at + timedelta(seconds=rng.randrange(30, 6 * 3600))
                inbound = k % 2 == 0
                if inbound:
                    last_inbound = ts(at)
                elif first_response == "\\N":
                    first_response = ts(at)
                kind = "message" if inbound or rng.random() < 0.9 else "note"
                stamp = ts(at)
                messages.row(
                    f"{mid}\t{conv_id}\t{contact_id}\t{inbox_id}\t{'in' if inbound else 'out'}\t{kind}\t{channel}\t\t"
                    f"{text_for(mid)}\t\t{'\\N' if inbound else rng.choice([admin_id, agent_id])}\t"
                    f"{identity_id if inbound else '\\N'}\tSM{mid:032x}\t{'received' if inbound else 'delivered'}\t"
                    f"{'received' if inbound else 'delivered'}\t\t\t{{}}\t{0 if inbound else 1}\t{stamp}\t{stamp}\n"
                )
            waiting = last_inbound if counts[conv_id - 1] % 2 == 1 and status != "resolved" else "\\N"
            conversation_rows.append(
                f"{conv_id}\t{contact_id}\t{inbox_id}\t{status}\t"
                f"{ts(now + timedelta(days=1)) if status == 'snoozed' else '\\N'}\t{assignee}\t{team_id}\tnone\t\t"
                f"{mid}\t{ts(at)}\t{last_inbound}\t{waiting}\t{first_response}\t"
                f"{ts(at) if status == 'resolved' else '\\N'}\t{ts(created)}\t{ts(at)}\n"
            )
        messages.close()
        timings["messages_s"] = round(time.perf_counter() - t, 1)

        t = time.perf_counter()
        conversations = Copier(cur, "inbox_conversation", tables["inbox_conversation"])
        for line in conversation_rows:
            conversations.row(line)
        conversations.close()
        timings["conversations_s"] = round(time.perf_counter() - t, 1)
        for table_name in tables:
            conn.execute(
                f"SELECT setval(pg_get_serial_sequence('{table_name}', 'id'), (SELECT max(id) FROM {table_name}))"
            )
        conn.commit()

    t = time.perf_counter()
    with psycopg.connect(pg_conninfo(db_url), autocommit=True) as conn:
        for table_name in tables:
            conn.execute(f"VACUUM (ANALYZE) {table_name}")
        counts_now = {
            name: conn.execute(f"SELECT count(*) FROM {name}").fetchone()[0]
            for name in ["inbox_message", "inbox_contact", "inbox_conversation", "inbox_identity"]
        }
    timings["vacuum_analyze_s"] = round(time.perf_counter() - t, 1)
    return {"rows": counts_now, "timings": timings}


# ----------------------------------------------------------------------------- what to request
def sample_ids(db_url: str, people: dict, n: int, seed: int = 11) -> dict:
    """For each role: `n` contacts and conversations it may see (agents: their team's)."""
    agent_team = people["teams"][0]
    out = {}
    with psycopg.connect(pg_conninfo(db_url)) as conn:
        for role, where, params in [
            ("admin", "TRUE", []),
            ("agent", "(c.team_id = %s OR i.team_id = %s)", [agent_team, agent_team]),
        ]:
            rows = conn.execute(
                "SELECT c.id, c.contact_id FROM inbox_conversation c JOIN inbox_inbox i ON i.id = c.inbox_id "
                f"WHERE {where} ORDER BY md5((c.id + %s)::text) LIMIT %s", [*params, seed, n],
            ).fetchall()
            if len(rows) < n:
                raise BenchError(f"found only {len(rows)} conversations for {role}")
            out[role] = {"conversations": [r[0] for r in rows], "contacts": [r[1] for r in rows]}
    return out


def urls_for(endpoint: str, ids: dict, page_size: int | None = None) -> list[str]:
    suffix = f"?page_size={page_size}" if page_size else ""
    if endpoint == "inbox list":
        return ["/api/v1/conversations/" + suffix]
    if endpoint == "contact timeline":
        return [f"/api/v1/contacts/{c}/timeline/{suffix}" for c in ids["contacts"]]
    return [f"/api/v1/conversations/{c}/messages/{suffix}" for c in ids["conversations"]]


# ----------------------------------------------------------------------------- measurements
def http_latencies(server: Server, token: str, urls: list[str], requests: int, *, pages: bool = True) -> dict:
    """Sequential GETs; with `pages`, each answer must be a page of `results`."""
    latencies, failures = [], []
    with httpx.Client(base_url=server.url, headers={"Authorization": f"Token {token}"}, timeout=60) as client:
        for i in range(20):  # warm-up
            client.get(urls[i % len(urls)])
        cpu_before = server.cpu_seconds()
        for i in range(requests):
            url = urls[i % len(urls)]
            start = time.perf_counter()
            response = client.get(url)
            latencies.append(time.perf_counter() - start)
            if response.status_code != 200:
                failures.append(f"{url}: {response.status_code} {response.text[:200]}")
            elif pages and "results" not in response.json():
                failures.append(f"{url}: no results in the answer")
        cpu_ms = ms((server.cpu_seconds() - cpu_before) / requests)
    return {"n": len(latencies), "p50_ms": ms(percentile(latencies, 50)), "p95_ms": ms(percentile(latencies, 95)),
            "cpu_ms": cpu_ms, "failures": failures[:3], "failed": len(failures)}


def query_counts(people: dict, ids: dict) -> dict:
    """Queries per request at page_size 10 and 50, in-process, plus the captured SQL of the 50 one."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    out = {}
    for role in ("admin", "agent"):
        client = Client(HTTP_AUTHORIZATION=f"Token {people['users'][role][1]}")
        for endpoint in ENDPOINTS:
            row = {}
            for page_size in (10, 50):
                url = urls_for(endpoint, ids[role], page_size)[0]
                client.get(url)  # warm caches (content types, permissions)
                with CaptureQueriesContext(connection) as captured:
                    response = client.get(url)
                if response.status_code != 200:
                    raise BenchError(f"{url} as {role}: {response.status_code} {response.content[:300]!r}")
                row[page_size] = {
                    "queries": len(captured.captured_queries),
                    "rows": len(response.json()["results"]),
                    "sql": [(float(q["time"]), q["sql"]) for q in captured.captured_queries],
                }
            out[(role, endpoint)] = row
    return out


def explain(db_url: str, sql_text: str) -> str:
    with psycopg.connect(pg_conninfo(db_url)) as conn:
        rows = conn.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql_text).fetchall()
    return "\n".join(r[0] for r in rows)


def run(args) -> dict:
    server_url, redis_url = require_env()
    sizes = {k: v // 10 for k, v in SIZES.items()} if args.quick else dict(SIZES)
    t0 = time.perf_counter()
    db_url = fresh_database(server_url, DB_NAME)
    setup_django(db_url)
    people = create_people()
    print(f"reads: generating {sizes['messages']:,} messages, {sizes['contacts']:,} contacts, "
          f"{sizes['conversations']:,} conversations with COPY ...", flush=True)
    generated = generate(db_url, people, sizes)
    generated["total_s"] = round(time.perf_counter() - t0, 1)
    print(f"  generated in {generated['total_s']} s: {generated['timings']}", flush=True)
    ids = sample_ids(db_url, people, args.requests)

    counts = query_counts(people, ids)
    passes, floors = [], []
    variants = [("app defaults: a connection pool per process, hot statements prepared", {})]
    if args.also_unpooled:
        variants.append(("HERON_DB_POOL=0: a new PostgreSQL connection per request", {"HERON_DB_POOL": "0"}))
    for label, env in variants:
        with Server(db_url, redis_url, name="reads", **env) as server:
            latencies = {
                (role, endpoint): http_latencies(
                    server, people["users"][role][1], urls_for(endpoint, ids[role]), args.requests
                )
                for role in ("admin", "agent") for endpoint in ENDPOINTS
            }
            floor = http_latencies(server, people["users"]["admin"][1], ["/healthz"], args.requests, pages=False)
        passes.append((label, latencies))
        floors.append(floor)

    rows, problems, slow = [], [], []
    for role in ("admin", "agent"):
        for endpoint in ENDPOINTS:
            q = counts[(role, endpoint)]
            row = [role, endpoint]
            for _label, latencies in passes:
                lat = latencies[(role, endpoint)]
                row += [lat["p50_ms"], lat["p95_ms"], lat["cpu_ms"]]
                if lat["failed"]:
                    problems.append(f"{role} {endpoint}: {lat['failed']} failed requests, e.g. {lat['failures']}")
            row += [q[10]["queries"], q[50]["queries"], q[50]["rows"]]
            rows.append(row)
            if q[10]["queries"] != q[50]["queries"]:
                problems.append(f"{role} {endpoint}: {q[10]['queries']} queries at page_size 10, "
                                f"{q[50]['queries']} at 50")
            best_p95 = min(latencies[(role, endpoint)]["p95_ms"] for _label, latencies in passes)
            if best_p95 > TARGET_P95_MS:
                sql_time, sql_text = max(q[50]["sql"])
                slow.append({"role": role, "endpoint": endpoint, "p95_ms": best_p95,
                             "slowest_query_ms": ms(sql_time), "sql": sql_text, "plan": explain(db_url, sql_text)})
    sql_ms = {f"{role} {endpoint}": ms(sum(t for t, _ in counts[(role, endpoint)][50]["sql"]))
              for role in ("admin", "agent") for endpoint in ENDPOINTS}
    result = {
        "benchmark": "reads",
        "sizes": sizes,
        "generated": generated,
        "requests_per_endpoint": args.requests,
        "passes": [label for label, _ in passes],
        "rows": rows,
        "floors": floors,
        "sql_ms_in_process": sql_ms,
        "slow": slow,
        "target": f"p95 <= {TARGET_P95_MS} ms; same query count at page_size 10 and 50",
        "meets_target": not slow and not problems,
        "problems": problems,
        "machine": machine_info(db_url),
    }
    if not args.keep_db:
        from django.db import connections

        connections.close_all()
        drop_database(server_url, DB_NAME)
    return result


def headers(passes: int) -> list[str]:
    # p95 stays the fourth column and the query counts the last but one and two: run_all.py reads them there.
    timing = ["p50 ms", "p95 ms", "server CPU ms/req"] + (
        ["p50 ms (unpooled)", "p95 ms (unpooled)", "server CPU ms/req (unpooled)"] if passes > 1 else []
    )
    return ["role", "endpoint (first page)", *timing, "queries @10", "queries @50", "rows @50"]


def report(result: dict) -> str:
    lines = [
        f"{result['sizes']['messages']:,} messages, {result['sizes']['contacts']:,} contacts, "
        f"{result['sizes']['conversations']:,} conversations; generated + migrated + analyzed in "
        f"{result['generated']['total_s']} s; {result['requests_per_endpoint']} sequential requests per row",
        "p50/p95: " + "; (unpooled): ".join(result["passes"]),
        table(headers(len(result["passes"])), result["rows"]),
        "floor of any request on this server (GET /healthz: no DRF, no query): " + "; (unpooled): ".join(
            f"p50 {floor['p50_ms']} ms, server CPU {floor['cpu_ms']} ms/req" for floor in result["floors"]
        ),
        "",
        "SQL time per request in-process (page_size 50, ms): "
        + ", ".join(f"{k} {v}" for k, v in result["sql_ms_in_process"].items()),
        f"target p95 <= {TARGET_P95_MS} ms and query count independent of page size: "
        f"{'MET' if result['meets_target'] else 'NOT MET'}",
    ]
    for item in result["slow"]:
        lines += ["", f"SLOW: {item['role']} {item['endpoint']}: p95 {item['p95_ms']} ms; slowest query "
                      f"{item['slowest_query_ms']} ms:", item["sql"], "EXPLAIN (ANALYZE, BUFFERS):", item["plan"]]
    for problem in result["problems"]:
        lines.append(f"PROBLEM: {problem}")
    return "\n".join(lines)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="1/10 of the sizes")
    parser.add_argument("--requests", type=int, default=200, help="requests per endpoint and role")
    parser.add_argument("--also-unpooled", action="store_true",
                        help="measure a second time with HERON_DB_POOL=0 (a new connection per request)")
    parser.add_argument("--keep-db", action="store_true", help=f"keep the {DB_NAME} database afterwards")
    parser.add_argument("--json", help="also write the result as JSON to this file")
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    try:
        result = run(args)
    except BenchError as exc:
        print(f"reads benchmark FAILED: {exc}", file=sys.stderr)
        return 2
    print(report(result))
    write_json(args.json, result)
    return 1 if result["problems"] else 0


if __name__ == "__main__":
    sys.exit(main())
