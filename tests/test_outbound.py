"""The send path: queued first, delivered by the task, retried on transient errors, never twice:
an unconfirmed send is reconciled with the provider before it is repeated (docs/sending.md)."""

import pytest
from django.utils import timezone

from channels_adapters.base import DeliveryUpdate
from inbox.adapters import get_adapter
from inbox.models import Conversation, DeliveryStatus, Event, Message, RawInboundEvent, Status
from inbox.services.delivery import apply_delivery_update
from inbox.services.outbound import deliver, send_message, sweep_sends
from inbox.tasks import deliver_message
from tests.fakes import flaky_provider
from tests.support.sending import settle
from tests.support.waiting import wait_for

LEASE = 0.3


@pytest.fixture
def flaky(settings):
    settings.CHANNEL_ADAPTERS = {**settings.CHANNEL_ADAPTERS, "simulator": "tests.fakes.flaky_provider.FlakyAdapter"}
    settings.HERON = {**settings.HERON, "SEND_RETRY_BACKOFF_SECONDS": 0, "SEND_LEASE_SECONDS": LEASE}
    get_adapter.cache_clear()
    flaky_provider.reset()
    yield flaky_provider
    get_adapter.cache_clear()


@pytest.fixture
def conversation(inbox, customer_writes):
    return customer_writes(inbox, "alice", "help").conversation


def queued_reply(conversation, user, text="Hello"):
    return send_message(conversation, user, text=text)


def test_transient_errors_are_retried_and_the_message_is_sent_once(flaky, conversation, agent):
    message = queued_reply(conversation, agent)
    flaky.failures.extend([flaky.TransientSendError("503"), flaky.TransientSendError("timeout")])
    deliver_message.apply(args=[message.pk])
    message = settle(message)
    assert message.status == DeliveryStatus.SENT and message.external_id == "FLAKY1"
    assert [m.text for m in flaky.sent] == ["Hello"]
    assert message.send_attempts == 3 and message.error_message == ""
    # A duplicate task (e.g. redelivered by the broker) finds the message sent and does nothing.
    deliver_message.apply(args=[message.pk])
    assert len(flaky.sent) == 1


def test_a_transient_failure_shows_at_once_on_the_message(flaky, conversation, agent, settings):
    settings.HERON = {**settings.HERON, "SEND_RETRY_BACKOFF_SECONDS": 0.5}
    message = queued_reply(conversation, agent)
    flaky.failures.append(flaky.TransientSendError("SMTP unavailable"))
    deliver_message.apply(args=[message.pk])
    message.refresh_from_db()
    assert message.status == DeliveryStatus.QUEUED
    assert message.error_message == "Retrying (attempt 2 of 6, next in 0.5 s): SMTP unavailable"
    live = Event.objects.filter(type="message.updated").latest("id").data["message"]
    assert live["error_message"] == message.error_message
    assert sweep_sends() == 0  # not due yet
    assert settle(message).status == DeliveryStatus.SENT


def test_permanent_error_marks_the_message_failed_with_the_reason(flaky, conversation, agent):
    message = queued_reply(conversation, agent)
    flaky.failures.append(flaky.PermanentSendError("recipient unsubscribed (replied STOP)", code="21610"))
    deliver_message.apply(args=[message.pk])
    message.refresh_from_db()
    assert message.status == DeliveryStatus.FAILED and message.send_check_at is None
    assert (message.error_code, message.error_message) == ("21610", "recipient unsubscribed (replied STOP)")
    assert Event.objects.filter(type="message.updated").latest("id").data["message"]["status"] == "failed"


def test_giving_up_after_too_many_transient_errors(flaky, conversation, agent, settings):
    settings.HERON = {**settings.HERON, "SEND_MAX_RETRIES": 2}
    message = queued_reply(conversation, agent)
    flaky.failures.extend([flaky.TransientSendError("503")] * 5)
    deliver_message.apply(args=[message.pk])
    message = settle(message)
    assert message.status == DeliveryStatus.FAILED and message.error_message == "The provider kept failing: 503"
    assert message.send_attempts == 3 and flaky.sent == []


