"""Run Heron's benchmarks in sequence, print a results table, optionally record bench/RESULTS.md.

    python bench/run_all.py [ingest|email_ingest|realtime|reads|frontend_size ...] [--quick] [--repeat K] [--record]

Needs DATABASE_URL (a PostgreSQL server; each benchmark creates and drops its own database) and
REDIS_URL, except `frontend_size` (it reads frontend/dist); `make bench` (scripts/run-bench.sh) starts throwaway ones. Each benchmark runs in its
own process (`python -m bench.<name>`), so Django is set up fresh for each database.

`--repeat K` runs each benchmark K times and keeps the median run (by its headline figure): on a
shared 2-CPU machine one run of `ingest` can land anywhere between 0.40 and 0.58, and a single draw
says more about luck than about the code. Every run's figure is printed and recorded beside it.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import ROOT, BenchError, machine_info, require_env, table  # noqa: E402

BENCHMARKS = ["ingest", "email_ingest", "realtime", "reads", "frontend_size"]
# Benchmarks that read files only: no PostgreSQL or Redis needed.
NO_SERVICES = {"frontend_size"}
RESULTS = ROOT / "bench" / "RESULTS.md"


def run_one(name: str, extra: list[str]) -> tuple[int, dict | None, str]:
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as handle:
        json_path = Path(handle.name)
    print(f"\n=== {name} ===", flush=True)
    proc = subprocess.run(
        [sys.executable, "-m", f"bench.{name}", "--json", str(json_path), *extra], cwd=ROOT,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    print(proc.stdout, flush=True)
    result = json.loads(json_path.read_text()) if json_path.stat().st_size else None
    json_path.unlink(missing_ok=True)
    return proc.returncode, result, proc.stdout


def headline(name: str, result: dict) -> tuple[float, bool]:
    """The figure a benchmark's target is judged on, and whether higher is better."""
    if name == "ingest":
        return result["ratio"], True
    if name == "email_ingest":
        return result["rate"], True
    if name == "realtime":
        return result["all"]["p99_ms"], False
    if name == "frontend_size":
        return result["initial_gzip_kb"], False
    return max(row[3] for row in result["rows"]), False  # reads: the worst p95


