"""Shared plumbing for the benchmarks: a fresh database, uvicorn processes, statistics.

Nothing here imports Django: each benchmark runs in its own process, and only `reads` sets
Django up in-process (on its own database) to count queries.
"""

from __future__ import annotations

import contextlib
import json
import os
import platform
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import aiohttp
import httpx
import psycopg
from cryptography.fernet import Fernet
from psycopg import sql

ROOT = Path(__file__).resolve().parent.parent
LOG_DIR = Path(os.environ.get("HERON_BENCH_LOG_DIR", ROOT / "var" / "bench"))
# The bench's own table for the baseline endpoint (see bench/baseline_asgi.py).
BASELINE_TABLE = "bench_baseline"
# Heron refuses its development secrets outside DEBUG: each run makes its own, in the environment so
# that every process it starts shares them (the load generator signs simulator webhooks with SECRET_KEY).
os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(50))
os.environ.setdefault("FIELD_ENCRYPTION_KEY", Fernet.generate_key().decode())
os.environ.setdefault("ANYMAIL_WEBHOOK_SECRET", "heron-bench:" + secrets.token_urlsafe(32))
SECRET_KEY = os.environ["SECRET_KEY"]


class BenchError(RuntimeError):
    """A benchmark that cannot produce a trustworthy figure says so and stops."""


# ----------------------------------------------------------------------------- environment
def require_env() -> tuple[str, str]:
    database_url = os.environ.get("DATABASE_URL", "")
    redis_url = os.environ.get("REDIS_URL", "")
    if not database_url.startswith(("postgres://", "postgresql://")):
        raise BenchError("DATABASE_URL must point at a PostgreSQL server (run `make bench`, or see bench/README.md)")
    if not redis_url:
        raise BenchError("REDIS_URL must be set (run `make bench`, or see bench/README.md)")
    return database_url, redis_url


def with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + name, parts.query, parts.fragment))


def pg_conninfo(url: str) -> str:
    """psycopg accepts postgres:// URLs; normalise the scheme anyway."""
    return "postgresql://" + url.split("://", 1)[1]


