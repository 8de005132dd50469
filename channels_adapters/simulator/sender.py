"""The simulated provider: records the send, then reports delivery like a real provider would."""

import json
import logging
import threading
import uuid

import httpx
from django.conf import settings

from channels_adapters.base import OutboundMessage, SendResult
from channels_adapters.simulator.signing import HEADER, sign

log = logging.getLogger("heron.simulator")


def send(message: OutboundMessage) -> SendResult:
    from channels_adapters.simulator.models import SimulatedSend

    external_id = f"SIM{uuid.uuid4().hex}"
    SimulatedSend.objects.create(
        external_id=external_id, inbox_address=message.inbox_address, to=message.to, text=message.text,
        subject=message.subject,
    )
    if getattr(settings, "SIMULATOR_DELIVERY_CALLBACKS", True):
        delay = getattr(settings, "SIMULATOR_DELIVERY_DELAY_SECONDS", 0.3)
        timer = threading.Timer(delay, post_status, args=(message.inbox_address, external_id, "delivered"))
        timer.daemon = True
        timer.start()
    return SendResult(external_id=external_id, provider_status="sent", status="sent")


def post_status(inbox_address: str, external_id: str, status: str) -> None:
    """Call Heron's status webhook over HTTP, signed, as a provider does."""
    body = json.dumps({"inbox": inbox_address, "id": external_id, "status": status}).encode()
    try:
        httpx.post(
            settings.PUBLIC_BASE_URL + "/webhooks/simulator/status/", content=body, timeout=10,
            headers={"Content-Type": "application/json", HEADER: sign(body)},
        )
    except httpx.HTTPError as exc:
        log.warning("simulator could not report status %s for %s: %s", status, external_id, exc)
