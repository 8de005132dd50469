import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("heron")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks(["inbox"])
app.conf.beat_schedule = {
    "wake-snoozed": {
        "task": "inbox.tasks.wake_snoozed_conversations",
        "schedule": float(os.environ.get("HERON_SNOOZE_CHECK_SECONDS", "60")),
    },
}
