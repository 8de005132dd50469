from django.apps import AppConfig


class GoogleBusinessConfig(AppConfig):
    name = "channels_adapters.google_business"
    label = "google_business"
    verbose_name = "Google Business Messages"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from channels_adapters.google_business import webhooks  # noqa: F401 - registers raw-event processors
