import os

from celery import Celery
from celery.signals import beat_init, task_postrun, worker_init

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

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
