"""`manage.py simulate simulator ...`: a customer writes through the simulator channel."""

import json
import uuid

import httpx
from django.conf import settings

from channels_adapters.simulator.signing import HEADER, sign


def add_arguments(parser) -> None:
    parser.add_argument("--from", dest="sender", default="customer-1", help="Customer handle")
    parser.add_argument("--name", default="", help="Customer display name")
    parser.add_argument("--to", default="demo", help="Simulator inbox address")
    parser.add_argument("--text", required=True)


def run(options: dict) -> httpx.Response:
    body = json.dumps(
        {"inbox": options["to"], "from": options["sender"], "name": options["name"], "text": options["text"],
         "id": f"SIMIN{uuid.uuid4().hex}"}
    ).encode()
    return httpx.post(
        settings.PUBLIC_BASE_URL + "/webhooks/simulator/inbound/", content=body, timeout=10,
        headers={"Content-Type": "application/json", HEADER: sign(body)},
    )
