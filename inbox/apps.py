from django.apps import AppConfig
from django.core import checks


class InboxConfig(AppConfig):
    name = "inbox"
    verbose_name = "Heron inbox"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from config.checks import check_secrets
        from inbox.realtime import access

        checks.register(check_secrets, checks.Tags.security)
        access.connect()