def test_a_lost_answer_is_reconciled_not_resent(flaky, conversation, agent):
    """The provider kept the message but its answer was lost: Heron asks, finds it, adopts its id."""
    message = queued_reply(conversation, agent)
    flaky.accept_but_lose_answer()
    deliver_message.apply(args=[message.pk])
    message.refresh_from_db()
    assert message.status == DeliveryStatus.UNCONFIRMED and message.error_message.startswith(
        "Unconfirmed: the answer was lost. Asking the provider")
    assert message.metadata["send"]["answer"] == "<html>Bad gateway</html>"  # kept for the agent
    assert Event.objects.filter(type="message.updated").latest("id").data["message"]["status"] == "unconfirmed"
    message = settle(message)
    assert (message.status, message.external_id, message.error_message) == ("sent", "FLAKY1", "")
    assert len(flaky.sent) == 1 and message.send_attempts == 1


def test_an_unconfirmed_send_the_provider_does_not_have_is_sent_again_once(flaky, conversation, agent):
    """The provider says it has none: sent again, but only once the provider would list it."""
    message = queued_reply(conversation, agent)
    flaky.failures.append(flaky.UnconfirmedSend("connection reset"))
    deliver_message.apply(args=[message.pk])
    sweep_sends()  # asked at once: too early for "none" to be trusted
    message.refresh_from_db()
    assert message.status == DeliveryStatus.UNCONFIRMED and flaky.sent == []
    message = settle(message)
    assert (message.status, message.external_id, message.send_attempts) == ("sent", "FLAKY1", 2)
    assert len(flaky.sent) == 1


def test_a_provider_that_cannot_be_asked_fails_the_message_without_resending(flaky, conversation, agent, settings):
    settings.HERON = {**settings.HERON, "SEND_MAX_RETRIES": 2}
    message = queued_reply(conversation, agent)
    flaky.accept_but_lose_answer()
    flaky.lookup_failures.extend([flaky.TransientSendError("lookup 503")] * 2)
    deliver_message.apply(args=[message.pk])
    sweep_sends()
    message.refresh_from_db()
    assert message.error_message.startswith("Unconfirmed: the answer was lost. Asking the provider again "
                                            "(check 2 of 3, next in 0 s): lookup 503")
    flaky.lookup_failures.extend([flaky.TransientSendError("lookup 503")] * 5)
    message = settle(message)
    assert message.status == DeliveryStatus.FAILED
    assert "Could not find out whether the provider got it (lookup 503); not sent again" in message.error_message
    assert len(flaky.sent) == 1


class WorkerDied(BaseException):
    """What a killed worker amounts to for the code it was running: it never gets control back."""


def test_a_send_interrupted_by_a_dead_worker_is_reconciled_when_its_lease_runs_out(flaky, conversation, agent):
    message = queued_reply(conversation, agent)
    flaky.failures.append(WorkerDied())
    with pytest.raises(WorkerDied):
        deliver(message.pk)
    message.refresh_from_db()
    assert message.metadata["send"]["flight"] and message.status == DeliveryStatus.QUEUED
    assert deliver(message.pk) is None  # another worker holds it until the lease runs out
    assert sweep_sends() == 0
    wait_for(lambda: sweep_sends(), timeout=5)
    message = settle(message)
    assert (message.status, message.external_id, message.send_attempts) == ("sent", "FLAKY1", 2)
    assert len(flaky.sent) == 1
    interrupted = [e.data["message"] for e in Event.objects.filter(type="message.updated").order_by("id")]
    assert interrupted[0]["status"] == "unconfirmed" and "interrupted" in interrupted[0]["error_message"]


def test_a_reply_whose_task_was_lost_is_sent_by_the_sweeper(flaky, conversation, agent,
                                                            django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):  # the task never reaches the broker
        message = queued_reply(conversation, agent)
    assert message.send_check_at is not None and sweep_sends() == 0
    assert settle(message).status == DeliveryStatus.SENT and len(flaky.sent) == 1


def test_delivery_status_only_moves_forward(conversation, agent, flaky):
    message = queued_reply(conversation, agent)
    deliver(message.pk)
    message.refresh_from_db()
    for status in ["delivered", "sent", "queued"]:
        apply_delivery_update(DeliveryUpdate(inbox_id=message.inbox_id, external_id=message.external_id,
                                             provider_status=status, status=status))
    message.refresh_from_db()
    assert message.status == "delivered" and message.provider_status == "delivered"
    assert [h["status"] for h in message.metadata["status_history"]] == ["delivered", "sent", "queued"]
    apply_delivery_update(DeliveryUpdate(inbox_id=message.inbox_id, external_id=message.external_id,
                                         provider_status="undelivered", status="failed", error_code="30003",
                                         error_message="unreachable handset"))
    message.refresh_from_db()
    assert (message.status, message.error_code) == ("failed", "30003")


