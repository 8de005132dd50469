import logging
import os

from celery import Celery, Task
from celery.signals import beat_init, task_postrun, worker_init
from django.db import InterfaceError, OperationalError

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

log = logging.getLogger("heron.worker")

# A task that lost the database is tried again after 0.5 s, 1 s, 2 s ... (at most 30 s), this many
# times: about two and a half minutes in all.
DATABASE_RETRIES = 10
DATABASE_RETRY_FIRST_SECONDS = 0.5
DATABASE_RETRY_MAX_SECONDS = 30.0


def database_retry_delay(retries: int) -> float:
    return min(DATABASE_RETRY_FIRST_SECONDS * 2**retries, DATABASE_RETRY_MAX_SECONDS)


class HeronTask(Task):
    """Every task: one that meets a transient database error (a restart, a failover: the
    connection refused or closed under it) goes back to the broker and runs again after a
    backoff, rather than failing and leaving its webhooks to the stale-event sweeper. The pool
    hands out only connections that answer (config/settings.py), so the retry gets a new one.
    Inline (eager) tasks raise as before: their caller answers for them."""

    def __call__(self, *args, **kwargs):
        try:
            return super().__call__(*args, **kwargs)
        except (OperationalError, InterfaceError) as exc:
            if self.request.is_eager:
                raise
            log.warning("%s lost the database (%s); trying again", self.name, exc)
            raise self.retry(exc=exc, countdown=database_retry_delay(self.request.retries),
                             max_retries=DATABASE_RETRIES) from exc


app = Celery("heron", task_cls=HeronTask)
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