def fresh_database(server_url: str, name: str) -> str:
    """Drop and create `name` on the server of `server_url`, migrate it, return its URL."""
    with psycopg.connect(pg_conninfo(server_url), autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    url = with_database(server_url, name)
    manage("migrate", "--noinput", database_url=url)
    with psycopg.connect(pg_conninfo(url), autocommit=True) as conn:
        conn.execute(
            sql.SQL("CREATE TABLE {} (id bigserial PRIMARY KEY, body text NOT NULL, created_at timestamptz NOT NULL)")
            .format(sql.Identifier(BASELINE_TABLE))
        )
    return url


def drop_database(server_url: str, name: str) -> None:
    with psycopg.connect(pg_conninfo(server_url), autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def child_env(database_url: str, **overrides: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        DATABASE_URL=database_url,
        DEBUG="0",
        LOG_LEVEL="WARNING",
        HERON_LOG_LEVEL="WARNING",
        PYTHONUNBUFFERED="1",
        HERON_VAR_DIR=str(LOG_DIR / "var"),
    )
    env.update(overrides)
    return env


def manage(*args: str, database_url: str, **env: str) -> str:
    result = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=child_env(database_url, **env),
        capture_output=True, text=True,
    )
    if result.returncode != 0:
        raise BenchError(f"manage.py {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result.stdout


def create_user(database_url: str, email: str, role: str, teams: list[str] = ()) -> str:
    """A Heron user through the public command; returns its API token."""
    args = ["create_agent", email, "--role", role, "--print-token"]
    for team in teams:
        args += ["--team", team]
    return manage(*args, database_url=database_url).strip().splitlines()[-1]


def sms_adapter_present() -> bool:
    return (ROOT / "channels_adapters" / "twilio_sms" / "webhooks.py").exists()


# ----------------------------------------------------------------------------- processes
def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _processes() -> dict[int, tuple[int, str, int]]:
    """pid → (parent pid, command name, CPU ticks so far: utime + stime) of every live process."""
    table = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:  # the process has just exited
            continue
        name, fields = text[text.index("(") + 1:text.rindex(")")], text.rsplit(")", 1)[1].split()
        table[int(stat.parent.name)] = (int(fields[1]), name, int(fields[11]) + int(fields[12]))
    return table


def _process_tree(root: int, processes: dict[int, tuple[int, str, int]] | None = None) -> dict[int, int]:
    """pid → CPU ticks so far (utime + stime), for `root` and its live descendants."""
    processes = _processes() if processes is None else processes
    children: dict[int, list[int]] = {}
    for pid, (ppid, _name, _ticks) in processes.items():
        children.setdefault(ppid, []).append(pid)
    tree, todo = {}, [root]
    while todo:
        pid = todo.pop()
        tree[pid] = processes[pid][2] if pid in processes else 0
        todo.extend(children.get(pid, []))
    return tree


def process_tree_cpu_seconds(root: int) -> float:
    return sum(_process_tree(root).values()) / os.sysconf("SC_CLK_TCK")


def machine_cpu_ticks() -> tuple[int, int]:
    """(busy, total) CPU ticks of the whole machine so far (/proc/stat): how saturated it was between two calls."""
    fields = [int(value) for value in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    return sum(fields) - idle, sum(fields)


def busy_fraction(before: tuple[int, int], after: tuple[int, int]) -> float:
    return round((after[0] - before[0]) / max(after[1] - before[1], 1), 3)


# Command names of the services a benchmark's requests also cost CPU in, when they run on this machine.
SERVICE_PROCESSES = {"postgres": "PostgreSQL", "redis-server": "Redis"}


def cpu_reading(parts: dict[str, int]) -> tuple[dict[int, tuple[str, int]], int]:
    """Every live process's CPU ticks so far, under the name of the benchmark part it belongs to, and
    the machine's idle ticks. `parts` names process trees by their root pid (uvicorn, the worker);
    PostgreSQL and Redis are named by command, this process is the load generator, the rest "other"."""
    processes = _processes()
    part_of = {pid: name for name, root in parts.items() for pid in _process_tree(root, processes)}
    part_of[os.getpid()] = "load generator"
    reading = {pid: (part_of.get(pid) or SERVICE_PROCESSES.get(name, "other"), ticks)
               for pid, (_ppid, name, ticks) in processes.items()}
    busy, total = machine_cpu_ticks()
    return reading, total - busy


@contextlib.contextmanager
def cpu_tally(totals: dict[str, float], parts: dict[str, int]):
    """Adds the CPU seconds spent meanwhile, by benchmark part (`cpu_reading`), and the machine's idle
    seconds (summed over its CPUs), to `totals`. A process that exits meanwhile is missed."""
    before, idle_before = cpu_reading(parts)
    yield
    after, idle_after = cpu_reading(parts)
    tick = os.sysconf("SC_CLK_TCK")
    for pid, (part, ticks) in after.items():
        totals[part] = totals.get(part, 0.0) + (ticks - before.get(pid, (part, 0))[1]) / tick
    totals["idle"] = totals.get("idle", 0.0) + (idle_after - idle_before) / tick


class Poster:
    """The load generator's HTTP client: keep-alive connections, at most `concurrency` in flight;
    collects latencies (seconds) and failures (a refused connection, a status >= 300).

    aiohttp, not httpx: here it costs about 0.1 ms of CPU per POST against httpx's 1.5 ms, and the
    load generator shares the CPUs with Heron (at 250 requests/s httpx alone took a fifth of one).
    """

    def __init__(self, base_url: str, concurrency: int, timeout: float = 60):
        self.base_url = base_url
        self.connector = aiohttp.TCPConnector(limit=concurrency)
        self.timeout = aiohttp.ClientTimeout(total=timeout)
        self.latencies: list[float] = []
        self.failures: list[str] = []

    async def __aenter__(self) -> Poster:
        self.session = aiohttp.ClientSession(self.base_url, connector=self.connector, timeout=self.timeout)
        return self

    async def __aexit__(self, *exc) -> None:
        await self.session.close()

    async def post(self, path: str, body: bytes, headers: dict) -> bool:
        """POST and record the outcome; True if answered below 300."""
        start = time.perf_counter()
        try:
            async with self.session.post(path, data=body, headers=headers) as response:
                text = await response.text()
        except (aiohttp.ClientError, TimeoutError) as exc:
            self.failures.append(f"{type(exc).__name__}: {exc}")
            return False
        self.latencies.append(time.perf_counter() - start)
        if response.status >= 300:
            self.failures.append(f"{response.status} {text[:200]}")
            return False
        return True


class _Process:
    """A child process whose output goes to var/bench/<name>.log; a context manager that stops it."""

    def __init__(self, args: list[str], env: dict[str, str], name: str, *, own_session: bool = False):
        LOG_DIR.mkdir(parents=True, exist_ok=True)
        self.log_path = LOG_DIR / f"{name}.log"
        self.log = open(self.log_path, "wb")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(args, cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT,
                                     start_new_session=own_session)

    def cpu_seconds(self) -> float:
        """User + system CPU time so far of the process and its live descendants (Celery's prefork
        children): what the work cost, whatever else runs on the machine."""
        return process_tree_cpu_seconds(self.proc.pid)

    def output(self) -> str:
        self.log.flush()
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


class Server(_Process):
    """One uvicorn process (one worker) serving the bench wrapper around Heron's ASGI app.

    Tasks run inline unless `CELERY_TASK_ALWAYS_EAGER="0"` is passed (then start a `Worker`).
    """

    def __init__(self, database_url: str, redis_url: str, *, name: str, app: str = "bench.baseline_asgi:app",
                 workers: int = 1, **env_overrides: str):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.ws_url = f"ws://127.0.0.1:{self.port}/ws/inbox/"
        env = child_env(
            database_url, REDIS_URL=redis_url, PUBLIC_BASE_URL=self.url, ALLOWED_HOSTS="127.0.0.1,localhost",
            **{"CELERY_TASK_ALWAYS_EAGER": "1", **env_overrides},
        )
        super().__init__(
            [sys.executable, "-m", "uvicorn", app, "--host", "127.0.0.1", "--port", str(self.port),
             "--workers", str(workers), "--log-level", "warning", "--no-access-log"],
            env, name,
        )
        self._wait_ready()

    def _wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise BenchError(f"uvicorn exited:\n{self.output()}")
            try:
                if httpx.get(self.url + "/healthz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise BenchError(f"uvicorn did not start:\n{self.output()}")


class Worker(_Process):
    """A Celery worker on Redis, as production runs one beside the ASGI processes: started as a
    service manager starts it, leading a session of its own."""

    def __init__(self, database_url: str, redis_url: str, *, name: str, concurrency: int, public_url: str):
        env = child_env(database_url, REDIS_URL=redis_url, PUBLIC_BASE_URL=public_url, CELERY_TASK_ALWAYS_EAGER="0")
        super().__init__(
            [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool=prefork",
             f"--concurrency={concurrency}", "--loglevel=INFO", "--without-gossip", "--without-mingle",
             "--without-heartbeat"],
            env, name, own_session=True,
        )
        deadline = time.monotonic() + 60
        while "ready." not in self.output():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise BenchError(f"celery worker did not start:\n{self.output()}")
            time.sleep(0.2)

    @contextlib.contextmanager
    def paused(self):
        """Every process of the worker stopped (SIGSTOP) meanwhile, to see what the machine does
        without it. Only while its queue is drained: it then holds no transaction, and a task sent
        meanwhile waits for it in Redis."""
        pids = list(_process_tree(self.proc.pid))
        for pid in pids:
            os.kill(pid, signal.SIGSTOP)
        try:
            yield
        finally:
            for pid in pids:
                os.kill(pid, signal.SIGCONT)


def wait_until_recorded(db_url: str, inbox_id: int, expected: int, timeout: float = 600) -> float:
    """Seconds until `expected` raw events of the inbox are no longer pending (polled every 20 ms)."""
    start = time.perf_counter()
    with psycopg.connect(pg_conninfo(db_url), autocommit=True) as conn:
        while time.perf_counter() - start < timeout:
            done = conn.execute(
                "SELECT count(*) FROM inbox_rawinboundevent WHERE inbox_id = %s AND result <> 'pending'", [inbox_id]
            ).fetchone()[0]
            if done >= expected:
                return time.perf_counter() - start
            time.sleep(0.02)
    raise BenchError(f"the worker did not record {expected} webhooks within {timeout} s")


def add_production_arguments(parser) -> None:
    """How the throughput benchmarks run Heron: uvicorn processes taking webhooks, a Celery worker
    recording them (README, Production)."""
    parser.add_argument("--uvicorn-workers", type=int, default=2,
                        help="uvicorn processes serving Heron (and the baseline), one per CPU here")
    parser.add_argument("--worker-concurrency", type=int, default=2, help="Celery worker processes")
    parser.add_argument("--inline", action="store_true", help="record in the request (Celery eager), no worker")


def production_mode(args) -> str:
    recording = "recorded in the request" if args.inline else (
        f"recorded by a Celery worker (concurrency {args.worker_concurrency})")
    return f"{args.uvicorn_workers} uvicorn worker(s), {recording}"


@contextlib.contextmanager
def production_stack(database_url: str, redis_url: str, args, *, name: str, **server_options):
    """(server, worker or None) as `add_production_arguments` describe them; both stopped afterwards."""
    server_options.setdefault("CELERY_TASK_ALWAYS_EAGER", "1" if args.inline else "0")
    with Server(database_url, redis_url, name=name, workers=args.uvicorn_workers, **server_options) as server:
        if args.inline:
            yield server, None
            return
        with Worker(database_url, redis_url, name=f"{name}-worker", concurrency=args.worker_concurrency,
                    public_url=server.url) as worker:
            yield server, worker


# ----------------------------------------------------------------------------- numbers
def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile (p in 0..100) of a non-empty list."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, min(len(ordered), int(-(-p * len(ordered) // 100))))
    return ordered[rank - 1]


def ms(seconds: float) -> float:
    return round(seconds * 1000, 2)


def table(headers: list[str], rows: list[list]) -> str:
    """A Markdown table, readable on a terminal too."""
    cells = [[str(c) for c in headers]] + [[str(c) for c in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]

    def line(row):
        return "| " + " | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) + " |"

    out = [line(cells[0]), "|" + "|".join("-" * (w + 2) for w in widths) + "|"]
    out += [line(row) for row in cells[1:]]
    return "\n".join(out)


def machine_info(database_url: str | None = None) -> dict:
    mem_gib = None
    try:
        for row in Path("/proc/meminfo").read_text().splitlines():
            if row.startswith("MemTotal:"):
                mem_gib = round(int(row.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    info = {
        "date": subprocess.run(["date", "-u", "+%Y-%m-%d %H:%M UTC"], capture_output=True, text=True).stdout.strip(),
        "cpus": os.cpu_count(),
        "memory_gib": mem_gib,
        "arch": platform.machine(),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "postgresql": None,
        "redis": None,
    }
    if database_url:
        try:
            with psycopg.connect(pg_conninfo(database_url)) as conn:
                info["postgresql"] = conn.execute("SHOW server_version").fetchone()[0]
        except psycopg.Error:
            pass
    if shutil.which("redis-server"):
        out = subprocess.run(["redis-server", "--version"], capture_output=True, text=True).stdout
        info["redis"] = next((w.split("=", 1)[1] for w in out.split() if w.startswith("v=")), None)
    return info


def write_json(path: str | None, data: dict) -> None:
    if path:
        Path(path).write_text(json.dumps(data, indent=2, default=str))


def add_common_arguments(parser, db_name: str) -> None:
    """The options every database benchmark takes."""
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--conn-max-age", type=int, default=None,
                        help="DB_CONN_MAX_AGE for the server(s) (default: the app's default)")
    parser.add_argument("--keep-db", action="store_true", help=f"keep the {db_name} database afterwards")
    parser.add_argument("--json", help="also write the result as JSON to this file")


def run_main(name: str, args, run, report) -> int:
    """Run one benchmark: 2 when it could not produce a figure, 1 when its result has problems."""
    try:
        result = run(args)
    except BenchError as exc:
        print(f"{name} benchmark FAILED: {exc}", file=sys.stderr)
        return 2
    print(report(result))
    write_json(args.json, result)
    return 1 if result["problems"] else 0
