from django.urls import path

from channels_adapters.twilio_voice import webhooks

urlpatterns = [
    path("", webhooks.voice),
    path("dial-complete/", webhooks.dial_complete),
    path("status/", webhooks.status),
    path("recording/", webhooks.recording),
    path("transcription/", webhooks.transcription),
]
