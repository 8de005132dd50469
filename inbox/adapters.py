"""Loads the adapter configured for a channel (settings.CHANNEL_ADAPTERS), like EMAIL_BACKEND."""

from functools import cache

from django.conf import settings
from django.utils.module_loading import import_string

from channels_adapters.base import ChannelAdapter


class NoAdapter(LookupError):
    pass


@cache
def get_adapter(channel: str) -> ChannelAdapter:
    """One adapter per channel for the life of the process (settings.CHANNEL_ADAPTERS is read once)."""
    try:
        path = settings.CHANNEL_ADAPTERS[channel]
    except KeyError as exc:
        raise NoAdapter(f"No adapter is configured for the {channel!r} channel") from exc
    return import_string(path)()
