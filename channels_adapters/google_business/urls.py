"""Mounted at /webhooks/google/ (channels_adapters/urls.py)."""

from django.urls import path

from channels_adapters.google_business import webhooks

urlpatterns = [
    path("business-messages/", webhooks.webhook),
]
