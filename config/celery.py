import os
from pathlib import Path

from celery import Celery
from celery.signals import task_postrun, worker_init

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("heron")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks(["inbox"])
app.conf.beat_schedule = {
    "wake-snoozed": {
        "task": "inbox.tasks.wake_snoozed_conversations",
        "schedule": float(os.environ.get("HERON_SNOOZE_CHECK_SECONDS", "60")),
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


@task_postrun.connect
def return_database_connection(task=None, **kwargs) -> None:
    """What Django does after a request: give the connection back to the pool (or drop a broken one).
    Not for an eager task, which runs inside its caller's request or transaction."""
    from django.db import close_old_connections

    if task is not None and not getattr(task.request, "is_eager", False):
        close_old_connections()


@worker_init.connect
def lower_worker_priority(**kwargs) -> None:
    """HERON_WORKER_NICE, before the pool forks (its processes inherit it)."""
    from django.conf import settings

    if settings.HERON["WORKER_NICE"] > 0:
        lower_cpu_priority(settings.HERON["WORKER_NICE"])


def lower_cpu_priority(nice: int) -> None:
    """Run at niceness `nice` (never higher priority than now), in a way that holds however the
    worker was started.

    Linux ranks a process's niceness only against the processes of its own session (autogroups, on
    by default in Debian and Ubuntu): a worker that leads a session of its own, as under systemd or
    `setsid`, competes with the ASGI processes' session as an equal, nice or not. Started so at nice
    19, it took half the webhook rate in bench/ingest (ratio 0.20 and 0.25, against 0.53 and 0.50
    in the ASGI processes' session). Such a worker also lowers its session's priority; that
    session holds only the worker and its pool. One that shares a session (a shell, a supervisor)
    must not: the ASGI processes may be in it.
    """
    os.nice(max(0, nice - os.nice(0)))
    if os.getsid(0) == os.getpid():
        try:
            Path("/proc/self/autogroup").write_text(str(nice))
        except OSError:  # no autogroups here (another OS, a kernel without them): niceness is all there is
            pass
