from django.apps import AppConfig


class TwilioSmsConfig(AppConfig):
    name = "channels_adapters.twilio_sms"
    label = "twilio_sms"
    verbose_name = "Twilio SMS/MMS"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from channels_adapters.twilio_sms import webhooks  # noqa: F401 - registers raw-event processors
