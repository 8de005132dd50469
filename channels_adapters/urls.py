"""Every provider webhook, under /webhooks/. Each adapter owns its own views."""

from django.urls import include, path

urlpatterns = [
    path("simulator/", include("channels_adapters.simulator.urls")),
]
