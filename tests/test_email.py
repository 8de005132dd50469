"""Email end to end: anymail webhooks in, one parse path, threading that never crosses customers, SMTP out."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from email.utils import make_msgid

import pytest
from django.utils import timezone

from channels_adapters.email import threading as th
from inbox.models import (
    Contact,
    Conversation,
    DeliveryStatus,
    Direction,
    Inbox,
    Message,
    RawInboundEvent,
    Status,
)
from inbox.services import outbound
from inbox.services.contacts import add_identity
from inbox.services.raw_events import replay_failed_events
from tests.support.email import SmtpSink, basic_auth_header, mime, post_postmark
from tests.support.sending import settle


@pytest.fixture
def email_inbox(support) -> Inbox:
    return Inbox.objects.create(name="Acme Support", channel="email", address="support@heron.local", team=support)


@pytest.fixture
def smtp_sink():
    sink = SmtpSink().start()
    yield sink
    sink.stop()


@pytest.fixture
def smtp_inbox(email_inbox, smtp_sink) -> Inbox:
    email_inbox.settings = smtp_sink.inbox_settings
    email_inbox.save()
    return email_inbox


@pytest.fixture
def receive(client, email_inbox):
    """Post raw MIME through the real anymail Postmark webhook; returns the stored message (or None)."""

    def post(raw: bytes, **kwargs) -> Message | None:
        response = post_postmark(client, raw, **kwargs)
        assert response.status_code == 200, response.content
        raw_event = RawInboundEvent.objects.order_by("-id").first()
        assert raw_event.error == "", raw_event.error
        return Message.objects.filter(metadata__raw_event_id=raw_event.pk).first() or Message.objects.filter(
            inbox=email_inbox, external_id=th.normalize_message_id(_header(raw, "Message-ID"))
        ).first()

    return post


def _header(raw: bytes, name: str) -> str:
    from email import message_from_bytes

    return str(message_from_bytes(raw)[name] or "")


def agent_reply(conversation, user, text, django_capture_on_commit_callbacks) -> Message:
    """An agent replies through the real service; the delivery task runs (eagerly) on commit."""
    with django_capture_on_commit_callbacks(execute=True):
        message = outbound.send_message(conversation, user, text=text)
    message.refresh_from_db()
    return message


# ------------------------------------------------------------------------------ webhook security

def test_webhook_without_basic_auth_is_400_and_stores_nothing(client, email_inbox):
    raw = mime()
    assert post_postmark(client, raw, auth="").status_code == 400
    assert post_postmark(client, raw, auth=basic_auth_header(("heron", "wrong"))).status_code == 400
    assert RawInboundEvent.objects.count() == 0
    assert Message.objects.count() == 0


def post_postmark_payload(client, payload: dict):
    return client.post("/anymail/postmark/inbound/", data=json.dumps(payload), content_type="application/json",
                       HTTP_AUTHORIZATION=basic_auth_header())


def test_a_verified_payload_anymail_cannot_read_is_a_400_kept_for_inspection(client, email_inbox):
    """anymail itself would let the TypeError through: a 500, retried by the ESP forever, nothing kept."""
    payload = {"RawEmail": mime().decode(), "OriginalRecipient": "support@heron.local", "Headers": None}
    response = post_postmark_payload(client, payload)
    assert response.status_code == 400
    assert "Postmark webhook payload could not be read" in response.json()["detail"]
    raw = RawInboundEvent.objects.get()
    assert (raw.endpoint, raw.result) == ("email.unreadable", "failed")
    assert json.loads(bytes(raw.body)) == payload and "could not be read" in raw.error
    assert replay_failed_events() == {"failed": 1}  # nothing reads it better later; the reason stays
    raw.refresh_from_db()
    assert "Postmark webhook payload could not be read (TypeError" in raw.error
    assert not Message.objects.exists()


def test_a_tracking_event_posted_to_the_inbound_url_is_a_400_that_says_so(client, email_inbox, settings):
    """anymail calls it a configuration error (a 500, retried forever); the ESP's console shows this instead."""
    import hashlib
    import hmac
    import time

    settings.ANYMAIL = {**settings.ANYMAIL, "MAILGUN_WEBHOOK_SIGNING_KEY": "mg-key"}
    timestamp, token = str(int(time.time())), "tok123"
    signature = hmac.new(b"mg-key", (timestamp + token).encode(), hashlib.sha256).hexdigest()
    data = {"event": "delivered", "recipient": "alice@example.org", "message-id": "m1", "timestamp": timestamp,
            "token": token, "signature": signature}
    response = client.post("/anymail/mailgun/inbound_mime/", data, HTTP_AUTHORIZATION=basic_auth_header())
    assert response.status_code == 400
    assert "Mailgun's *delivered tracking* webhook" in response.json()["detail"]
    assert RawInboundEvent.objects.get().endpoint == "email.unreadable"


def test_envelope_fields_of_another_type_are_ignored_and_the_email_recorded(client, email_inbox):
    payload = {"RawEmail": mime().decode(), "OriginalRecipient": True, "Headers": [], "StrippedTextReply": {"x": 1}}
    assert post_postmark_payload(client, payload).status_code == 200
    assert Message.objects.get(inbox=email_inbox).text == "Hi, my order hasn't arrived."


