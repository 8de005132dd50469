"""Email ingest throughput: signed Postmark inbound webhooks (raw MIME) end to end, with threading.

Fresh database, an email inbox created through `POST /api/v1/inboxes/`, Heron as production runs
it: uvicorn (`--uvicorn-workers 2`, one per CPU here) serving Heron's ASGI app and one Celery worker
(`--worker-concurrency` processes) on Redis. The webhook is answered once anymail has validated it and the raw MIME is stored;
the worker parses, threads and records it. `--inline` records in the request instead (Celery eager).
N multipart emails (text + HTML; every third one a reply, with In-Reply-To/References, to an email
of the same customer that Heron has already answered 200 for) are posted to
`/anymail/postmark/inbound/` with HTTP basic auth (ANYMAIL WEBHOOK_SECRET), `--concurrency` in
flight over keep-alive connections (aiohttp).

    python -m bench.email_ingest [--n 1000] [--concurrency 16] [--quick] [--inline]

Two figures: accepted (webhooks answered per second, what the ESP sees) and recorded (emails
stored per second from the first request until the worker has recorded the last one); the target
applies to recorded. CPU time per email of the uvicorn process and of the worker comes from /proc.

Then, in this process and separately from the timed HTTP run, ~20 more emails go through Django's
test client inside `CaptureQueriesContext`: SQL statements per message.

Verified afterwards (the benchmark fails otherwise): one stored message per email sent, every reply
in the conversation of the thread it answers, and as many conversations as thread roots.
Target: >= 250 msg/s (django-helpdesk, the Python peer, does about 49 msg/s on the reference machine).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import random
import secrets
import sys
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import format_datetime, formataddr
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx  # noqa: E402
import psycopg  # noqa: E402

from bench.common import (  # noqa: E402
    BenchError,
    Poster,
    add_common_arguments,
    add_production_arguments,
    create_user,
    drop_database,
    fresh_database,
    machine_info,
    ms,
    percentile,
    pg_conninfo,
    production_mode,
    production_stack,
    require_env,
    run_main,
    table,
    wait_until_recorded,
)

DB_NAME = "heron_bench_email"
TARGET_RATE = 250.0
PEER_RATE = "django-helpdesk about 49 msg/s on this machine"
WARMUP = 20
SAMPLE = 20  # emails measured in-process for the SQL statement count
INBOX_ADDRESS = "support@bench.heron.test"
PATH = "/anymail/postmark/inbound/"
# A reply answers an email at least this many positions earlier (so its parent has almost always been
# answered already; if not, the sender waits for it: a reply is only ever sent after its parent is in).
REPLY_LAG = 32
# ... chosen among the emails of this many positions before that (recent threads get the follow-ups).
REPLY_WINDOW = 300


# ----------------------------------------------------------------------------- the mail
@dataclass
class Email:
    position: int
    sender: str
    name: str
    subject: str
    message_id: str  # without <>
    root: int  # position of the thread's first email (itself for a root)
    parent: int | None = None
    references: list[str] = field(default_factory=list)  # bare ids, oldest first
    body: bytes = b""

    @property
    def is_reply(self) -> bool:
        return self.parent is not None


def customer(i: int) -> tuple[str, str]:
    first = ["Ana", "Ben", "Chloé", "Dmitri", "Eva", "Farid", "Grace", "Hiro", "Ines", "Jonas"][i % 10]
    return f"customer{i}@example{i % 7}.org", f"{first} Customer{i}"


def build_mime(mail: Email, parent: Email | None, when: float) -> bytes:
    msg = EmailMessage()
    msg["From"] = formataddr((mail.name, mail.sender))
    msg["To"] = formataddr(("Bench Support", INBOX_ADDRESS))
    msg["Subject"] = mail.subject
    msg["Date"] = format_datetime(time_utc(when))
    msg["Message-ID"] = f"<{mail.message_id}>"
    msg["MIME-Version"] = "1.0"
    if parent is not None:
        msg["In-Reply-To"] = f"<{parent.message_id}>"
        msg["References"] = " ".join(f"<{r}>" for r in mail.references)
    order = 10_000 + mail.root
    new_text = (
        f"Hello,\n\nI ordered item #{order} two weeks ago and it still has not arrived. The tracking page "
        f"has said \"in transit\" since Monday. Could you check what is happening? This is email {mail.position}.\n\n"
        f"Thanks,\n{mail.name}\n"
    ) if parent is None else (
        f"Hi again,\n\nThank you for the quick answer. I checked with my neighbours and the parcel for order "
        f"#{order} is not there either. Can you send a replacement? (email {mail.position})\n\n{mail.name}\n"
    )
    text, html = new_text, "<p>" + new_text.strip().replace("\n\n", "</p><p>").replace("\n", "<br>") + "</p>"
    if parent is not None:
        quoted = "\n".join("> " + line for line in f"Earlier message {parent.position} of this thread.".split("\n"))
        text += f"\nOn {format_datetime(time_utc(when - 60))}, {parent.name} <{parent.sender}> wrote:\n{quoted}\n"
        html += (f'<div class="gmail_quote">On {format_datetime(time_utc(when - 60))}, {parent.name} wrote:'
                 f"<blockquote>Earlier message {parent.position} of this thread.</blockquote></div>")
    msg.set_content(text)
    msg.add_alternative(f"<html><body><div dir=\"ltr\">{html}</div></body></html>", subtype="html")
    return msg.as_bytes()


def time_utc(when: float):
    from datetime import UTC, datetime

    return datetime.fromtimestamp(when, UTC)


def postmark_payload(mail: Email, raw: bytes) -> dict:
    """Postmark's inbound JSON with "Include raw email content" (what channels_adapters/email/simulate.py posts,
    plus the parsed fields Postmark always sends). No StrippedTextReply: Heron extracts the reply itself."""
    return {
        "FromName": mail.name, "From": mail.sender,
        "FromFull": {"Email": mail.sender, "Name": mail.name, "MailboxHash": ""},
        "To": f"Bench Support <{INBOX_ADDRESS}>",
        "ToFull": [{"Email": INBOX_ADDRESS, "Name": "Bench Support", "MailboxHash": ""}],
        "CcFull": [], "BccFull": [], "OriginalRecipient": INBOX_ADDRESS, "Subject": mail.subject,
        "MessageID": str(uuid.uuid4()), "ReplyTo": "", "MailboxHash": "", "Date": "",
        "Headers": [{"Name": "Return-Path", "Value": f"<{mail.sender}>"},
                    {"Name": "X-Spam-Status", "Value": "No"}, {"Name": "X-Spam-Score", "Value": "-0.1"}],
        "Attachments": [], "RawEmail": raw.decode("utf-8"),
    }


def plan(n: int, seed: int, first_position: int = 0, customers: int | None = None,
         tag: str = "bench") -> list[Email]:
    """n emails; every third one (positions 2, 5, 8, …) a reply in an existing thread of the same customer."""
    rng = random.Random(seed)
    customers = customers or max(1, n // 5)
    mails: list[Email] = []
    for k in range(n):
        p = first_position + k
        message_id = f"{tag}.{p}.{secrets.token_hex(6)}@mail.example{p % 7}.org"
        if k % 3 == 2 and k > 0:
            hi = max(0, k - min(REPLY_LAG, k))
            parent = mails[rng.randint(max(0, hi - REPLY_WINDOW), hi)]
            root = mails[parent.root - first_position]
            mails.append(Email(
                p, parent.sender, parent.name, "Re: " + root.subject, message_id, root.position, parent.position,
                [*parent.references, parent.message_id],
            ))
        else:
            sender, name = customer(rng.randrange(customers))
            # One subject per thread: the subject fallback must not merge two roots of one customer.
            mails.append(Email(p, sender, name, f"Order #{10_000 + p}: where is my parcel?", message_id, p))
    now = time.time()
    by_position = {m.position: m for m in mails}
    for m in mails:
        parent = by_position[m.parent] if m.parent is not None else None
        m.body = json.dumps(postmark_payload(m, build_mime(m, parent, now))).encode()
    return mails


# ----------------------------------------------------------------------------- load
async def fire(base_url: str, mails: list[Email], concurrency: int, auth: str) -> dict:
    """POST every email with `concurrency` in flight, each reply only after its parent was answered."""
    done = {m.position: asyncio.Event() for m in mails}
    waited = 0
    queue = iter(mails)
    headers = {"Content-Type": "application/json", "Authorization": auth}
    async with Poster(base_url, concurrency, timeout=120) as poster:

        async def worker():
            nonlocal waited
            for mail in queue:
                if mail.parent is not None and mail.parent in done and not done[mail.parent].is_set():
                    waited += 1
                    await done[mail.parent].wait()
                await poster.post(PATH, mail.body, headers)
                done[mail.position].set()

        start = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - start
    return {"requests": len(mails), "elapsed": elapsed, "latencies": poster.latencies, "failures": poster.failures,
            "replies_waited_for_parent": waited}


def create_inbox(base_url: str, admin_token: str) -> dict:
    with httpx.Client(base_url=base_url, headers={"Authorization": f"Token {admin_token}"}, timeout=30) as api:
        response = api.post("/api/v1/inboxes/", json={
            "name": "Bench email", "channel": "email", "address": INBOX_ADDRESS, "team": None, "credentials": {},
            "settings": {"display_name": "Bench Support"},
        })
    if response.status_code != 201:
        raise BenchError(f"creating the bench email inbox failed: {response.status_code} {response.text}")
    return response.json()


def check_auth_enforced(base_url: str, mail: Email) -> None:
    """A wrong password must be refused (anymail's basic auth), or we would be benchmarking an open door."""
    wrong = "Basic " + base64.b64encode(b"heron-bench:wrong").decode()
    response = httpx.post(base_url + PATH, content=mail.body, timeout=30,
                          headers={"Content-Type": "application/json", "Authorization": wrong})
    if response.status_code == 404:
        raise BenchError(f"{PATH} is not routed: is anymail mounted under /anymail/?")
    if response.status_code < 400:
        raise BenchError(f"{PATH} accepted a wrong basic-auth password ({response.status_code})")


# ----------------------------------------------------------------------------- SQL per message, in-process
def setup_django(db_url: str, redis_url: str, secret: str) -> None:
    os.environ.update(
        DATABASE_URL=db_url, DJANGO_SETTINGS_MODULE="config.settings", ALLOWED_HOSTS="testserver,127.0.0.1",
        LOG_LEVEL="WARNING", HERON_LOG_LEVEL="WARNING", CELERY_TASK_ALWAYS_EAGER="1",
        REDIS_URL=redis_url, ANYMAIL_WEBHOOK_SECRET=secret,
    )
    import django

    django.setup()


def query_counts(mails: list[Email], auth: str) -> dict:
    """Each email through Django's test client (the same URL, view and signal), its SQL statements captured."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client()
    per_kind: dict[str, list[int]] = {"new thread": [], "reply": []}
    verbs: dict[str, Counter] = {"new thread": Counter(), "reply": Counter()}
    example: list[str] = []
    seconds: list[float] = []
    for i, mail in enumerate(mails):
        start = time.perf_counter()
        with CaptureQueriesContext(connection) as captured:
            response = client.post(PATH, data=mail.body, content_type="application/json", HTTP_AUTHORIZATION=auth)
        elapsed = time.perf_counter() - start
        if response.status_code != 200:
            raise BenchError(f"in-process email {mail.position}: {response.status_code} {response.content[:300]!r}")
        if i == 0:
            continue  # warms Django's caches (content types, the URL resolver); not counted
        kind = "reply" if mail.is_reply else "new thread"
        seconds.append(elapsed)
        per_kind[kind].append(len(captured.captured_queries))
        verbs[kind].update(q["sql"].split(None, 1)[0].upper() for q in captured.captured_queries)
        if kind == "reply" and not example:
            example = [q["sql"][:160] for q in captured.captured_queries]
    out = {}
    for kind, counts in per_kind.items():
        if counts:
            out[kind] = {"n": len(counts), "mean": round(sum(counts) / len(counts), 1), "min": min(counts),
                         "max": max(counts),
                         "by_statement": {k: round(v / len(counts), 1) for k, v in verbs[kind].most_common()}}
    everything = [c for counts in per_kind.values() for c in counts]
    out["all"] = {"n": len(everything), "mean": round(sum(everything) / len(everything), 1),
                  # one email at a time, no HTTP, no concurrency (but the statements' own timing overhead)
                  "ms_per_email_p50": ms(percentile(seconds, 50)), "ms_per_email_mean": ms(sum(seconds) / len(seconds))}
    out["reply_example"] = example
    return out


# ----------------------------------------------------------------------------- verification
def verify(db_url: str, inbox_id: int, mails: list[Email]) -> tuple[dict, list[str]]:
    problems: list[str] = []
    with psycopg.connect(pg_conninfo(db_url)) as conn:
        rows = conn.execute(
            "SELECT external_id, conversation_id, direction FROM inbox_message WHERE inbox_id = %s", [inbox_id]
        ).fetchall()
        conversations = conn.execute(
            "SELECT count(*) FROM inbox_conversation WHERE inbox_id = %s", [inbox_id]
        ).fetchone()[0]
        raw = dict(conn.execute(
            "SELECT result, count(*) FROM inbox_rawinboundevent WHERE channel = 'email' GROUP BY result"
        ).fetchall())
        contacts = conn.execute("SELECT count(*) FROM inbox_contact").fetchone()[0]
        events = conn.execute("SELECT count(*) FROM inbox_event WHERE type = 'message.created'").fetchone()[0]
    where = {external_id: conversation_id for external_id, conversation_id, _ in rows}
    inbound = sum(1 for *_, direction in rows if direction == "in")
    missing = [m.message_id for m in mails if m.message_id not in where]
    by_position = {m.position: m for m in mails}
    misthreaded = [
        m.position for m in mails
        if m.is_reply and m.message_id in where and where[m.message_id] != where.get(by_position[m.root].message_id)
    ]
    roots = sum(1 for m in mails if not m.is_reply)
    root_conversations = {where.get(m.message_id) for m in mails if not m.is_reply} - {None}
    if missing:
        problems.append(f"{len(missing)} emails not stored, e.g. {missing[:3]}")
    if len(rows) != len(mails) or inbound != len(mails):
        problems.append(f"the inbox holds {len(rows)} messages ({inbound} inbound), expected {len(mails)}")
    if misthreaded:
        problems.append(f"{len(misthreaded)} replies not in the conversation of their thread, e.g. positions "
                        f"{misthreaded[:5]}")
    if conversations != roots or len(root_conversations) != roots:
        problems.append(f"{conversations} conversations ({len(root_conversations)} distinct for roots), expected "
                        f"{roots} (one per thread root)")
    if events != len(mails):
        problems.append(f"{events} message.created events, expected {len(mails)}")
    facts = {"emails": len(mails), "messages": len(rows), "inbound": inbound, "roots": roots,
             "replies": len(mails) - roots, "conversations": conversations,
             "replies_in_their_thread": sum(1 for m in mails if m.is_reply) - len(misthreaded),
             "raw_events": raw, "contacts": contacts, "message_created_events": events}
    return facts, problems


# ----------------------------------------------------------------------------- the run
def run(args) -> dict:
    server_url, redis_url = require_env()
    db_url = fresh_database(server_url, DB_NAME)
    admin_token = create_user(db_url, "bench@x", "admin")
    secret = f"heron-bench:{secrets.token_urlsafe(24)}"
    auth = "Basic " + base64.b64encode(secret.encode()).decode()
    env = {"ANYMAIL_WEBHOOK_SECRET": secret}
    if args.conn_max_age is not None:
        env["DB_CONN_MAX_AGE"] = str(args.conn_max_age)
    warm = plan(WARMUP, seed=1, first_position=100_000, customers=WARMUP, tag="warm")
    mails = plan(args.n, seed=42)
    sample = plan(SAMPLE + 1, seed=7, first_position=200_000, customers=SAMPLE, tag="sample")
    load: list[float] = []
    with production_stack(db_url, redis_url, args, name="email_ingest", app="config.asgi:application",
                          **env) as (server, worker):
        inbox = create_inbox(server.url, admin_token)
        check_auth_enforced(server.url, warm[0])
        with psycopg.connect(pg_conninfo(db_url)) as conn:
            if conn.execute("SELECT count(*) FROM inbox_rawinboundevent").fetchone()[0]:
                raise BenchError("a webhook with a wrong basic-auth password was stored")
        log_start = len(server.output())  # the refused request above logs anymail's validation failure
        asyncio.run(fire(server.url, warm, args.concurrency, auth))
        wait_until_recorded(db_url, inbox["id"], len(warm))
        replies = sum(1 for m in mails if m.is_reply)
        print(f"email_ingest: {args.n} Postmark inbound webhooks (raw MIME, text + HTML; {replies} replies "
              f"threaded by In-Reply-To/References), {args.concurrency} in flight ...", flush=True)
        load.append(os.getloadavg()[0])
        server_cpu, worker_cpu = server.cpu_seconds(), worker.cpu_seconds() if worker else 0.0
        timed = asyncio.run(fire(server.url, mails, args.concurrency, auth))
        drained = wait_until_recorded(db_url, inbox["id"], len(warm) + len(mails))
        cpu_ms = {"accept (uvicorn)": (server.cpu_seconds() - server_cpu) * 1000 / len(mails)}
        if worker:
            cpu_ms["record (worker)"] = (worker.cpu_seconds() - worker_cpu) * 1000 / len(mails)
        load.append(os.getloadavg()[0])
        server_log = server.output()[log_start:] + (worker.output() if worker else "")

    latencies = timed["latencies"]
    http = {
        "requests": timed["requests"], "seconds": round(timed["elapsed"], 2),
        "rate": round(timed["requests"] / timed["elapsed"], 1),
        "recorded_rate": round(timed["requests"] / (timed["elapsed"] + drained), 1),
        "p50_ms": ms(percentile(latencies, 50)), "p99_ms": ms(percentile(latencies, 99)),
        "max_ms": ms(max(latencies)) if latencies else None,
        "failures": len(timed["failures"]), "first_failures": timed["failures"][:3],
        "replies_waited_for_parent": timed["replies_waited_for_parent"],
    }
    facts, problems = verify(db_url, inbox["id"], warm + mails)
    if http["failures"]:
        problems.insert(0, f"{http['failures']} webhook requests failed, e.g. {http['first_failures']}")
    if "Traceback" in server_log:
        problems.append("the server or worker logged a traceback: see var/bench/email_ingest*.log")

    setup_django(db_url, redis_url, secret)
    queries = query_counts(sample, auth)
    sample_facts, sample_problems = verify(db_url, inbox["id"], warm + mails + sample)
    if not problems:  # otherwise the same shortfall would be reported twice
        problems += [f"in-process sample: {p}" for p in sample_problems]

    rate = http["recorded_rate"]
    result = {
        "benchmark": "email_ingest",
        "n": args.n,
        "warmup": WARMUP,
        "concurrency": args.concurrency,
        "path": f"POST {PATH} (Postmark inbound JSON with RawEmail, HTTP basic auth)",
        "db_conn_max_age": args.conn_max_age if args.conn_max_age is not None else "app default",
        "mode": production_mode(args),
        "http": http,
        "rate": rate,
        "cpu_ms_per_email": {side: round(value, 2) for side, value in cpu_ms.items()},
        "queries": queries,
        "load_average_1m": {"before": round(load[0], 2), "after": round(load[1], 2)},
        "target": f">= {TARGET_RATE:g} msg/s",
        "peer": PEER_RATE,
        "meets_target": rate >= TARGET_RATE,
        "verified": facts,
        "verified_after_sample": {k: sample_facts[k] for k in ("messages", "conversations", "roots")},
        "problems": problems,
        "machine": machine_info(db_url),
    }
    if not args.keep_db:
        from django.db import connections

        connections.close_all()
        drop_database(server_url, DB_NAME)
    return result


def report(result: dict) -> str:
    http, q, v = result["http"], result["queries"], result["verified"]
    rows = [["Heron email webhook (Postmark inbound), accepted", http["rate"], http["p50_ms"], http["p99_ms"],
             http["max_ms"], http["failures"]],
            ["emails recorded (queue drained)", http["recorded_rate"], "", "", "", ""]]
    qrows = [[kind, q[kind]["n"], q[kind]["mean"], q[kind]["min"], q[kind]["max"],
              ", ".join(f"{k} {c}" for k, c in q[kind]["by_statement"].items())]
             for kind in ("new thread", "reply") if kind in q]
    lines = [
        table(["endpoint", "msg/s", "p50 ms", "p99 ms", "max ms", "failed"], rows),
        f"{http['requests']} emails in {http['seconds']} s, {result['concurrency']} in flight; load average (1 min) "
        f"{result['load_average_1m']['before']} before, {result['load_average_1m']['after']} after; "
        f"{http['replies_waited_for_parent']} replies waited for their parent's answer; {result['mode']}",
        "CPU ms per email (process tree, /proc): "
        + ", ".join(f"{side} {value}" for side, value in result["cpu_ms_per_email"].items()),
        f"target {result['target']} (recorded): {'MET' if result['meets_target'] else 'NOT MET'} "
        f"(peer: {result['peer']})",
        "",
        f"SQL statements per email, in-process (Django test client + CaptureQueriesContext, "
        f"{q['all']['n']} emails after one warm-up): {q['all']['mean']} on average",
        table(["email", "n", "mean", "min", "max", "statements per email by kind"], qrows),
        f"in-process time per email, one at a time (test client, no HTTP): p50 {q['all']['ms_per_email_p50']} ms, "
        f"mean {q['all']['ms_per_email_mean']} ms",
        "",
        f"verified: {v['messages']} messages stored for {v['emails']} emails sent (incl. {result['warmup']} warm-up); "
        f"{v['replies_in_their_thread']}/{v['replies']} replies in the conversation of the thread they answer; "
        f"{v['conversations']} conversations for {v['roots']} thread roots; {v['contacts']} contacts; "
        f"raw events {v['raw_events']}",
    ]
    for problem in result["problems"]:
        lines.append(f"PROBLEM: {problem}")
    return "\n".join(lines)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=None, help="emails to send (default 1000, --quick 200)")
    parser.add_argument("--concurrency", type=int, default=16)
    add_production_arguments(parser)
    add_common_arguments(parser, DB_NAME)
    args = parser.parse_args(argv)
    if args.n is None:
        args.n = 200 if args.quick else 1000
    return args


def main(argv=None) -> int:
    return run_main("email_ingest", parse_args(argv), run, report)


if __name__ == "__main__":
    sys.exit(main())
