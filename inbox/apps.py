from django.apps import AppConfig


class InboxConfig(AppConfig):
    name = "inbox"
    verbose_name = "Heron inbox"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from inbox.realtime import access

        access.connect()
