"""Ingest throughput: signed inbound SMS webhooks end to end vs one bare INSERT per request.

Fresh database, Heron as production runs it: uvicorn (`--uvicorn-workers 2`, one per CPU here)
serving bench.baseline_asgi:app (Heron plus the baseline endpoints) and one Celery worker
(`--worker-concurrency` processes) on Redis, channels-redis publishing every event. The worker
shares the machine with uvicorn at the same CPU priority (docs/deploy.md says how to give taking
webhooks the lead in production).
The webhook is answered once stored and checked; the worker records the message
(inbox/services/raw_events.py). The load generator keeps `--concurrency` requests in flight over
keep-alive connections (aiohttp).

Three Heron figures, side by side:
- accepted: webhooks answered per second (what the provider sees), while the worker records the
  earlier ones on the same CPUs (the target is judged on this one);
- accepted with the worker paused: the same, in rounds of their own during which the worker's
  processes are stopped (SIGSTOP, its queue drained first): what taking webhooks costs alone, and so
  what recording beside it takes from it on a shared machine;
- recorded: messages stored per second from a round's first request until its last message is
  recorded (the queue drained). Baseline rounds start only once the queue is empty.

    python -m bench.ingest [--n 6000] [--rounds 6] [--concurrency 16] [--quick] [--inline]

`--inline` records in the request (Celery eager), as before deferral, for comparison.
Target: Heron's accepted rate / baseline rate >= 0.5. Afterwards the stored message count must
equal the number of webhooks sent, or the benchmark fails.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import psycopg  # noqa: E402

from bench.common import (  # noqa: E402
    BASELINE_TABLE,
    Poster,
    add_common_arguments,
    add_production_arguments,
    cpu_tally,
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
from bench.webhooks import Webhook, WebhookFactory, sender_number  # noqa: E402

DB_NAME = "heron_bench_ingest"
TARGET_RATIO = 0.5
# Kinds of rounds, as the CPU table names them.
ROUND_LABELS = {"heron": "Heron", "heron_alone": "Heron, worker paused", "baseline": "baseline",
                "django_floor": "Django-thread reference"}
CPU_PARTS = ["uvicorn", "worker", "PostgreSQL", "Redis", "load generator", "other", "idle"]
WARMUP = 50


async def fire(base_url: str, requests: list[tuple[str, bytes, dict]], concurrency: int) -> dict:
    """POST every request with `concurrency` in flight; returns elapsed time, latencies and failures."""
    queue = iter(requests)
    async with Poster(base_url, concurrency) as poster:

        async def worker():
            for path, body, headers in queue:
                await poster.post(path, body, headers)

        start = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - start
    return {"requests": len(requests), "elapsed": elapsed, "latencies": poster.latencies, "failures": poster.failures}


def summarize(runs: list[dict]) -> dict:
    """Rounds of one kind → one figure: total requests / total time."""
    requests = sum(r["requests"] for r in runs)
    elapsed = sum(r["elapsed"] for r in runs)
    latencies = [x for r in runs for x in r["latencies"]]
    failures = [x for r in runs for x in r["failures"]]
    return {
        "requests": requests, "seconds": round(elapsed, 2), "rate": round(requests / elapsed, 1),
        "round_rates": [round(r["requests"] / r["elapsed"], 1) for r in runs],
        "p50_ms": ms(percentile(latencies, 50)), "p99_ms": ms(percentile(latencies, 99)),
        "failures": len(failures), "first_failures": failures[:3],
    }


def as_requests(webhooks: list[Webhook]) -> list[tuple[str, bytes, dict]]:
    return [(w.path, w.body, w.headers) for w in webhooks]


def baseline_requests(n: int, path: str, like: list[Webhook]) -> list[tuple[str, bytes, dict]]:
    """Bodies of the same size as the webhooks, so both sides move the same bytes."""
    return [(path, like[i % len(like)].body, {"Content-Type": "application/octet-stream"}) for i in range(n)]


def run(args) -> dict:
    server_url, redis_url = require_env()
    db_url = fresh_database(server_url, DB_NAME)
    admin_token = create_user(db_url, "bench@x", "admin")
    env = {"DB_CONN_MAX_AGE": str(args.conn_max_age)} if args.conn_max_age is not None else {}
    with production_stack(db_url, redis_url, args, name="ingest", **env) as (server, worker):
        factory = WebhookFactory(server.url, admin_token)
        if factory.note:
            print(f"NOTE: {factory.note}", flush=True)
        inbox_id = factory.inbox["id"]
        senders = max(1, args.n // 4)
        warm = [factory.build(i, sender_number(10_000 + i)) for i in range(WARMUP)]
        hooks = [factory.build(i, sender_number(i % senders)) for i in range(args.n)]
        alone_hooks = [factory.build(i, sender_number(i % senders)) for i in range(args.n)] if worker else []

        asyncio.run(fire(server.url, as_requests(warm), args.concurrency))
        wait_until_recorded(db_url, inbox_id, WARMUP)
        asyncio.run(fire(server.url, baseline_requests(WARMUP, "/bench/baseline/", hooks), args.concurrency))
        asyncio.run(fire(server.url, baseline_requests(WARMUP, "/bench/baseline-django/", hooks), args.concurrency))

        mode = production_mode(args)
        print(f"ingest: {args.n} {factory.channel} webhooks, {args.concurrency} in flight, "
              f"{senders} senders, {args.rounds} interleaved rounds, {mode} ...", flush=True)
        # Interleaved rounds, so a neighbour's load on this machine hits every side alike.
        runs: dict[str, list[dict]] = {"heron": [], "heron_alone": [], "recorded": [], "baseline": [],
                                       "django_floor": []}
        # CPU seconds spent during each kind of round, by process (bench/common.py: cpu_tally): where
        # the machine's time goes per request, and robust to a neighbour's load, unlike the rates.
        parts = {"uvicorn": server.proc.pid, **({"worker": worker.proc.pid} if worker else {})}
        spent: dict[str, dict[str, float]] = {kind: {} for kind in ROUND_LABELS}
        record_cpu = 0.0
        per_round = -(-args.n // args.rounds)
        sent = WARMUP
        for start in range(0, args.n, per_round):
            chunk = hooks[start:start + per_round]
            worker_cpu = worker.cpu_seconds() if worker else 0.0
            with cpu_tally(spent["heron"], parts):
                heron = asyncio.run(fire(server.url, as_requests(chunk), args.concurrency))
            sent += len(chunk)
            drained = wait_until_recorded(db_url, inbox_id, sent)
            record_cpu += (worker.cpu_seconds() - worker_cpu) if worker else 0.0
            runs["heron"].append(heron)
            runs["recorded"].append({**heron, "elapsed": heron["elapsed"] + drained, "latencies": [], "failures": []})
            if worker:
                alone_chunk = alone_hooks[start:start + per_round]
                with worker.paused(), cpu_tally(spent["heron_alone"], parts):
                    runs["heron_alone"].append(asyncio.run(fire(server.url, as_requests(alone_chunk), args.concurrency)))
                sent += len(alone_chunk)
                wait_until_recorded(db_url, inbox_id, sent)
            for kind, path in [("baseline", "/bench/baseline/"), ("django_floor", "/bench/baseline-django/")]:
                with cpu_tally(spent[kind], parts):
                    runs[kind].append(
                        asyncio.run(fire(server.url, baseline_requests(len(chunk), path, chunk), args.concurrency))
                    )
        heron, baseline, django_floor = (summarize(runs[k]) for k in ("heron", "baseline", "django_floor"))
        heron_alone = summarize(runs["heron_alone"]) if worker else None
        recorded = summarize(runs["recorded"])
        server_log = server.output()

    with psycopg.connect(pg_conninfo(db_url)) as conn:
        stored = conn.execute(
            "SELECT count(*), count(DISTINCT external_id) FROM inbox_message WHERE inbox_id = %s", [inbox_id]
        ).fetchone()
        raw = dict(conn.execute("SELECT result, count(*) FROM inbox_rawinboundevent GROUP BY result").fetchall())
        contacts = conn.execute("SELECT count(*) FROM inbox_contact").fetchone()[0]
        events = conn.execute("SELECT count(*) FROM inbox_event WHERE type = 'message.created'").fetchone()[0]
        baseline_rows = conn.execute(f"SELECT count(*) FROM {BASELINE_TABLE}").fetchone()[0]

    expected = args.n * (2 if heron_alone else 1) + WARMUP
    problems = []
    for side in (heron, heron_alone):
        if side and side["failures"]:
            problems.append(f"{side['failures']} webhook requests failed, e.g. {side['first_failures']}")
    if baseline["failures"] or django_floor["failures"]:
        problems.append(f"baseline requests failed: {baseline['first_failures'] or django_floor['first_failures']}")
    if stored[0] != expected or stored[1] != expected:
        problems.append(f"stored {stored[0]} messages ({stored[1]} distinct ids), expected {expected}")
    if events != expected:
        problems.append(f"{events} message.created events, expected {expected}")
    if baseline_rows != 2 * (args.n + WARMUP):
        problems.append(f"baseline table holds {baseline_rows} rows, expected {2 * (args.n + WARMUP)}")
    if "Traceback" in server_log:
        problems.append("the server logged a traceback: see var/bench/ingest.log")

    ratio = heron["rate"] / baseline["rate"]
    # Each Heron round against the baseline round right after it: how much the ratio moves within a run.
    round_ratios = sorted(h / b for h, b in zip(heron["round_rates"], baseline["round_rates"], strict=True))
    result = {
        "benchmark": "ingest",
        "channel": factory.channel,
        "note": factory.note,
        "n": args.n,
        "concurrency": args.concurrency,
        "db_conn_max_age": args.conn_max_age if args.conn_max_age is not None else "app default (0)",
        "mode": production_mode(args),
        "heron": heron,
        "heron_alone": heron_alone,
        "ratio_worker_paused": round(heron_alone["rate"] / baseline["rate"], 3) if heron_alone else None,
        "recorded": recorded,
        "recorded_ratio": round(recorded["rate"] / baseline["rate"], 3),
        "baseline": baseline,
        "django_floor": django_floor,
        "ratio": round(ratio, 3),
        "round_ratios": {"min": round(round_ratios[0], 3), "median": round(statistics.median(round_ratios), 3),
                         "max": round(round_ratios[-1], 3)},
        "cpu_ms_per_request": {kind: {part: round(seconds * 1000 / args.n, 3) for part, seconds in by_part.items()}
                               for kind, by_part in spent.items() if by_part},
        "record_cpu_ms_per_message": round(record_cpu * 1000 / args.n, 2) if worker else None,
        "ratio_vs_django_floor": round(heron["rate"] / django_floor["rate"], 3),
        "target": f"ratio >= {TARGET_RATIO}",
        "meets_target": ratio >= TARGET_RATIO,
        "verified": {"messages": stored[0], "expected": expected, "raw_events": raw, "contacts": contacts,
                     "message_created_events": events, "baseline_rows": baseline_rows},
        "problems": problems,
        "machine": machine_info(db_url),
    }
    if not args.keep_db:
        drop_database(server_url, DB_NAME)
    return result


def report(result: dict) -> str:
    rows = [
        [f"Heron {result['channel']} webhook (accepted)", result["heron"]["rate"], result["heron"]["p50_ms"],
         result["heron"]["p99_ms"], result["heron"]["failures"]],
        *([["Heron, the same with the worker paused", result["heron_alone"]["rate"],
            result["heron_alone"]["p50_ms"], result["heron_alone"]["p99_ms"], result["heron_alone"]["failures"]]]
          if result["heron_alone"] else []),
        ["Heron: messages recorded (queue drained)", result["recorded"]["rate"], "", "", ""],
        ["baseline: 1 INSERT (async psycopg)", result["baseline"]["rate"], result["baseline"]["p50_ms"],
         result["baseline"]["p99_ms"], result["baseline"]["failures"]],
        ["reference: 1 INSERT in Django's sync thread", result["django_floor"]["rate"],
         result["django_floor"]["p50_ms"], result["django_floor"]["p99_ms"], result["django_floor"]["failures"]],
    ]
    lines = [
        table(["endpoint", "req/s", "p50 ms", "p99 ms", "failed"], rows),
        "",
        f"ratio Heron / baseline = {result['ratio']} (target >= {TARGET_RATIO}: "
        f"{'MET' if result['meets_target'] else 'NOT MET'}); "
        f"Heron / Django-thread reference = {result['ratio_vs_django_floor']}",
        f"round by round (each Heron round / the baseline round after it): min {result['round_ratios']['min']}, "
        f"median {result['round_ratios']['median']}, max {result['round_ratios']['max']}",
        *([f"with the worker paused: Heron / baseline = {result['ratio_worker_paused']} (taking webhooks alone; "
           "the gap to the ratio above is what recording beside it takes on this machine)"]
          if result["ratio_worker_paused"] is not None else []),
        f"recorded end to end / baseline = {result['recorded_ratio']} ({result['mode']})",
        "",
        "CPU ms per request during each kind of round, by process (/proc; idle: the machine's idle time, "
        "summed over its CPUs; total: CPUs x round time / requests):",
        cpu_table(result["cpu_ms_per_request"]),
        *([f"recording costs the worker {result['record_cpu_ms_per_message']} ms of CPU per message "
           "(its rounds and the drain after each)"] if result["record_cpu_ms_per_message"] is not None else []),
        "",
        f"verified: {result['verified']['messages']} messages stored for {result['verified']['expected']} "
        f"webhooks sent (incl. {WARMUP} warm-up{' and the paused-worker rounds' if result['heron_alone'] else ''}), "
        f"raw events {result['verified']['raw_events']}, "
        f"{result['verified']['contacts']} contacts",
    ]
    if result["note"]:
        lines.insert(0, f"NOTE: {result['note']}")
    for problem in result["problems"]:
        lines.append(f"PROBLEM: {problem}")
    return "\n".join(lines)


def cpu_table(cpu_ms: dict[str, dict[str, float]]) -> str:
    rows = [[ROUND_LABELS[kind], *(f"{by_part.get(part, 0.0):.2f}" for part in CPU_PARTS),
             f"{sum(by_part.values()):.2f}"] for kind, by_part in cpu_ms.items()]
    return table(["rounds", *CPU_PARTS, "total"], rows)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=None, help="webhooks to send (default 6000, --quick 600)")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=6, help="interleaved Heron/baseline rounds")
    add_production_arguments(parser)
    add_common_arguments(parser, DB_NAME)
    args = parser.parse_args(argv)
    if args.n is None:
        args.n = 600 if args.quick else 6000
    return args


def main(argv=None) -> int:
    return run_main("ingest", parse_args(argv), run, report)


if __name__ == "__main__":
    sys.exit(main())
