"""Realtime latency: webhook POST sent → `message.created` received on 50 websockets.

Two uvicorn processes and a Celery worker (production's shape: the webhook is answered once
stored and checked, the worker records the message and publishes the event) on one fresh database
with the Redis channel layer (channels-redis); `--inline` records in the request instead. The
websockets are spread over both (half admins, half agents of the inbox's team, `Authorization:
Token` header); every webhook goes to the first. The worker publishes every event, so each one
crosses processes (with `--inline`, half the sockets exercise the cross-process path). Webhooks are sent
open-loop at `--rate` per second for `--seconds` (a slow response never lowers the offered rate).
Listeners run in their own processes (one per server) so their work does
not delay the sender; times come from CLOCK_MONOTONIC, which all processes share.

    python -m bench.realtime [--clients 50] [--rate 100] [--seconds 10] [--quick] [--inline]

Target: p99 <= 50 ms, and every client receives every message.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import re
import sys
import time
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import aiohttp  # noqa: E402

from bench.common import (  # noqa: E402
    BenchError,
    Poster,
    Server,
    Worker,
    add_common_arguments,
    busy_fraction,
    create_user,
    drop_database,
    fresh_database,
    machine_cpu_ticks,
    machine_info,
    ms,
    percentile,
    process_tree_cpu_seconds,
    require_env,
    run_main,
    table,
)
from bench.webhooks import WebhookFactory, sender_number  # noqa: E402

DB_NAME = "heron_bench_realtime"
# Customers writing: the first SENDERS webhooks each bring a new contact and conversation.
SENDERS = 200
MESSAGE_CREATED = '"type": "message.created"'
EXTERNAL_ID = re.compile(r'"external_id": "([^"]*)"')
TARGET_P99_MS = 50
TEAM = "Bench"


# ----------------------------------------------------------------------------- listeners
def listen(ws_url: str, tokens: list[str], ready, stop, results, counter) -> None:
    """Process entry point: hold one websocket per token, record (client, external_id, t) per event."""
    asyncio.run(_listen(ws_url, tokens, ready, stop, results, counter))


async def _listen(ws_url: str, tokens: list[str], ready, stop, results, counter) -> None:
    """aiohttp's client, whose frame reader is compiled: the listeners share the CPUs with Heron, so
    they should cost as little as they can (the report prints what they cost)."""
    received: list[tuple[int, str, float]] = []
    errors: list[str] = []
    sockets = []
    async with aiohttp.ClientSession() as session:
        for token in tokens:
            ws = await session.ws_connect(ws_url, headers={"Authorization": f"Token {token}"}, max_msg_size=2**22)
            hello = await ws.receive_json()
            if hello.get("type") != "hello":
                raise RuntimeError(f"expected hello, got {hello}")
            sockets.append(ws)
        ready.set()

        async def reader(index: int, ws) -> None:
            try:
                async for frame in ws:
                    now = time.monotonic()
                    if frame.type != aiohttp.WSMsgType.TEXT or MESSAGE_CREATED not in frame.data:
                        continue
                    # The message's own id: no other object in the frame has one. A wrong pick would
                    # fail the exactly-once check of every delivery.
                    external_id = EXTERNAL_ID.search(frame.data)
                    received.append((index, external_id.group(1) if external_id else "", now))
                    with counter.get_lock():
                        counter.value += 1
            except Exception as exc:  # noqa: BLE001 - reported, not fatal
                errors.append(f"{type(exc).__name__}: {exc}")

        tasks = [asyncio.create_task(reader(i, ws)) for i, ws in enumerate(sockets)]
        while not stop.is_set():
            await asyncio.sleep(0.05)
        for ws in sockets:
            await ws.close()
        await asyncio.gather(*tasks, return_exceptions=True)
    results.put({"received": received, "errors": errors[:5], "clients": len(sockets)})


# ----------------------------------------------------------------------------- sender
async def send_open_loop(server_url: str, hooks, rate: float, max_in_flight: int) -> dict:
    """POST at `rate`/s on a fixed schedule, at most `max_in_flight` outstanding (else wait for one)."""
    sent_at: dict[str, float] = {}
    slots = asyncio.Semaphore(max_in_flight)
    async with Poster(server_url, max_in_flight) as poster:

        async def post(hook) -> None:
            try:
                sent_at[hook.external_id] = time.monotonic()
                await poster.post(hook.path, hook.body, hook.headers)
            finally:
                slots.release()

        tasks = []
        t0 = time.monotonic() + 0.05
        for i, hook in enumerate(hooks):
            delay = t0 + i / rate - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            await slots.acquire()
            tasks.append(asyncio.create_task(post(hook)))
        scheduled = time.monotonic() - t0
        await asyncio.gather(*tasks)
    return {"sent_at": sent_at, "latencies": poster.latencies, "failures": poster.failures,
            "achieved_rate": round(len(hooks) / max(scheduled, 1e-9), 1) if len(hooks) > 1 else None}


def _load_generator_cpu_seconds(listeners) -> float:
    """This process (the sender) and the socket-client processes."""
    return time.process_time() + sum(process_tree_cpu_seconds(proc.pid) for proc, _ready, _server in listeners)


def drain(counter, expected: int, grace: float) -> None:
    """Wait until the sockets have every event sent so far (a backlog must not spill into the next
    phase), at most 120 s; then `grace` seconds more for strays."""
    deadline = time.monotonic() + 120
    while counter.value < expected and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(grace)


# ----------------------------------------------------------------------------- analysis
def stats(values: list[float]) -> dict:
    return {"n": len(values), "p50_ms": ms(percentile(values, 50)), "p90_ms": ms(percentile(values, 90)),
            "p99_ms": ms(percentile(values, 99)), "max_ms": ms(max(values)) if values else None}


def analyze(collected: list[dict], sent: dict, clients: int, problems: list[str], label: str,
            first_of_sender: set[str] = frozenset()) -> dict:
    """Latencies of one phase's messages; listener 0 holds the sockets on the webhook's process.
    `first_of_sender`: the webhooks from a customer Heron has not met (a new contact and conversation)."""
    sent_at = sent["sent_at"]
    same, cross, new, known, seen = [], [], [], [], set()
    duplicates = 0
    for which, result in enumerate(collected):
        for client, external_id, at in result["received"]:
            if external_id not in sent_at:
                continue  # warm-up, or the other phase
            key = (which, client, external_id)
            if key in seen:
                duplicates += 1
                continue
            seen.add(key)
            latency = at - sent_at[external_id]
            (same if which == 0 else cross).append(latency)
            (new if external_id in first_of_sender else known).append(latency)
    expected = clients * len(sent_at)
    if sent["failures"]:
        problems.append(f"{label}: {len(sent['failures'])} webhooks failed, e.g. {sent['failures'][:2]}")
    if len(same) + len(cross) != expected:
        problems.append(f"{label}: {expected - len(same) - len(cross)} of {expected} deliveries missing")
    if duplicates:
        problems.append(f"{label}: {duplicates} duplicate deliveries")
    return {"all": stats(same + cross), "same_process": stats(same), "cross_process": stats(cross),
            "new_customer": stats(new), "known_customer": stats(known), "webhook_response": stats(sent["latencies"])}


# ----------------------------------------------------------------------------- run
def run(args) -> dict:
    server_url, redis_url = require_env()
    db_url = fresh_database(server_url, DB_NAME)
    admin_token = create_user(db_url, "bench@x", "admin")
    agent_token = create_user(db_url, "agent@x", "agent", teams=[TEAM])
    env = {"DB_CONN_MAX_AGE": str(args.conn_max_age)} if args.conn_max_age is not None else {}
    env["CELERY_TASK_ALWAYS_EAGER"] = "1" if args.inline else "0"
    servers = [Server(db_url, redis_url, name=f"realtime-{i}", **env) for i in range(2)]
    worker = None if args.inline else Worker(db_url, redis_url, name="realtime-worker",
                                             concurrency=args.worker_concurrency, public_url=servers[0].url)
    ctx = multiprocessing.get_context("spawn")
    listeners = []
    try:
        factory = WebhookFactory(servers[0].url, admin_token, team=TEAM)
        if factory.note:
            print(f"NOTE: {factory.note}", flush=True)
        results = ctx.Queue()
        stop = ctx.Event()
        counter = ctx.Value("q", 0)
        per_server = [args.clients // 2 + args.clients % 2, args.clients // 2]
        for server, count in zip(servers, per_server, strict=True):
            tokens = [admin_token if i % 2 == 0 else agent_token for i in range(count)]
            ready = ctx.Event()
            proc = ctx.Process(target=listen, args=(server.ws_url, tokens, ready, stop, results, counter),
                               daemon=True)
            proc.start()
            listeners.append((proc, ready, server))
        for _proc, ready, _server in listeners:
            if not ready.wait(60):
                raise BenchError("websocket clients did not connect within 60 s")

        total = int(args.rate * args.seconds)
        warm = [factory.build(i, sender_number(5000 + i)) for i in range(20)]
        hooks = [factory.build(i, sender_number(i % SENDERS)) for i in range(total)]
        first_of_sender = {hook.external_id for hook in hooks[:SENDERS]}
        asyncio.run(send_open_loop(servers[0].url, warm, 20, args.max_in_flight))
        drain(counter, args.clients * len(warm), args.grace)
        print(f"realtime: {args.clients} websockets on 2 processes, {total} {factory.channel} webhooks "
              f"at {args.rate}/s ...", flush=True)
        processes = {"ASGI (webhooks)": servers[0], "ASGI (sockets only)": servers[1]}
        if worker:
            processes["worker"] = worker
        cpu_before = {name: process.cpu_seconds() for name, process in processes.items()}
        load_before = _load_generator_cpu_seconds(listeners)
        machine_before = machine_cpu_ticks()
        sent = asyncio.run(send_open_loop(servers[0].url, hooks, args.rate, args.max_in_flight))
        drain(counter, args.clients * (len(warm) + len(hooks)), args.grace)
        machine_busy = busy_fraction(machine_before, machine_cpu_ticks())
        cpu_ms = {name: round((process.cpu_seconds() - cpu_before[name]) * 1000 / len(hooks), 2)
                  for name, process in processes.items()}
        cpu_ms["load generator (sender + socket clients)"] = round(
            (_load_generator_cpu_seconds(listeners) - load_before) * 1000 / len(hooks), 2)
        low = None
        if args.low_rate:
            # The same path well below capacity: fan-out latency without a queue in front of it.
            low_hooks = [factory.build(i, sender_number(i % SENDERS)) for i in range(int(args.low_rate * args.seconds))]
            print(f"realtime: then {len(low_hooks)} webhooks at {args.low_rate}/s ...", flush=True)
            low = asyncio.run(send_open_loop(servers[0].url, low_hooks, args.low_rate, args.max_in_flight))
            drain(counter, args.clients * (len(warm) + len(hooks) + len(low_hooks)), args.grace)
        stop.set()
        collected = [results.get(timeout=60) for _ in listeners]
        logs = "".join(process.output() for process in [*servers, *([worker] if worker else [])])
    finally:
        for proc, _ready, _server in listeners:
            proc.join(timeout=10)
            if proc.is_alive():
                proc.terminate()
        for process in [*servers, *([worker] if worker else [])]:
            process.stop()

    clients = sum(r["clients"] for r in collected)
    problems = [f"websocket errors: {r['errors']}" for r in collected if r["errors"]]
    if "Traceback" in logs:
        problems.append("a server logged a traceback: see var/bench/realtime-*.log")
    main = analyze(collected, sent, clients, problems, f"at {args.rate}/s", first_of_sender)
    slow = analyze(collected, low, clients, problems, f"at {args.low_rate}/s") if low else None
    saturated = bool(sent["achieved_rate"] and sent["achieved_rate"] < 0.95 * args.rate)
    result = {
        "benchmark": "realtime",
        "channel": factory.channel,
        "note": factory.note,
        "clients": clients,
        "rate": args.rate,
        "achieved_rate": sent["achieved_rate"],
        "saturated": saturated,
        "max_in_flight": args.max_in_flight,
        "cpu_ms_per_webhook": cpu_ms,
        "machine_busy": machine_busy,
        "mode": "recorded in the request" if args.inline else f"Celery worker, concurrency {args.worker_concurrency}",
        "messages": len(hooks),
        "db_conn_max_age": args.conn_max_age if args.conn_max_age is not None else "app default (0)",
        **main,
        "low_rate": {"rate": args.low_rate, "achieved_rate": low["achieved_rate"], **slow} if low else None,
        "target": f"p99 <= {TARGET_P99_MS} ms",
        "meets_target": (not saturated and main["all"]["n"] > 0 and main["all"]["p99_ms"] <= TARGET_P99_MS
                         and not problems),
        "problems": problems,
        "machine": machine_info(db_url),
    }
    if not args.keep_db:
        drop_database(server_url, DB_NAME)
    return result


def _rows(phase: dict) -> list[list]:
    rows = []
    for key, label in [("all", "all deliveries"), ("same_process", "socket on the ASGI process that took the webhook"),
                       ("cross_process", "socket on the other ASGI process"),
                       ("new_customer", "first message of a new customer"),
                       ("known_customer", "message of a known customer"),
                       ("webhook_response", "webhook HTTP response")]:
        s = phase.get(key)
        if not s or not s["n"]:
            continue
        rows.append([label, s["n"], s["p50_ms"], s["p90_ms"], s["p99_ms"], s["max_ms"]])
    return rows


def report(result: dict) -> str:
    head = ["webhook sent → message.created", "n", "p50 ms", "p90 ms", "p99 ms", "max ms"]
    lines = [
        f"At {result['rate']}/s offered (achieved {result['achieved_rate']}/s, at most {result['max_in_flight']} "
        f"webhooks in flight), {result['messages']} {result['channel']} webhooks, {result['clients']} websockets, "
        f"{result.get('mode', 'recorded in the request')}:",
        table(head, _rows(result)),
        f"target p99 <= {TARGET_P99_MS} ms at {result['rate']}/s: {'MET' if result['meets_target'] else 'NOT MET'}",
        "CPU ms per webhook (process tree, /proc): "
        + ", ".join(f"{name} {value}" for name, value in result.get("cpu_ms_per_webhook", {}).items()),
        f"machine CPU busy while sending and draining: {result['machine_busy']:.0%} of {os.cpu_count()} CPUs "
        "(PostgreSQL and Redis included)",
    ]
    if result["saturated"]:
        lines.append(f"FINDING: Heron on this machine could not take {result['rate']} webhooks/s "
                     f"(achieved {result['achieved_rate']}/s): the latencies above are mostly queueing")
    if result["low_rate"]:
        low = result["low_rate"]
        lines += ["", f"At {low['rate']}/s offered (achieved {low['achieved_rate']}/s), below capacity:",
                  table(head, _rows(low))]
    if result["note"]:
        lines.insert(0, f"NOTE: {result['note']}")
    for problem in result["problems"]:
        lines.append(f"PROBLEM: {problem}")
    return "\n".join(lines)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--rate", type=float, default=100, help="webhooks per second")
    parser.add_argument("--seconds", type=float, default=None, help="how long to send (default 10, --quick 3)")
    parser.add_argument("--max-in-flight", type=int, default=32,
                        help="webhooks outstanding at most; beyond it the sender waits (and the rate drops)")
    parser.add_argument("--low-rate", type=float, default=5,
                        help="then the same at this low rate (0: skip), to see fan-out without queueing")
    parser.add_argument("--grace", type=float, default=1,
                        help="seconds to wait for strays once every expected event has arrived")
    parser.add_argument("--worker-concurrency", type=int, default=2, help="Celery worker processes")
    parser.add_argument("--inline", action="store_true", help="record in the request (Celery eager), no worker")
    add_common_arguments(parser, DB_NAME)
    args = parser.parse_args(argv)
    if args.seconds is None:
        args.seconds = 3 if args.quick else 10
    return args


def main(argv=None) -> int:
    return run_main("realtime", parse_args(argv), run, report)


if __name__ == "__main__":
    sys.exit(main())
