from django.apps import AppConfig


class SimulatorConfig(AppConfig):
    name = "channels_adapters.simulator"
    label = "simulator"
    verbose_name = "Provider simulator"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from channels_adapters.simulator import webhooks  # noqa: F401 - registers raw-event processors