def test_nul_characters_in_mail_are_dropped_not_a_failed_message(receive, email_inbox):
    """A NUL (a raw byte, "=00", base64) is legal in MIME and impossible in PostgreSQL text."""
    message = receive(mime(sender="Al\x00ice <alice@example.org>", subject="Sub\x00ject", text="Hello\x00 there",
                           attachments=[("no\x00te.pdf", b"%PDF-1.4\x00", "application", "pdf")]))
    assert (message.text, message.subject, message.contact.name) == ("Hello there", "Subject", "Alice")
    assert message.attachments.get().filename == "no_te.pdf"  # as _filename makes any file name safe


def test_inbound_email_creates_contact_conversation_and_message(receive, email_inbox):
    raw = mime(sender="Alice Customer <Alice@Example.org>", cc="Bob <bob@example.org>, carol@example.org",
               text="Hi, my order hasn't arrived.\n\nOn Mon, Mar 3, 2025 at 4:02 PM Acme <support@heron.local> wrote:\n"
                    "> Your parcel is on its way.\n> Tracking: 1Z999\n")
    message = receive(raw)
    assert message.direction == Direction.IN and message.channel == "email"
    assert message.text == "Hi, my order hasn't arrived."
    assert "Your parcel is on its way." in message.metadata["quoted_text"]
    assert message.contact.name == "Alice Customer"
    assert message.identity.value == "alice@example.org"
    assert [c["email"] for c in message.metadata["cc"]] == ["bob@example.org", "carol@example.org"]
    assert message.conversation.subject == "Order not delivered"
    raw_event = RawInboundEvent.objects.get()
    assert raw_event.result == RawInboundEvent.Result.PROCESSED and raw_event.inbox_id == email_inbox.pk
    assert bytes(raw_event.body) == raw  # the original MIME, verbatim, for "view original" and replay


def test_existing_contact_identity_routes_mail_to_that_contact(receive, email_inbox):
    contact = Contact.objects.create(name="Alice from the phone")
    add_identity(contact, "email", "alice@example.org")
    message = receive(mime())
    assert message.contact_id == contact.pk
    assert Contact.objects.get(pk=contact.pk).name == "Alice from the phone"  # a set name is never overwritten


def test_same_message_twice_is_one_message(receive, email_inbox):
    raw = mime(message_id="<dup-1@mail.example.org>")
    first = receive(raw)
    second = receive(raw)
    assert first.pk == second.pk
    assert Message.objects.filter(external_id="dup-1@mail.example.org").count() == 1
    assert list(RawInboundEvent.objects.order_by("id").values_list("result", flat=True)) == ["processed", "duplicate"]


def test_mail_for_an_unknown_address_is_kept_and_replays_once_the_inbox_exists(client, support):
    raw = mime(to="help@heron.local")
    assert post_postmark(client, raw).status_code == 200
    raw_event = RawInboundEvent.objects.get()
    assert raw_event.result == RawInboundEvent.Result.FAILED and "No email inbox" in raw_event.error
    Inbox.objects.create(name="Help", channel="email", address="help@heron.local", team=support)
    assert replay_failed_events() == {"processed": 1}
    assert Message.objects.get().inbox.address == "help@heron.local"


def test_plus_addressed_recipient_maps_to_the_inbox(receive, email_inbox):
    message = receive(mime(to="Support <support+billing@heron.local>"))
    assert message.inbox_id == email_inbox.pk


def test_recipients_match_inboxes_whatever_the_case_and_a_new_inbox_at_once(receive, email_inbox, support):
    """Inboxes come from the process's cache (inbox/inbox_cache.py); one added by another process
    (here: bulk_create, which sends no post_save to clear it) is found on the first mail to it."""
    assert receive(mime(to="SUPPORT@Heron.Local")).inbox_id == email_inbox.pk
    [sales] = Inbox.objects.bulk_create([Inbox(name="Sales", channel="email", address="Sales@Heron.local", team=support)])
    assert receive(mime(to="sales@heron.local")).inbox_id == sales.pk


@pytest.mark.django_db(transaction=True)  # foreign keys are checked per statement, as in production
def test_mail_to_a_kept_inbox_another_process_deleted_is_kept_for_replay(client, email_inbox, receive, support):
    from django.db import connection

    receive(mime(to="support@heron.local"))  # the process now keeps the inbox
    gone = Inbox.objects.create(name="Gone", channel="email", address="gone@heron.local", team=support)
    receive(mime(to="gone@heron.local"))
    Message.objects.filter(inbox=gone).delete()
    Conversation.objects.filter(inbox=gone).delete()
    RawInboundEvent.objects.filter(inbox=gone).update(inbox=None)
    with connection.cursor() as cursor:  # as another process would: no signal clears this one's cache
        cursor.execute(f'DELETE FROM "{Inbox._meta.db_table}" WHERE id = %s', [gone.pk])

    assert post_postmark(client, mime(to="gone@heron.local")).status_code == 200
    raw_event = RawInboundEvent.objects.order_by("-id").first()
    assert raw_event.inbox_id is None
    assert raw_event.result == RawInboundEvent.Result.FAILED and "No email inbox" in raw_event.error