def median_run(name: str, runs: list[tuple[int, dict | None, str]]) -> tuple[tuple[int, dict | None, str], str]:
    """The run whose headline figure is the median (of an even count, the worse of the middle two),
    and a line listing every run's figure; any run that failed is returned instead, so it is seen."""
    if len(runs) == 1:
        return runs[0], ""
    failed = [run for run in runs if run[0] != 0 or run[1] is None]
    if failed:
        return failed[0], f"{len(failed)} of {len(runs)} runs failed; this is the first that did"
    figures = [headline(name, result) for _, result, _ in runs]
    higher_is_better = figures[0][1]
    order = sorted(range(len(runs)), key=lambda i: figures[i][0], reverse=not higher_is_better)  # worst first
    chosen = order[(len(runs) - 1) // 2]
    listed = ", ".join(str(figures[i][0]) for i in order)
    return runs[chosen], (f"median of {len(runs)} runs (figures worst first: {listed}); "
                          f"this is run {chosen + 1}, the median one")


def summary_rows(results: dict[str, dict | None], codes: dict[str, int]) -> list[list]:
    rows = []
    for name, result in results.items():
        if result is None:
            rows.append([name, f"FAILED to run (exit {codes[name]})", "", ""])
            continue
        if name == "ingest":
            figure = (f"Heron accepted {result['heron']['rate']} req/s ({result['channel']}), baseline "
                      f"{result['baseline']['rate']} req/s, ratio {result['ratio']}"
                      + (f" ({result['ratio_worker_paused']} with the worker paused)"
                         if result.get("ratio_worker_paused") is not None else "")
                      + f"; recorded end to end {result['recorded']['rate']} msg/s, ratio {result['recorded_ratio']}")
        elif name == "email_ingest":
            queries = result["queries"]["all"]["mean"]
            figure = (f"recorded {result['rate']} msg/s, accepted {result['http']['rate']} msg/s "
                      f"(p50 {result['http']['p50_ms']} ms, p99 {result['http']['p99_ms']} ms), "
                      f"{queries} SQL statements per email")
        elif name == "frontend_size":
            figure = (f"initial JS {result['initial_gzip_kb']} KB gzip ({result['initial_raw_kb']} KB raw, "
                      f"{len(result['initial'])} file(s)); lazy chunks {result['lazy_gzip_kb']} KB gzip")
        elif name == "realtime":
            figure = (f"p50 {result['all']['p50_ms']} ms, p99 {result['all']['p99_ms']} ms "
                      f"({result['clients']} sockets, {result['rate']}/s offered, "
                      f"{result['achieved_rate']}/s achieved)")
        else:
            worst = max(result["rows"], key=lambda r: r[3])
            figure = f"worst p95 {worst[3]} ms ({worst[0]} {worst[1]}); query counts equal: " + (
                "yes" if all(r[-3] == r[-2] for r in result["rows"]) else "NO")
        rows.append([name, figure, result["target"], "MET" if result["meets_target"] else "NOT MET"])
    return rows


def section(name: str, result: dict | None, code: int, output: str, quick: bool, repeats: str) -> str:
    machine = result["machine"] if result else machine_info()
    summary = summary_rows({name: result}, {name: code})[0]
    if name in NO_SERVICES:
        facts = f"Measured on the build in `{result['dist']}` dated {result['built_at']}." if result else ""
    else:
        facts = (f"Machine: {machine['cpus']} CPUs, {machine['memory_gib']} GiB RAM, {machine['arch']}, "
                 f"Linux {machine['kernel']}, Python {machine['python']}, PostgreSQL {machine['postgresql']}, "
                 f"Redis {machine['redis']}; load average at the end {machine['load_average']}.")
    return "\n".join([
        f"<!-- bench:{name}:begin -->",
        f"## {name}: {machine['date']}{' (--quick sizes)' if quick and name not in NO_SERVICES else ''}",
        "",
        facts,
        "",
        f"**{summary[1]}**; target {summary[2]}: **{summary[3]}**",
        "",
        *([f"Runs: {repeats}.", ""] if repeats else []),
        "```",
        output.strip(),
        "```",
        f"<!-- bench:{name}:end -->",
    ])


def record(sections: dict[str, str]) -> None:
    """Replace each benchmark's block in RESULTS.md (text around the blocks is kept)."""
    text = RESULTS.read_text() if RESULTS.exists() else "# Benchmark results\n"
    for name, block in sections.items():
        begin, end = f"<!-- bench:{name}:begin -->", f"<!-- bench:{name}:end -->"
        if begin in text and end in text:
            before, rest = text.split(begin, 1)
            text = before + block + rest.split(end, 1)[1]
        else:
            text = text.rstrip() + "\n\n" + block + "\n"
    RESULTS.write_text(text)
    print(f"recorded in {RESULTS.relative_to(ROOT)}")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("benchmarks", nargs="*", metavar="BENCHMARK",
                        help=f"which to run (default: all of {', '.join(BENCHMARKS)})")
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke run")
    parser.add_argument("--repeat", type=int, default=1, metavar="K",
                        help="run each benchmark K times and keep the median run (default 1)")
    parser.add_argument("--record", action="store_true", help="write the figures to bench/RESULTS.md")
    args = parser.parse_args(argv)
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    unknown = set(args.benchmarks) - set(BENCHMARKS)
    if unknown:
        parser.error(f"unknown benchmark {', '.join(sorted(unknown))}; choose from {', '.join(BENCHMARKS)}")
    selected = args.benchmarks or BENCHMARKS
    if set(selected) - NO_SERVICES:
        try:
            require_env()
        except BenchError as exc:
            print(exc, file=sys.stderr)
            return 2
    results, codes, outputs, repeats = {}, {}, {}, {}
    for name in selected:
        runs = [run_one(name, ["--quick"] if args.quick else []) for _ in range(args.repeat)]
        (codes[name], results[name], outputs[name]), repeats[name] = median_run(name, runs)
    print("\n=== summary ===")
    print(table(["benchmark", "figure", "target", "verdict"], summary_rows(results, codes)))
    for name in selected:
        if repeats[name]:
            print(f"{name}: {repeats[name]}")
    if args.record:
        record({name: section(name, results[name], codes[name], outputs[name], args.quick, repeats[name])
                for name in selected})
    # Exit non-zero only when a benchmark could not produce trustworthy figures (not for a missed target).
    return 0 if all(code == 0 for code in codes.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
