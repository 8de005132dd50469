"""Event → channel-layer groups, after the transaction that wrote it has committed."""

import logging

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

log = logging.getLogger("heron.realtime")


def publish(groups: list[str], message: dict) -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    send = async_to_sync(layer.group_send)
    for group in groups:
        try:
            send(group, message)
        except Exception:  # noqa: BLE001 - a lost broadcast is recovered by catch-up, never fatal
            log.exception("publishing to %s failed", group)


def publish_event(frame: dict, groups: list[str]) -> None:
    publish(groups, {"type": "heron.event", "frame": frame})
