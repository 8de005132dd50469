from django.urls import path

from channels_adapters.twilio_sms import webhooks

urlpatterns = [
    path("", webhooks.inbound),
    path("status/", webhooks.status),
]