def test_status_for_an_unknown_message_is_kept_and_replayed_later(client, conversation, agent, flaky):
    """A provider callback racing our own commit is not lost: replay applies it once the message exists."""
    import json

    from django.core.management import call_command

    from channels_adapters.simulator.signing import HEADER, sign

    message = queued_reply(conversation, agent)
    body = json.dumps({"inbox": conversation.inbox.address, "id": "FLAKY1", "status": "delivered"}).encode()
    response = client.post("/webhooks/simulator/status/", body, content_type="application/json",
                           headers={HEADER: sign(body)})
    assert response.status_code == 204  # no error for the provider: the update waits for its message
    assert RawInboundEvent.objects.get().result == "failed"

    deliver(message.pk)
    call_command("replay_raw_events")
    message.refresh_from_db()
    assert message.status == "delivered"
    assert RawInboundEvent.objects.get().result == "processed"


def test_snoozed_conversations_wake_up(conversation, agent):
    from inbox.services.conversations import update_conversation, wake_snoozed_conversations

    until = timezone.now() + timezone.timedelta(hours=1)
    update_conversation(conversation, agent, status=Status.SNOOZED, snoozed_until=until)
    assert wake_snoozed_conversations(now=timezone.now()) == 0
    assert wake_snoozed_conversations(now=until + timezone.timedelta(seconds=1)) == 1
    conversation.refresh_from_db()
    assert conversation.status == Status.OPEN and conversation.snoozed_until is None
    assert Conversation.objects.get(pk=conversation.pk).messages.filter(kind="activity").count() == 2


def test_embedded_scheduler_wakes_snoozed_conversations_without_celery(transactional_db, conversation):
    """`make run` has no Redis and no beat: the server process runs the schedule itself."""
    import time

    from tests.support.servers import Server

    Conversation.objects.filter(pk=conversation.pk).update(
        status=Status.SNOOZED, snoozed_until=timezone.now() - timezone.timedelta(minutes=1))
    server = Server(HERON_EMBEDDED_SCHEDULER="1", HERON_SNOOZE_CHECK_SECONDS="0.5")
    try:
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and Conversation.objects.get(pk=conversation.pk).status != Status.OPEN:
            time.sleep(0.2)
        assert Conversation.objects.get(pk=conversation.pk).status == Status.OPEN
    finally:
        server.stop()


def test_reply_to_a_call_goes_by_sms_by_default(support, agent, customer_writes):
    from inbox.models import Inbox

    voice = Inbox.objects.create(name="Voice", channel="voice", address="+15017122661", team=support)
    sms = Inbox(name="SMS", channel="sms", address="+15017122662", team=support)
    sms.credentials = {"account_sid": "AC" + "1" * 32, "auth_token": "token"}
    sms.save()
    call = customer_writes(voice, "+15558675310", "Incoming call", kind="phone")
    reply = send_message(call.conversation, agent, text="Sorry we missed your call")
    assert (reply.channel, reply.inbox_id, reply.identity.value) == ("sms", sms.pk, "+15558675310")


def test_reply_with_files_reaches_the_provider_with_bytes_and_a_signed_public_link(
    flaky, conversation, agent, client_for, client, settings, django_capture_on_commit_callbacks
):
    from django.core.files.uploadedfile import SimpleUploadedFile

    png = SimpleUploadedFile("label.png", b"\x89PNG label", content_type="image/png")
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(agent).post(
            f"/api/v1/conversations/{conversation.pk}/messages/", {"text": "Your label", "files": [png]},
            format="multipart",
        )
    assert response.status_code == 201, response.content
    assert [a["filename"] for a in response.json()["attachments"]] == ["label.png"]
    [sent] = flaky.sent
    [attachment] = sent.attachments
    assert (attachment.filename, attachment.content_type, attachment.content) == (
        "label.png", "image/png", b"\x89PNG label")
    assert attachment.url.startswith(settings.PUBLIC_BASE_URL + "/media/public/")

    path = attachment.url.removeprefix(settings.PUBLIC_BASE_URL)
    public = client.get(path)
    assert public.status_code == 200 and b"".join(public.streaming_content) == b"\x89PNG label"
    token, filename = path.removeprefix("/media/public/").split("/")
    assert client.get(f"/media/public/{token[:-2]}xx/{filename}").status_code == 404
    settings.PUBLIC_MEDIA_MAX_AGE = -1
    assert client.get(path).status_code == 404


