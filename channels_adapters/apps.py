"""The adapters' Django apps. Each imports, once Django is ready, the modules of its package that
register its raw-event processors, signal receivers and Celery tasks."""

from importlib import import_module

from django.apps import AppConfig


class AdapterConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    registers: tuple[str, ...] = ("webhooks",)

    def ready(self) -> None:
        for module in self.registers:
            import_module(f"{self.name}.{module}")


def adapter(package: str, verbose_name: str, *, registers: tuple[str, ...] = ("webhooks",)) -> type[AdapterConfig]:
    """The app of `channels_adapters.<package>`, labelled `package`."""
    return type(f"{package}_config", (AdapterConfig,), {
        "name": f"channels_adapters.{package}", "label": package, "verbose_name": verbose_name,
        "registers": registers, "__module__": __name__,
    })


SimulatorConfig = adapter("simulator", "Provider simulator")
TwilioSmsConfig = adapter("twilio_sms", "Twilio SMS/MMS")
TwilioVoiceConfig = adapter("twilio_voice", "Twilio Voice")
GoogleBusinessConfig = adapter("google_business", "Google Business Messages")
GoogleReviewsConfig = adapter("google_reviews", "Google Business Profile reviews", registers=("tasks",))


class EmailConfig(AdapterConfig):
    name = "channels_adapters.email"
    label = "heron_email"
    verbose_name = "Email channel"
    registers = ("inbound", "tasks", "tracking")

    def ready(self) -> None:
        from channels_adapters.email.parse import parse_headers_once_in_anymail
        from config.celery import app

        super().ready()
        parse_headers_once_in_anymail()
        app.conf.beat_schedule.setdefault(
            "poll-imap", {"task": "channels_adapters.email.tasks.poll_imap_inboxes", "schedule": 60.0}
        )
