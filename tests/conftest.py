"""Shared fixtures: people of every role, inboxes, API clients, and real server processes; the fake
providers' fixtures (`fake_twilio`, `fake_google`, `service_account`, …) come from tests/fakes/.

Tests that talk to a real server process must use `transactional_db` so the server sees the rows.
"""

from __future__ import annotations

import json
import uuid

import httpx
import pytest
from django.conf import settings
from django.core.management import call_command
from rest_framework.test import APIClient

from channels_adapters.base import InboundMessage, SenderIdentity
from channels_adapters.simulator.signing import HEADER, sign
from config.celery import app as celery_app
from inbox.models import Inbox, Role, Team
from inbox.services.ingest import record_inbound
from inbox.services.people import create_agent
from tests.support.servers import Server

pytest_plugins = ["tests.fakes.twilio", "tests.fakes.google"]

# In this process, tasks run inline and the simulator does not call back a server that is not there;
# server and worker processes started by tests get their own settings through the environment.
celery_app.conf.task_always_eager = True
settings.SIMULATOR_DELIVERY_CALLBACKS = False

PASSWORD = "correct horse battery"


@pytest.fixture
def support(db) -> Team:
    return Team.objects.get_or_create(name="Support")[0]


@pytest.fixture
def sales(db) -> Team:
    return Team.objects.get_or_create(name="Sales")[0]


@pytest.fixture
def admin(db):
    return create_agent("admin@example.com", role=Role.ADMIN, password=PASSWORD, name="Ada Admin")


@pytest.fixture
def agent(support):
    return create_agent("ana@example.com", role=Role.AGENT, password=PASSWORD, name="Ana Agent", teams=["Support"])


@pytest.fixture
def sales_agent(sales):
    return create_agent("sol@example.com", role=Role.AGENT, password=PASSWORD, name="Sol Sales", teams=["Sales"])


@pytest.fixture
def marketer(db):
    return create_agent("mia@example.com", role=Role.MARKETER, password=PASSWORD, name="Mia Marketer")


@pytest.fixture
def inbox(support) -> Inbox:
    return Inbox.objects.create(name="Support simulator", channel="simulator", address="support", team=support)


@pytest.fixture
def sales_inbox(sales) -> Inbox:
    return Inbox.objects.create(name="Sales simulator", channel="simulator", address="sales", team=sales)


@pytest.fixture
def client_for():
    """An API client signed in (session) as the given user."""

    def make(user) -> APIClient:
        client = APIClient()
        client.force_login(user)
        return client

    return make


def inbound(inbox: Inbox, sender: str = "alice", text: str = "Hello", *, external_id: str | None = None,
            kind: str = "simulator", name: str = "", **fields) -> InboundMessage:
    return InboundMessage(
        channel=inbox.channel, inbox_id=inbox.pk, sender=SenderIdentity(kind=kind, value=sender, display_name=name),
        external_id=external_id or uuid.uuid4().hex, text=text, **fields,
    )


@pytest.fixture
def customer_writes():
    """Ingest a customer message through the real service, returning the stored message."""

    def write(inbox: Inbox, sender: str = "alice", text: str = "Hello", **kwargs):
        return record_inbound(inbound(inbox, sender, text, **kwargs)).message

    return write


def post_simulator_webhook(base_url: str, path: str, payload: dict, *, signature: str | None = None) -> httpx.Response:
    body = json.dumps(payload).encode()
    return httpx.post(
        base_url + path, content=body, timeout=10,
        headers={"Content-Type": "application/json", HEADER: sign(body) if signature is None else signature},
    )


@pytest.fixture(scope="session")
def live_server_process(django_db_setup, django_db_blocker):
    """One uvicorn process on the test database for the session (tasks inline in it), serving the
    admin's and the API docs' static files as production does after collectstatic."""
    call_command("collectstatic", "--noinput", verbosity=0)
    server = Server(CELERY_TASK_ALWAYS_EAGER="1", SIMULATOR_DELIVERY_CALLBACKS="1", HERON_FAKE_PROVIDERS="1")
    yield server
    server.stop()


@pytest.fixture
def server(live_server_process, transactional_db):
    return live_server_process


def session_cookie_for(user) -> str:
    client = APIClient()
    client.force_login(user)
    return client.cookies["sessionid"].value
