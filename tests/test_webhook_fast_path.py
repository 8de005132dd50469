"""Provider webhooks through uvicorn take the fast path (config/webhook_fast_path.py): the same views,
answers and errors, without the browser middleware. Everything else still goes through Django's handler."""

import httpx

from channels_adapters.simulator.signing import HEADER, sign
from inbox.models import Message, RawInboundEvent
from tests.conftest import post_simulator_webhook

INBOUND = "/webhooks/simulator/inbound/"


def webhook(server, inbox, text: str, external_id: str) -> httpx.Response:
    return post_simulator_webhook(server.url, INBOUND, {
        "inbox": inbox.address, "from": "alice", "name": "Alice", "text": text, "id": external_id})


def test_a_webhook_is_stored_and_recorded_without_the_browser_middleware(server, inbox):
    response = webhook(server, inbox, "fast hello", "FAST-1")
    assert response.status_code == 204, response.text
    assert Message.objects.get(external_id="FAST-1").text == "fast hello"
    assert RawInboundEvent.objects.get().result == RawInboundEvent.Result.PROCESSED
    # XFrameOptionsMiddleware marks every response that goes through Django's middleware.
    assert "X-Frame-Options" not in response.headers
    assert httpx.get(server.url + "/healthz", timeout=10).headers["X-Frame-Options"] == "DENY"

    # A retry on the fast path is still one message; requests reuse the pooled connections.
    for _ in range(12):
        assert webhook(server, inbox, "fast hello", "FAST-1").status_code == 204
    assert Message.objects.filter(external_id="FAST-1").count() == 1


def test_refusals_and_errors_are_djangos_own(server, inbox):
    forged = post_simulator_webhook(server.url, INBOUND, {"inbox": inbox.address, "from": "mallory", "text": "x",
                                                          "id": "F1"}, signature="0" * 64)
    assert forged.status_code == 403
    assert not RawInboundEvent.objects.exists()
    garbage = b"{not json"
    broken = httpx.post(server.url + INBOUND, content=garbage, timeout=10,
                        headers={"Content-Type": "application/json", HEADER: sign(garbage)})
    assert broken.status_code == 400 and "simulator inbox" in broken.json()["detail"]
    assert not RawInboundEvent.objects.exists() and not Message.objects.exists()

    missing = httpx.post(server.url + "/webhooks/no-such-provider/", content=b"{}", timeout=10)
    assert missing.status_code == 404
    wrong_method = httpx.get(server.url + INBOUND, timeout=10)  # not a webhook call: Django's handler
    assert wrong_method.status_code == 405 and wrong_method.headers["X-Frame-Options"] == "DENY"