# ------------------------------------------------------------------------------------ threading

def test_outbound_reply_has_threading_headers_and_the_customer_answer_threads_back(
    receive, smtp_inbox, smtp_sink, agent, django_capture_on_commit_callbacks
):
    first = receive(mime(message_id="<orig-1@mail.example.org>", subject="Order not delivered"))
    reply = agent_reply(first.conversation, agent, "Hi Alice, it ships today.", django_capture_on_commit_callbacks)
    assert reply.status == DeliveryStatus.SENT, reply.error_message

    [envelope] = smtp_sink.envelopes
    sent = envelope.message
    conversation_id = first.conversation_id
    assert envelope.rcpt_tos == ["alice@example.org"]
    assert sent["In-Reply-To"] == "<orig-1@mail.example.org>"
    assert "<orig-1@mail.example.org>" in sent["References"]
    assert sent["Reply-To"].addresses[0].addr_spec == f"support+c{conversation_id}@heron.local"
    assert sent["From"].addresses[0].display_name == "Acme Support"
    assert sent["Subject"] == f"Re: Order not delivered [#{conversation_id}]"
    assert sent["Auto-Submitted"] == "no"
    assert th.normalize_message_id(sent["Message-ID"]) == reply.external_id
    assert th.parse_our_message_id(reply.external_id)[0] == conversation_id
    assert sent.get_body(("plain",)).get_content().strip() == "Hi Alice, it ships today."
    assert "Hi Alice, it ships today." in sent.get_body(("html",)).get_content()

    # The customer's client answers it: In-Reply-To our Message-ID.
    answer = receive(mime(subject="Something else entirely", in_reply_to=sent["Message-ID"],
                          references=f"<orig-1@mail.example.org> {sent['Message-ID']}", text="Great, thanks!"))
    assert answer.conversation_id == conversation_id
    # The next agent reply answers the customer's latest mail and carries the whole chain.
    agent_reply(first.conversation, agent, "You're welcome.", django_capture_on_commit_callbacks)
    second = smtp_sink.envelopes[1].message
    assert second["In-Reply-To"] == f"<{answer.external_id}>"
    assert "<orig-1@mail.example.org>" in second["References"] and sent["Message-ID"] in second["References"]


def test_agent_reply_attachments_are_in_the_sent_mail(
    receive, smtp_inbox, smtp_sink, agent, client_for, django_capture_on_commit_callbacks
):
    from django.core.files.uploadedfile import SimpleUploadedFile

    first = receive(mime(message_id="<orig-att@mail.example.org>", subject="Need the invoice"))
    invoice = SimpleUploadedFile("invoice.pdf", b"%PDF-1.4 invoice", content_type="application/pdf")
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(agent).post(f"/api/v1/conversations/{first.conversation_id}/messages/",
                                          {"text": "Attached.", "files": [invoice]}, format="multipart")
    assert response.status_code == 201, response.content
    [envelope] = smtp_sink.envelopes
    [part] = list(envelope.message.iter_attachments())
    assert (part.get_filename(), part.get_content_type(), part.get_content()) == (
        "invoice.pdf", "application/pdf", b"%PDF-1.4 invoice")


