from django.apps import AppConfig


class GoogleReviewsConfig(AppConfig):
    name = "channels_adapters.google_reviews"
    label = "google_reviews"
    verbose_name = "Google Business Profile reviews"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from channels_adapters.google_reviews import tasks  # noqa: F401 - registers the Celery tasks
