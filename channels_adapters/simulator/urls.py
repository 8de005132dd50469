from django.urls import path

from channels_adapters.simulator import webhooks

urlpatterns = [
    path("inbound/", webhooks.inbound),
    path("status/", webhooks.status),
]