def test_agent_reply_with_cc_reaches_every_recipient_and_shows_on_the_timeline(
    receive, smtp_inbox, smtp_sink, agent, client_for, django_capture_on_commit_callbacks
):
    first = receive(mime(message_id="<orig-cc@mail.example.org>", subject="Invoice for accounting"))
    url = f"/api/v1/conversations/{first.conversation_id}/messages/"
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(agent).post(url, {"text": "Copying accounting.",
                                                "cc": ["Books@Example.org", "ceo@example.org"]}, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["metadata"]["cc"] == [{"name": "", "email": "books@example.org"},
                                                 {"name": "", "email": "ceo@example.org"}]
    [envelope] = smtp_sink.envelopes
    assert sorted(envelope.rcpt_tos) == ["alice@example.org", "books@example.org", "ceo@example.org"]
    assert [a.addr_spec for a in envelope.message["Cc"].addresses] == ["books@example.org", "ceo@example.org"]
    assert [a.addr_spec for a in envelope.message["To"].addresses] == ["alice@example.org"]

    refused = client_for(agent).post(url, {"text": "x", "cc": ["not an address"]}, format="json")
    assert refused.status_code == 400 and "cc" in refused.json()
    note = client_for(agent).post(url, {"text": "x", "private": True, "cc": ["a@example.org"]}, format="json")
    assert note.status_code == 400 and "Notes are never sent" in str(note.json())
    assert len(smtp_sink.envelopes) == 1


def test_client_that_drops_headers_but_keeps_the_plus_address_threads(
    receive, smtp_inbox, smtp_sink, agent, django_capture_on_commit_callbacks
):
    first = receive(mime(subject="Refund please"))
    agent_reply(first.conversation, agent, "Which order?", django_capture_on_commit_callbacks)
    reply_to = smtp_sink.envelopes[0].message["Reply-To"].addresses[0].addr_spec
    answer = receive(mime(to=reply_to, subject="order 1077"))  # no In-Reply-To, no References, new subject
    assert answer.conversation_id == first.conversation_id


def test_subject_ticket_tag_threads(receive, email_inbox):
    first = receive(mime(subject="Broken zipper"))
    answer = receive(mime(subject=f"Photos [#{first.conversation_id}]"))
    assert answer.conversation_id == first.conversation_id


def test_outlook_rewritten_in_reply_to_with_our_id_in_references(
    receive, smtp_inbox, smtp_sink, agent, django_capture_on_commit_callbacks
):
    first = receive(mime(subject="Invoice copy"))
    agent_reply(first.conversation, agent, "Attached.", django_capture_on_commit_callbacks)
    ours = smtp_sink.envelopes[0].message["Message-ID"]
    # A brand new conversation of the same customer is now the most recent one...
    other = receive(mime(subject="Different topic"))
    assert other.conversation_id != first.conversation_id
    answer = receive(mime(subject="RE: Invoice copy", in_reply_to="<AM0PR01MB1234.eurprd01.prod.outlook.com>",
                          references=f"<unknown-root@example.org> {ours}"))
    assert answer.conversation_id == first.conversation_id


def test_same_subject_from_a_different_sender_is_a_new_conversation(receive, email_inbox):
    alice = receive(mime(sender="alice@example.org", subject="Order not delivered"))
    mallory = receive(mime(sender="mallory@example.net", subject="Re: Order not delivered"))
    assert mallory.conversation_id != alice.conversation_id
    assert mallory.conversation.contact_id == mallory.contact_id != alice.contact_id


def test_tokens_and_references_of_another_customer_never_attach(receive, email_inbox):
    alice = receive(mime(sender="alice@example.org", message_id="<alice-1@example.org>"))
    token = f"support+c{alice.conversation_id}@heron.local"
    mallory = receive(mime(sender="mallory@example.net", to=token, subject=f"Re: [#{alice.conversation_id}] hi",
                           in_reply_to="<alice-1@example.org>", references="<alice-1@example.org>"))
    assert mallory.conversation_id != alice.conversation_id
    assert Conversation.objects.get(pk=alice.conversation_id).messages.count() == 1


def test_forwarded_mail_is_a_new_conversation(receive, email_inbox):
    first = receive(mime(subject="Order not delivered"))
    forwarded = receive(mime(subject="Fwd: Order not delivered",
                             text="FYI\n\n---------- Forwarded message ---------\nFrom: Shop <shop@x.org>\n\nHello"))
    assert forwarded.conversation_id != first.conversation_id
    assert "Forwarded message" in forwarded.text  # a forward keeps its content visible


def test_base_subject_fallback_only_for_the_same_sender_within_seven_days(receive, email_inbox):
    first = receive(mime(subject="Order not delivered"))
    again = receive(mime(subject="RE: Re[2]: Order not delivered"))  # a client that drops every header
    assert again.conversation_id == first.conversation_id
    unrelated = receive(mime(subject="Question about sizes"))
    assert unrelated.conversation_id != first.conversation_id  # email threads by headers, not "latest open"
    Message.objects.filter(conversation_id=first.conversation_id).update(created_at=timezone.now() - timedelta(days=8))
    late = receive(mime(subject="Re: Order not delivered"))
    assert late.conversation_id not in (first.conversation_id, unrelated.conversation_id)


def test_reply_to_a_resolved_conversation_reopens_it(receive, email_inbox):
    first = receive(mime(message_id="<r-1@example.org>"))
    Conversation.objects.filter(pk=first.conversation_id).update(status=Status.RESOLVED, resolved_at=timezone.now())
    answer = receive(mime(in_reply_to="<r-1@example.org>", subject="Re: x"))
    assert answer.conversation_id == first.conversation_id
    assert Conversation.objects.get(pk=first.conversation_id).status == Status.OPEN


# ------------------------------------------------------------------------- automation and bounces

@pytest.mark.parametrize("headers", [
    {"Auto-Submitted": "auto-replied"}, {"X-Autoreply": "yes"}, {"Precedence": "bulk"}, {"Precedence": "auto_reply"},
])
def test_auto_replies_are_automated_and_never_reopen(receive, email_inbox, headers):
    first = receive(mime(message_id="<q-1@example.org>"))
    Conversation.objects.filter(pk=first.conversation_id).update(status=Status.RESOLVED, resolved_at=timezone.now())
    auto = receive(mime(subject="Out of office", in_reply_to="<q-1@example.org>", headers=headers,
                        text="I am away until Monday."))
    assert auto.conversation_id == first.conversation_id
    assert auto.metadata["automated"]
    assert Conversation.objects.get(pk=first.conversation_id).status == Status.RESOLVED


def test_auto_submitted_no_is_a_person(receive, email_inbox):
    message = receive(mime(headers={"Auto-Submitted": "no"}))
    assert "automated" not in message.metadata


def dsn(original_message_id: str, *, action="failed", status="5.1.1") -> bytes:
    boundary = "dsn-boundary-1"
    return (
        "From: Mail Delivery System <MAILER-DAEMON@mx.example.org>\r\n"
        "To: support@heron.local\r\n"
        "Subject: Undelivered Mail Returned to Sender\r\n"
        "Date: Tue, 04 Mar 2025 10:16:00 +0000\r\n"
        f"Message-ID: <{make_msgid()[1:-1]}>\r\n"
        "Auto-Submitted: auto-replied\r\n"
        "MIME-Version: 1.0\r\n"
        f'Content-Type: multipart/report; report-type=delivery-status; boundary="{boundary}"\r\n\r\n'
        f"--{boundary}\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n"
        "I'm sorry to have to inform you that your message could not be delivered.\r\n\r\n"
        f"--{boundary}\r\nContent-Type: message/delivery-status\r\n\r\n"
        "Reporting-MTA: dns; mx.example.org\r\n\r\n"
        "Final-Recipient: rfc822; nobody@example.org\r\n"
        f"Action: {action}\r\nStatus: {status}\r\n"
        "Diagnostic-Code: smtp; 550 5.1.1 <nobody@example.org>: Recipient address rejected\r\n\r\n"
        f"--{boundary}\r\nContent-Type: text/rfc822-headers\r\n\r\n"
        "From: Acme Support <support@heron.local>\r\nTo: nobody@example.org\r\n"
        f"Subject: Re: hello\r\nMessage-ID: {original_message_id}\r\n\r\n"
        f"--{boundary}--\r\n"
    ).encode()


def test_dsn_bounce_marks_our_message_failed_and_is_never_a_conversation(
    receive, smtp_inbox, smtp_sink, agent, django_capture_on_commit_callbacks
):
    first = receive(mime(sender="nobody@example.org"))
    reply = agent_reply(first.conversation, agent, "Hello!", django_capture_on_commit_callbacks)
    conversations, messages = Conversation.objects.count(), Message.objects.count()
    assert receive(dsn(smtp_sink.envelopes[0].message["Message-ID"])) is None
    reply.refresh_from_db()
    assert reply.status == DeliveryStatus.FAILED
    assert reply.error_code == "5.1.1" and "Recipient address rejected" in reply.error_message
    assert (Conversation.objects.count(), Message.objects.count()) == (conversations, messages)
    assert not Contact.objects.filter(identities__value="mailer-daemon@mx.example.org").exists()


def test_delayed_dsn_does_not_fail_the_message(receive, smtp_inbox, smtp_sink, agent, django_capture_on_commit_callbacks):
    first = receive(mime(sender="slow@example.org"))
    reply = agent_reply(first.conversation, agent, "Hello!", django_capture_on_commit_callbacks)
    receive(dsn(smtp_sink.envelopes[0].message["Message-ID"], action="delayed", status="4.4.7"))
    reply.refresh_from_db()
    assert reply.status == DeliveryStatus.SENT


def test_mail_from_our_own_address_is_ignored(receive, email_inbox):
    assert receive(mime(sender="Acme Support <support@heron.local>")) is None
    assert Message.objects.count() == 0


def test_smtp_refusal_marks_the_reply_failed(receive, smtp_inbox, smtp_sink, agent, django_capture_on_commit_callbacks):
    first = receive(mime(sender="reject-me@example.org"))
    reply = agent_reply(first.conversation, agent, "Hello!", django_capture_on_commit_callbacks)
    assert reply.status == DeliveryStatus.FAILED
    assert reply.error_code == "550" and "User unknown" in reply.error_message
    assert smtp_sink.envelopes == []


def test_smtp_server_down_is_transient(email_inbox, receive, agent, django_capture_on_commit_callbacks):
    from tests.support.servers import free_port

    email_inbox.settings = {"smtp": {"host": "127.0.0.1", "port": free_port(), "timeout": 2}}
    email_inbox.save()
    first = receive(mime())
    message = outbound.send_message(first.conversation, agent, text="hi")  # on_commit not run: deliver by hand
    assert outbound.deliver(message.pk) == 2  # seconds until the next attempt
    message.refresh_from_db()
    assert message.status == DeliveryStatus.QUEUED and "flight" not in message.metadata["send"]
    # The agent sees it at once, not when the retries run out.
    assert message.error_message.startswith("Retrying (attempt 2 of 6, next in 2 s): SMTP unavailable: ")


def test_a_connection_dropped_after_data_is_not_sent_again(
    receive, smtp_inbox, smtp_sink, agent, django_capture_on_commit_callbacks
):
    """The server got the whole message and dropped the connection before its "250". SMTP cannot be
    asked what it kept; servers store a message before they answer, so it is not sent again, and the
    agent is told it was never confirmed."""
    first = receive(mime())
    smtp_sink.drop_after_data()
    reply = agent_reply(first.conversation, agent, "Hello!", django_capture_on_commit_callbacks)
    [envelope] = smtp_sink.envelopes
    assert (reply.status, reply.provider_status) == (DeliveryStatus.SENT, "unconfirmed")
    assert reply.external_id == th.normalize_message_id(envelope.message["Message-ID"])
    assert reply.error_message.startswith("The mail server got the whole message but never confirmed it")
    assert reply.send_check_at is None and reply.send_attempts == 1


def test_every_attempt_carries_the_same_message_id(
    receive, smtp_inbox, smtp_sink, agent, settings, django_capture_on_commit_callbacks
):
    settings.HERON = {**settings.HERON, "SEND_RETRY_BACKOFF_SECONDS": 0}
    first = receive(mime())
    smtp_sink.defer_data(2)
    reply = agent_reply(first.conversation, agent, "Hello!", django_capture_on_commit_callbacks)
    assert reply.error_message.startswith("Retrying (attempt 2 of 6, next in 0 s): SMTP temporary failure 451")
    reply = settle(reply)
    [sent] = smtp_sink.envelopes
    assert [d.message["Message-ID"] for d in smtp_sink.deferred] == [sent.message["Message-ID"]] * 2
    assert reply.status == DeliveryStatus.SENT and reply.external_id == th.normalize_message_id(
        sent.message["Message-ID"])


# ------------------------------------------------------------------------------ content and safety

HOSTILE_HTML = """<div>Hello<script>alert(1)</script>
<img src="x" onerror="alert(2)"><a href="javascript:alert(3)">click</a>
<p style="width: expression(alert(4)); background:url(javascript:alert(5))">styled</p>
<svg><script>alert(6)</script><a xlink:href="javascript:alert(7)"><text>svg</text></a></svg>
<form action="https://evil.example/steal"><input name="password"><button formaction="javascript:alert(8)">go</button></form>
<iframe src="https://evil.example"></iframe><object data="x.swf"></object><base href="https://evil.example/">
<meta http-equiv="refresh" content="0;url=https://evil.example"><a href="https://ok.example/">ok link</a>
<img src="https://tracker.example/pixel.gif" alt="pixel"><img src="cid:logo@acme"></div>"""


def test_hostile_html_is_inert_in_api_output(receive, email_inbox, client_for, agent):
    message = receive(mime(html=HOSTILE_HTML, text="Hello"))
    response = client_for(agent).get(f"/api/v1/conversations/{message.conversation_id}/messages/")
    assert response.status_code == 200
    [payload] = [m for m in response.json()["results"] if m["id"] == message.pk]
    html = payload["html"].lower()
    for needle in ("<script", "onerror", "javascript:", "expression(", "<svg", "<form", "formaction", "<iframe",
                   "<object", "<base", "<meta", "style=", "<input"):
        assert needle not in html, needle
    assert 'href="https://ok.example/"' in html and "ok link" in html
    # Remote images wait for "load images": their URL moves to data-remote-src; cid: images stay.
    assert 'data-remote-src="https://tracker.example/pixel.gif"' in html
    assert re.search(r'\ssrc="https?://tracker', html) is None
    assert 'src="cid:logo@acme"' in html


def test_an_emails_own_formatting_is_kept_within_safe_properties(receive, email_inbox):
    html = receive(mime(text="Order", html=(
        '<table style="border-collapse: collapse"><tr><td style="border: 1px solid #ccc; color: #b91c1c; '
        'position: fixed; background-image: url(https://tracker.example/t.gif)">Total</td></tr></table>'
        '<p><img src="logo.png" alt="relative"><a href="/admin/">relative link</a></p>'))).html
    assert 'style="border-collapse:collapse"' in html
    assert "border:1px solid #ccc" in html and "color:#b91c1c" in html
    assert "position" not in html and "tracker.example" not in html
    assert "logo.png" not in html and 'href="/admin/"' not in html  # never fetched from, or linking into, Heron


def test_attachments_and_inline_images_are_stored_and_served_to_those_who_may_see(
    receive, email_inbox, client_for, agent, sales_agent
):
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
    raw = mime(html='<p>See <img src="cid:chart"></p>', attachments=(
        ("invoice.pdf", b"%PDF-1.4 test", "application", "pdf"),
        ("drawing.svg", b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>', "image", "svg+xml"),
    ))
    from email import message_from_bytes, policy

    msg = message_from_bytes(raw, policy=policy.default)
    msg.get_body(("html",)).add_related(png, "image", "png", cid="<chart>", filename="chart.png")
    message = receive(msg.as_bytes())
    files = {a.filename: a for a in message.attachments.all()}
    assert set(files) == {"invoice.pdf", "drawing.svg", "chart.png"}
    assert files["chart.png"].content_type == "image/png" and files["chart.png"].size == len(png)
    assert files["drawing.svg"].content_type == "application/octet-stream"  # never rendered inline
    assert message.metadata["cid_map"] == {"chart": 2} or "chart" in message.metadata["cid_map"]
    api = client_for(agent)
    pdf = api.get(f"/api/v1/attachments/{files['invoice.pdf'].pk}/")
    assert pdf.status_code == 200 and pdf["Content-Disposition"].startswith("attachment")
    assert b"".join(pdf.streaming_content) == b"%PDF-1.4 test"
    assert api.get(f"/api/v1/attachments/{files['drawing.svg'].pk}/")["Content-Disposition"].startswith("attachment")
    assert client_for(sales_agent).get(f"/api/v1/attachments/{files['invoice.pdf'].pk}/").status_code == 404


def test_inline_images_get_a_signed_link_the_sandboxed_iframe_can_load_without_cookies(
    receive, email_inbox, client_for, agent, client, settings
):
    """The email's HTML is shown in a sandboxed iframe (opaque origin): its requests carry no session cookie."""
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
    raw = mime(html='<p><img src="cid:logo"></p>', attachments=(("notes.pdf", b"%PDF-1.4", "application", "pdf"),))
    from email import message_from_bytes, policy

    msg = message_from_bytes(raw, policy=policy.default)
    msg.get_body(("html",)).add_related(png, "image", "png", cid="<logo>", filename="logo.png")
    message = receive(msg.as_bytes())
    listed = client_for(agent).get(f"/api/v1/conversations/{message.conversation_id}/messages/").json()["results"]
    files = {a["filename"]: a for a in listed[0]["attachments"]}
    assert files["notes.pdf"]["inline_url"] is None  # only images we render inline get a cookie-less link
    link = files["logo.png"]["inline_url"]
    assert link.startswith("/media/public/")

    image = client.get(link)  # no session: the link itself is the permission
    assert image.status_code == 200 and image["Content-Type"] == "image/png"
    assert b"".join(image.streaming_content) == png
    assert image["X-Content-Type-Options"] == "nosniff"
    token = link.split("/")[3]
    assert client.get(link.replace(token, token[:-1] + ("A" if token[-1] != "A" else "B"))).status_code == 404
    pdf = Message.objects.get(pk=message.pk).attachments.get(filename="notes.pdf")
    assert client.get(link.replace(f"/{files['logo.png']['id']}:", f"/{pdf.pk}:")).status_code == 404
    settings.PUBLIC_MEDIA_MAX_AGE = -1
    assert client.get(link).status_code == 404  # expired


def test_view_original_is_the_email_as_it_arrived_for_those_who_may_see_it(
    receive, email_inbox, client_for, agent, sales_agent, marketer, client
):
    raw = mime(subject="Größe falsch", text="Bitte umtauschen.\n",
               headers={"X-Mailer": "Apple Mail (2.3774)", "Received": "from mx.example.org by heron"})
    message = receive(raw)
    url = f"/api/v1/messages/{message.pk}/original/"

    shown = client_for(agent).get(url)
    assert shown.status_code == 200 and shown.content == raw
    assert shown["Content-Type"] == "text/plain; charset=utf-8"  # the browser displays it
    assert "Content-Disposition" not in shown and shown["X-Content-Type-Options"] == "nosniff"
    download = client_for(agent).get(url, {"download": "1"})
    assert download.status_code == 200 and download.content == raw
    assert download["Content-Type"] == "message/rfc822"
    assert download["Content-Disposition"] == f'attachment; filename="message-{message.pk}.eml"'

    assert client_for(marketer).get(url).content == raw  # marketers read everything
    hidden = client_for(sales_agent).get(url)  # another team's conversation: as if it did not exist
    assert hidden.status_code == 404 and raw[:20] not in hidden.content
    assert client.get(url).status_code in (401, 403)
    assert client_for(agent).get("/api/v1/messages/999999/original/").status_code == 404
    schema = client.get("/api/schema/").content
    assert b"/api/v1/messages/{id}/original/:" in schema and b"message/rfc822" in schema


def test_messages_without_an_original_say_so(receive, email_inbox, client_for, agent, smtp_inbox,
                                             django_capture_on_commit_callbacks):
    message = receive(mime())
    reply = agent_reply(message.conversation, agent, "On its way.", django_capture_on_commit_callbacks)
    response = client_for(agent).get(f"/api/v1/messages/{reply.pk}/original/")
    assert response.status_code == 404
    assert "only inbound emails" in response.json()["detail"]


def test_imap_fetched_mail_keeps_its_original_byte_for_byte(email_inbox, client_for, agent):
    from channels_adapters.email.imap import ingest_raw

    raw = mime(subject="Via IMAP", text="Caf\xe9 au lait").replace(b"\n", b"\r\n")  # as IMAP servers send it
    assert ingest_raw(email_inbox, raw, uid=41, uidvalidity=7) == "stored"
    message = Message.objects.get(subject="Via IMAP")
    assert client_for(agent).get(f"/api/v1/messages/{message.pk}/original/").content == raw


def test_oversized_attachment_is_skipped_not_fatal(receive, email_inbox, settings):
    settings.HERON_EMAIL = {**settings.HERON_EMAIL, "MAX_ATTACHMENT_BYTES": 1024 * 1024}
    big = bytes(range(256)) * (5 * 1024 * 1024 // 256)  # 5 MB
    message = receive(mime(text="Here is the video", attachments=(
        ("video.bin", big, "application", "octet-stream"), ("small.txt", b"ok", "text", "plain"),
    )))
    assert message.text == "Here is the video"
    assert [a.filename for a in message.attachments.all()] == ["small.txt"]
    assert message.metadata["skipped_attachments"][0]["filename"] == "video.bin"
    assert message.metadata["skipped_attachments"][0]["size"] == len(big)


def test_esp_stripped_text_wins(client, email_inbox):
    import json

    from channels_adapters.email.simulate import postmark_payload

    payload = postmark_payload(mime(text="Short answer\n\nOn Mon someone wrote:\n> long quote"))
    payload["StrippedTextReply"] = "Short answer (stripped by the ESP)"
    response = client.post("/anymail/postmark/inbound/", data=json.dumps(payload), content_type="application/json",
                           HTTP_AUTHORIZATION=basic_auth_header())
    assert response.status_code == 200
    message = Message.objects.get()
    assert message.text == "Short answer (stripped by the ESP)"
    assert "long quote" in message.metadata["quoted_text"]


def test_mailgun_raw_mime_webhook_with_signature(client, email_inbox, settings):
    import hashlib
    import hmac
    import time

    settings.ANYMAIL = {**settings.ANYMAIL, "MAILGUN_WEBHOOK_SIGNING_KEY": "mg-key"}
    timestamp, token = str(int(time.time())), "tok123"
    signature = hmac.new(b"mg-key", (timestamp + token).encode(), hashlib.sha256).hexdigest()
    data = {"body-mime": mime(subject="via mailgun").decode(), "recipient": "support@heron.local",
            "sender": "alice@example.org", "timestamp": timestamp, "token": token, "signature": signature}
    assert client.post("/anymail/mailgun/inbound_mime/", data, HTTP_AUTHORIZATION=basic_auth_header()).status_code == 200
    assert Message.objects.get().subject == "via mailgun"
    data["signature"] = "0" * 64
    data["body-mime"] = mime(subject="forged").decode()
    assert client.post("/anymail/mailgun/inbound_mime/", data, HTTP_AUTHORIZATION=basic_auth_header()).status_code == 400
    assert Message.objects.count() == 1 and RawInboundEvent.objects.count() == 1


# --------------------------------------------------------------------------------- pure helpers

@pytest.mark.parametrize("subject,expected", [
    ("Re: [Ticket #1042] Order not delivered", "order not delivered"),
    ("RE: Re[2]: Fwd: Hello", "hello"),
    ("[fwd: Hello]", "hello"),
    ("AW: Hello (fwd)", "hello"),
    ("SV: Vs: WG: Hello", "hello"),
    ("Re: [#12] Hello   there", "hello there"),
    ("[Acme] Re: Hi", "hi"),
    ("[only a blob]", "[only a blob]"),
    ("", ""),
])
def test_base_subject(subject, expected):
    assert th.base_subject(subject) == expected


def test_tokens_and_message_ids():
    assert th.ticket_tag("Re: Photos [#42]") == 42 and th.ticket_tag("Order #42") is None
    assert th.add_ticket_tag("Re: Photos", 7) == "Re: Photos [#7]"
    assert th.add_ticket_tag("Re: Photos [#7]", 7) == "Re: Photos [#7]"
    assert th.token_from_address("Support+C123@Heron.local") == 123
    assert th.token_from_address("support+billing@heron.local") is None
    assert th.plus_address("support@heron.local", 5) == "support+c5@heron.local"
    mid = th.make_message_id(12, 34, "heron.local", "a1b2c3")
    assert mid.startswith("<heron.c12.m34.") and th.parse_our_message_id(mid) == (12, 34)
    assert th.parse_our_message_id("<CAF3x9+orig@mail.example.org>") is None
    assert th.reference_chain("<a@x>", "<r1@x>\r\n <r2@x> <a@x>") == ["a@x", "r2@x", "r1@x"]
    assert th.message_ids("no-brackets@example.org") == ["no-brackets@example.org"]


# ------------------------------------------------------------------- simulator against a real server

def test_simulate_email_posts_a_webhook_the_running_server_accepts_and_threads(server, support, agent, settings):
    """`manage.py simulate email` → real uvicorn → new conversation; an agent reply; `--reply-to-last` threads back."""
    from django.core.management import call_command

    from channels_adapters.email import simulate

    sink = SmtpSink().start()
    try:
        inbox = Inbox.objects.create(name="Acme Support", channel="email", address="support@heron.local", team=support,
                                     settings=sink.inbox_settings)
        settings.PUBLIC_BASE_URL = server.url
        call_command("simulate", "email", "--from", "olivia@example.org", "--name", "Olivia Park",
                     "--subject", "Parcel damaged", "--text", "The corner is crushed.")
        first = Message.objects.get(inbox=inbox, direction=Direction.IN)
        assert first.text == "The corner is crushed." and first.contact.name == "Olivia Park"

        outbound.send_message(first.conversation, agent, text="Sorry! A replacement is on its way.")  # commits
        [envelope] = sink.envelopes
        assert envelope.message["In-Reply-To"] == f"<{first.external_id}>"

        response = simulate.run({"sender": "olivia@example.org", "name": "", "to": "", "subject": "ignored",
                                 "text": "Thank you!", "html": "", "reply_to_last": True})
        assert response.status_code == 200
        answer = Message.objects.filter(direction=Direction.IN).order_by("-id").first()
        assert answer.text == "Thank you!" and answer.conversation_id == first.conversation_id
        assert answer.metadata["in_reply_to"] == [th.normalize_message_id(envelope.message["Message-ID"])]
    finally:
        sink.stop()