def test_reply_file_limits_are_enforced(conversation, agent, client_for, settings):
    from django.core.files.uploadedfile import SimpleUploadedFile

    settings.REPLY_ATTACHMENT_MAX_BYTES = 10
    big = SimpleUploadedFile("big.bin", b"x" * 11, content_type="application/octet-stream")
    response = client_for(agent).post(f"/api/v1/conversations/{conversation.pk}/messages/",
                                      {"text": "big", "files": [big]}, format="multipart")
    assert response.status_code == 400 and "big.bin" in str(response.json()["files"])
    many = [SimpleUploadedFile(f"f{i}.txt", b"x", content_type="text/plain") for i in range(6)]
    response = client_for(agent).post(f"/api/v1/conversations/{conversation.pk}/messages/",
                                      {"text": "many", "files": many}, format="multipart")
    assert response.status_code == 400 and "at most 5" in str(response.json()["files"])
    assert not Message.objects.filter(direction="out").exists()


def test_reply_options_say_why_a_channel_cannot_be_used(support, agent, client_for, customer_writes):
    from inbox.models import Inbox
    from inbox.services.contacts import add_identity, set_opt_out

    sms = Inbox.objects.create(name="SMS", channel="sms", address="+15017122662", team=support)
    google = Inbox.objects.create(name="Google", channel="google_business", address="brands/1/agents/2",
                                  team=support)
    text = customer_writes(sms, "+15558675310", "hi", kind="phone")
    add_identity(text.contact, "email", "pat@example.org")
    add_identity(text.contact, "google_business", "conv-1")
    old = customer_writes(google, "conv-1", "old question", kind="google_business")
    assert old.conversation_id == text.conversation_id
    Message.objects.filter(pk=old.pk).update(created_at=timezone.now() - timezone.timedelta(days=31))
    set_opt_out(text.identity, True)

    response = client_for(agent).get(f"/api/v1/conversations/{text.conversation_id}/reply-options/")
    assert response.status_code == 200
    body = response.json()
    options = {o["channel"]: o for o in body["options"]}
    assert body["default"] == "google_business"  # the last inbound message came by Google
    assert options["sms"]["available"] is False and "opted out" in options["sms"]["reason"]
    assert options["google_business"]["available"] is False and "30 days" in options["google_business"]["reason"]
    assert options["email"]["available"] is False and "team has no email inbox" in options["email"]["reason"]
    Inbox.objects.create(name="Mail", channel="email", address="help@example.com", team=support)
    options = {o["channel"]: o for o in client_for(agent).get(
        f"/api/v1/conversations/{text.conversation_id}/reply-options/").json()["options"]}
    assert options["email"] == {"channel": "email", "available": True, "reason": "", "to": "pat@example.org",
                                "inbox": Inbox.objects.get(channel="email").pk}
    refused = client_for(agent).post(f"/api/v1/conversations/{text.conversation_id}/messages/",
                                     {"text": "hello?", "channel": "google_business"}, format="json")
    assert refused.status_code == 400 and "window is closed" in refused.json()["detail"]


def test_cc_on_a_reply_that_is_not_an_email_is_refused_with_the_reason(conversation, agent, client_for):
    response = client_for(agent).post(f"/api/v1/conversations/{conversation.pk}/messages/",
                                      {"text": "Hi", "cc": ["boss@example.org"]}, format="json")
    assert response.status_code == 400
    assert "Cc is for email replies" in str(response.json())
    assert not conversation.messages.filter(direction="out").exists()


def test_reply_options_and_the_send_refuse_an_inbox_that_cannot_send(support, agent, client_for, customer_writes):
    """Credentials missing: the composer says so, and the reply is refused before it is queued."""
    from inbox.models import Inbox

    google = Inbox.objects.create(name="Google", channel="google_business", address="brands/1/agents/2",
                                  team=support)
    first = customer_writes(google, "conv-9", "Open on Sunday?", kind="google_business")
    options = client_for(agent).get(f"/api/v1/conversations/{first.conversation_id}/reply-options/").json()
    [option] = options["options"]
    assert option["available"] is False
    assert option["reason"] == ("The Google inbox cannot send: The inbox has no Google service account configured "
                                "(credentials.service_account_info).")
    refused = client_for(agent).post(f"/api/v1/conversations/{first.conversation_id}/messages/",
                                     {"text": "Yes, 10 to 4"}, format="json")
    assert refused.status_code == 400 and refused.json()["detail"] == option["reason"]
    assert not Message.objects.filter(direction="out").exists()
