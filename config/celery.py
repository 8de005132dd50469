import logging
import os
from pathlib import Path

from celery import Celery
from celery.signals import beat_init, task_postrun, worker_init

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

log = logging.getLogger("heron.worker")

app = Celery("heron")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks(["inbox"])
app.conf.beat_schedule = {
    "wake-snoozed": {
        "task": "inbox.tasks.wake_snoozed_conversations",
        "schedule": float(os.environ.get("HERON_SNOOZE_CHECK_SECONDS", "60")),
    },
    "sweep-sends": {  # retries that are due, and sends whose worker died mid-call (inbox/services/outbound.py)
        "task": "inbox.tasks.sweep_sends",
        "schedule": float(os.environ.get("HERON_SEND_SWEEP_SECONDS", "10")),
    },
    "process-stale-raw-events": {
        "task": "inbox.tasks.process_stale_raw_events",
        "schedule": float(os.environ.get("HERON_STALE_EVENTS_CHECK_SECONDS", "60")),
    },
    "poll-google-reviews": {
        "task": "channels_adapters.google_reviews.tasks.poll_google_reviews",
        "schedule": float(os.environ.get("GOOGLE_REVIEWS_POLL_SECONDS", "600")),
    },
}


@worker_init.connect
@beat_init.connect
def refuse_unsafe_settings(**kwargs) -> None:
    """A worker or beat refuses to start with the development secrets outside DEBUG (config/checks.py)."""
    from config.checks import refuse_unsafe_start

    refuse_unsafe_start()


@task_postrun.connect
def return_database_connection(task=None, **kwargs) -> None:
    """What Django does after a request: give the connection back to the pool (or drop a broken one).
    Not for an eager task, which runs inside its caller's request or transaction."""
    from django.db import close_old_connections

    if task is not None and not getattr(task.request, "is_eager", False):
        close_old_connections()


@worker_init.connect
def lower_worker_priority(**kwargs) -> None:
    """HERON_WORKER_NICE, before the pool forks (its processes inherit it and the signal receiver)."""
    from django.conf import settings
    from django.db.backends.signals import connection_created

    if settings.HERON["WORKER_NICE"] > 0:
        lower_cpu_priority(settings.HERON["WORKER_NICE"])
        connection_created.connect(lower_database_priority, dispatch_uid=LOWER_DATABASE_PRIORITY)


def lower_cpu_priority(nice: int, pid: int | None = None) -> None:
    """Run process `pid` (this one by default) at niceness `nice` (never higher priority than now),
    in a way that holds however it was started.

    Linux ranks a process's niceness only against the processes of its own session (autogroups, on
    by default in Debian and Ubuntu): a worker that leads a session of its own, as under systemd or
    `setsid`, competes with the ASGI processes' session as an equal, nice or not. Started so at nice
    19, it took half the webhook rate in bench/ingest (ratio 0.20 and 0.25, against 0.53 and 0.50
    in the ASGI processes' session). Such a process also lowers its session's priority; a worker's
    session holds only the worker and its pool. One that shares a session (a shell, a supervisor)
    must not: the ASGI processes may be in it.

    At 19, the lowest niceness, the process also joins Linux's idle scheduling class (SCHED_IDLE):
    an ASGI process that wakes then takes the CPU from it at once, where a nice-19 process could
    keep it for the rest of its time slice. In eight pairs of alternating bench/ingest runs (worker
    and backends): 0.519-0.577 against 0.466-0.561 (bench/RESULTS.md, eleventh session).
    """
    pid = pid or os.getpid()
    os.setpriority(os.PRIO_PROCESS, pid, max(nice, os.getpriority(os.PRIO_PROCESS, pid)))
    if nice >= 19 and hasattr(os, "SCHED_IDLE"):  # Linux only
        try:
            os.sched_setscheduler(pid, os.SCHED_IDLE, os.sched_param(0))
        except PermissionError:  # a sandbox that forbids it (seccomp): the niceness holds
            pass
    if os.getsid(pid) == pid:
        try:
            Path(f"/proc/{pid}/autogroup").write_text(str(nice))
        except OSError:  # no autogroups here (another OS, a kernel, a container), or not ours: niceness is all there is
            pass


LOWER_DATABASE_PRIORITY = "heron-worker-database-priority"
# Backends this process lowered (or left alone) already: a pooled connection is checked out again and again.
_seen_backends: set[int] = set()


def lower_database_priority(sender, connection, **kwargs) -> None:
    """The worker's niceness for the PostgreSQL backend that serves it, when it runs on this machine.

    Each connection's queries run in a backend process of the database server, which leads a
    session of its own: whatever the worker's niceness, the database work it asks for competed with
    the ASGI processes as an equal. In bench/ingest that work was most of what recording beside
    uvicorn took from it; with the worker's backends at nice 19 the ratio rose from 0.459-0.548 to
    0.528-0.599 in four pairs of alternating runs (bench/RESULTS.md, eleventh session).

    Only where the worker may: as the database's OS user, or as root (lowering the backend's
    session, like the worker's own, takes its owner); elsewhere nothing changes.
    """
    from django.conf import settings
    from django.db.backends.signals import connection_created

    if connection.vendor != "postgresql":
        return
    pid = connection.connection.info.backend_pid
    if pid in _seen_backends:
        return
    _seen_backends.add(pid)
    if not _is_our_backend(connection, pid):
        return
    try:
        lower_cpu_priority(settings.HERON["WORKER_NICE"], pid)
    except ProcessLookupError:  # the backend is gone already
        pass
    except PermissionError:
        log.info("the worker may not lower its PostgreSQL backends' priority (not the database's OS "
                 "user); only its own is lowered")
        connection_created.disconnect(dispatch_uid=LOWER_DATABASE_PRIORITY)


def _is_our_backend(connection, pid: int) -> bool:
    """Whether process `pid` of this machine is the connection's backend: the server is reached over
    a Unix socket or loopback, and the process started when the server says the backend did (a
    server in a container numbers its processes apart, so the same pid here is another process)."""
    from django.db import DatabaseError

    info = connection.connection.info
    if not (info.host.startswith("/") or info.hostaddr in ("127.0.0.1", "::1")):
        return False
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        boot = next(int(line.split()[1]) for line in Path("/proc/stat").read_text().splitlines()
                    if line.startswith("btime "))
    except (OSError, StopIteration):  # no such process here, or no /proc
        return False
    started = boot + int(fields[19]) / os.sysconf("SC_CLK_TCK")
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT extract(epoch FROM backend_start) FROM pg_stat_activity WHERE pid = pg_backend_pid()")
            (backend_start,) = cursor.fetchone()
    except DatabaseError:  # never a reason to fail the task that connected
        return False
    return abs(float(backend_start) - started) < 2  # btime is whole seconds
