"""Every provider webhook, under /webhooks/. Each adapter owns its own views."""

from django.urls import include, path

urlpatterns = [
    path("simulator/", include("channels_adapters.simulator.urls")),
    path("twilio/sms/", include("channels_adapters.twilio_sms.urls")),
    path("twilio/voice/", include("channels_adapters.twilio_voice.urls")),
    path("google/", include("channels_adapters.google_business.urls")),
]
