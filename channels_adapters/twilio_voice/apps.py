from django.apps import AppConfig


class TwilioVoiceConfig(AppConfig):
    name = "channels_adapters.twilio_voice"
    label = "twilio_voice"
    verbose_name = "Twilio Voice"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from channels_adapters.twilio_voice import webhooks  # noqa: F401 - registers raw-event processors
