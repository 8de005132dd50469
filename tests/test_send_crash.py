"""A Celery worker killed in the middle of a send: the reply ends sent exactly once, or failed with a
reason, within two minutes.

Real processes: uvicorn queues the reply in Redis, a worker picks it up and is SIGKILLed while the
provider (the fake Twilio, or the aiosmtpd sink) holds the request; its task stays unacked in Redis
for the broker's hour. Another worker, running beat with a fast send sweeper and a short lease,
must settle the reply from the database alone.
"""

from __future__ import annotations

import time

import httpx
import pytest
from django.conf import settings

from inbox.models import Inbox, Message
from inbox.services.people import token_for
from tests.fakes.twilio import ACCOUNT_SID, AUTH_TOKEN, CUSTOMER, FakeTwilio, twilio_inbox
from tests.support.email import SmtpSink
from tests.support.servers import CeleryWorker, Server
from tests.support.waiting import wait_for

pytestmark = pytest.mark.skipif(not settings.CELERY_BROKER_URL.startswith("redis://"), reason="needs the Redis broker")

SETTLE_WITHIN = 120  # seconds, from the kill


def worker_env(**extra: str) -> dict[str, str]:
    # The provider's answer is awaited long enough for the worker to die waiting; a lease of 3 s and a
    # sweep every second let the test see the recovery quickly.
    return {"HERON_PROVIDER_TIMEOUT_SECONDS": "60", "HERON_SEND_LEASE_SECONDS": "3",
            "HERON_SEND_SWEEP_SECONDS": "1", "HERON_SEND_RETRY_BACKOFF_SECONDS": "0.5", **extra}


def reply_killing_the_worker(inbox: Inbox, agent, customer_writes, provider_got_it, **env: str) -> tuple[Message, float]:
    """The agent replies; the worker that sends it is killed once the provider holds the request.
    Returns the reply once settled, and how long that took after the kill."""
    first = customer_writes(inbox, CUSTOMER if inbox.channel == "sms" else "alice@example.org", "Hello?",
                            kind="phone" if inbox.channel == "sms" else "email")
    server = Server(CELERY_TASK_ALWAYS_EAGER="0")
    sender = CeleryWorker(**worker_env(**env))
    rescuer = None
    try:
        response = httpx.post(f"{server.url}/api/v1/conversations/{first.conversation_id}/messages/",
                              json={"text": "Your parcel ships today."},
                              headers={"Authorization": f"Token {token_for(agent)}"}, timeout=30)
        assert response.status_code == 201, response.text
        assert wait_for(provider_got_it, timeout=30), sender.output()
        sender.kill()
        killed_at = time.monotonic()
        assert Message.objects.get(pk=response.json()["id"]).send_check_at is not None  # in flight, unsettled
        rescuer = CeleryWorker(beat=True, **worker_env(**env))
        message = wait_for(lambda: Message.objects.filter(pk=response.json()["id"], send_check_at=None).first(),
                           timeout=SETTLE_WITHIN)
        assert message is not None, rescuer.output()
        return message, time.monotonic() - killed_at
    finally:
        for process in (rescuer, sender, server):
            if process is not None:
                process.stop()


@pytest.mark.parametrize("twilio_kept_it", [True, False])
def test_a_worker_killed_mid_send_to_twilio_leaves_the_reply_sent_exactly_once(
        transactional_db, support, agent, fake_twilio: FakeTwilio, customer_writes, twilio_kept_it):
    inbox = twilio_inbox(support, channel="sms", name="SMS")
    fake_twilio.add_account(ACCOUNT_SID, AUTH_TOKEN)
    fake_twilio.fault_next("slow", accept=twilio_kept_it, seconds=90)  # holds the request past the kill
    message, took = reply_killing_the_worker(inbox, agent, customer_writes, lambda: fake_twilio.requests,
                                             TWILIO_API_BASE_URL=fake_twilio.base_url)
    [send] = fake_twilio.sends  # exactly once at Twilio
    assert (message.status, message.external_id) == ("queued", send.sid)  # accepted by Twilio, its SID adopted
    assert len(fake_twilio.requests) == (1 if twilio_kept_it else 2)
    assert took < SETTLE_WITHIN


def test_a_worker_killed_mid_send_to_a_mail_server_fails_the_reply_with_the_reason(
        transactional_db, support, agent, customer_writes):
    """SMTP cannot be asked what the server kept: not sent again (the customer might get it twice)."""
    sink = SmtpSink().start()
    try:
        inbox = Inbox.objects.create(name="Mail", channel="email", address="support@heron.local", team=support,
                                     settings=sink.inbox_settings)
        sink.hold_data(90)
        message, took = reply_killing_the_worker(inbox, agent, customer_writes, lambda: sink.envelopes)
    finally:
        sink.stop()
    assert len(sink.envelopes) == 1
    assert message.status == "failed"
    assert message.error_message.startswith(
        "The send was interrupted before the provider answered (its worker stopped). A mail server cannot be asked")
    assert took < SETTLE_WITHIN
