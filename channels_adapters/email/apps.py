from django.apps import AppConfig


class EmailConfig(AppConfig):
    name = "channels_adapters.email"
    label = "heron_email"
    verbose_name = "Email channel"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from channels_adapters.email import inbound, tasks, tracking  # noqa: F401 - signal receivers, processors, tasks
        from channels_adapters.email.parse import parse_headers_once_in_anymail
        from config.celery import app

        parse_headers_once_in_anymail()
        app.conf.beat_schedule.setdefault(
            "poll-imap", {"task": "channels_adapters.email.tasks.poll_imap_inboxes", "schedule": 60.0}
        )
