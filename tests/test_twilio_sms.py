"""Twilio SMS/MMS: signatures, inbound, MMS media, outbound through twilio-python, status callbacks, consent.

Fast tests: Django's test client for the webhooks (in this process, Celery eager), the fake Twilio REST
API of tests/fakes/twilio.py for everything Heron asks Twilio. Real-HTTP tests: test_twilio_sms_live.py.
"""

from __future__ import annotations

from urllib.parse import urlencode

import pytest
from django.conf import settings
from django.http import QueryDict
from twilio.request_validator import RequestValidator

from channels_adapters import twilio_common
from channels_adapters.twilio_sms.parse import MAX_BODY_CHARS
from inbox.models import Attachment, Conversation, Identity, Inbox, Message, MessageKind, RawInboundEvent
from tests.fakes.twilio import (
    ACCOUNT_SID,
    AUTH_TOKEN,
    CUSTOMER,
    INBOX_NUMBER,
    FakeTwilio,
    inbound_params,
    new_sid,
    post_twilio,
    signature,
    status_params,
    twilio_inbox,
)
from tests.support.sending import settle

INBOUND = "/webhooks/twilio/sms/"
STATUS = "/webhooks/twilio/sms/status/"
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response />'


@pytest.fixture
def sms_inbox(support, fake_twilio: FakeTwilio) -> Inbox:
    inbox = twilio_inbox(support, channel="sms", name="SMS")
    fake_twilio.add_account(ACCOUNT_SID, AUTH_TOKEN)
    return inbox


def reply(client_for, user, conversation: Conversation, text: str = "Your parcel ships today."):
    return client_for(user).post(f"/api/v1/conversations/{conversation.pk}/messages/", {"text": text}, format="json")


# --------------------------------------------------------------------------------------- signatures
VECTOR_URI = "https://mycompany.com/myapp.php?foo=1&bar=2"
VECTOR_PARAMS = {"CallSid": "CA1234567890ABCDE", "Digits": "1234", "From": "+14158675309", "To": "+18005551212",
                 "Caller": "+14158675309"}


@pytest.mark.parametrize(("uri", "expected"), [
    (VECTOR_URI, "RSOYDt4T1cUTdK1PDd93/VVr8B8="),
    (VECTOR_URI, "kvajT1Ptam85bY51eRf/AJRuM3w="),  # signed with :443, validated without the port
    ("http://mycompany.com/myapp.php?foo=1&bar=2", "0ZXoZLH/DfblKGATFgpif+LLRf4="),  # :80 added
    ("http://mycompany.com:1234/myapp.php?foo=1&bar=2", "Zmvh+3yNM1Phv2jhDCwEM3q5ebU="),
    ("https://mycompany.com:1234/myapp.php?foo=1&bar=2", "RSOYDt4T1cUTdK1PDd93/VVr8B8="),  # port removed
])
def test_official_signature_vectors_pass_our_validation(uri, expected):
    assert twilio_common.signature_is_valid(uri, VECTOR_PARAMS, expected, ["12345"])
    assert not twilio_common.signature_is_valid(uri, VECTOR_PARAMS, expected, ["54321"])
    assert not twilio_common.signature_is_valid(uri, {**VECTOR_PARAMS, "Digits": "9999"}, expected, ["12345"])


def test_official_vector_string_signed_is_what_we_compute():
    validator = RequestValidator("12345")
    assert validator.compute_signature(VECTOR_URI, VECTOR_PARAMS) == "RSOYDt4T1cUTdK1PDd93/VVr8B8="
    assert twilio_common.sign(VECTOR_URI, VECTOR_PARAMS, "12345") == "RSOYDt4T1cUTdK1PDd93/VVr8B8="


def test_official_duplicate_params_vector_with_a_querydict():
    params = QueryDict("Sid=CA123&SidAccount=AC123&Digits=5678&Digits=1234&Digits=1234")
    assert twilio_common.signature_is_valid(VECTOR_URI, params, "IK+Dwps556ElfBT0I3Rgjkr1wJU=", ["12345"])


def test_official_body_hash_vector():
    body = '{"property": "value", "boolean": true}'
    digest = "0a1ff7634d9ab3b95db5c9a2dfe9416e41502b283a80c7cf19632632f96e6620"
    uri = VECTOR_URI + "&bodySHA256=" + digest
    assert twilio_common.signature_is_valid(uri, body, "a9nBmqA0ju/hNViExpshrM61xv4=", ["12345"])
    assert not twilio_common.signature_is_valid(uri, body + " ", "a9nBmqA0ju/hNViExpshrM61xv4=", ["12345"])


def test_secondary_token_is_accepted_during_rotation():
    sig = RequestValidator("new-token").compute_signature(VECTOR_URI, VECTOR_PARAMS)
    tokens = twilio_common.auth_tokens({"auth_token": "old-token", "secondary_auth_token": "new-token"})
    assert tokens == ["old-token", "new-token"]
    assert twilio_common.signature_is_valid(VECTOR_URI, VECTOR_PARAMS, sig, tokens)
    assert not twilio_common.signature_is_valid(VECTOR_URI, VECTOR_PARAMS, sig, ["old-token"])
    assert not twilio_common.signature_is_valid(VECTOR_URI, VECTOR_PARAMS, "", tokens)


# ------------------------------------------------------------------------------------------ inbound
def test_signed_inbound_sms_is_stored_and_answered_with_empty_twiml(client, sms_inbox):
    params = inbound_params(Body="Hi, my order #1042 hasn't arrived")
    response = post_twilio(client, INBOUND, params, **{"I-Twilio-Idempotency-Token": "tok-1"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/xml")
    assert response.content.decode() == EMPTY_TWIML
    message = Message.objects.get(external_id=params["MessageSid"])
    assert message.inbox == sms_inbox
    assert message.channel == "sms"
    assert message.text == "Hi, my order #1042 hasn't arrived"
    assert message.identity.kind == "phone" and message.identity.value == CUSTOMER
    assert message.metadata["twilio"]["idempotency_token"] == "tok-1"
    assert message.metadata["twilio"]["account_sid"] == ACCOUNT_SID
    raw = RawInboundEvent.objects.get()
    assert raw.result == "processed" and raw.inbox == sms_inbox
    assert raw.headers["X-Twilio-Signature"]


def test_inbox_found_by_messaging_service_sid_with_secondary_token(client, support):
    inbox = Inbox(name="Service", channel="sms", address="+15017120000", team=support)
    inbox.credentials = {"account_sid": ACCOUNT_SID, "auth_token": "rotated-out",
                         "secondary_auth_token": "rotated-in", "messaging_service_sid": "MG" + "a" * 32}
    inbox.save()
    # To is another number of the Messaging Service: the service SID decides.
    params = inbound_params(MessagingServiceSid="MG" + "a" * 32, To="+15017129999")
    response = post_twilio(client, INBOUND, params, token="rotated-in")
    assert response.status_code == 200
    assert Message.objects.get(external_id=params["MessageSid"]).inbox == inbox


@pytest.mark.parametrize("case", ["tampered", "wrong_token", "missing_header", "url_mismatch", "no_slash_url",
                                  "other_account"])
def test_bad_signatures_are_refused_and_nothing_is_stored(client, sms_inbox, case):
    params = inbound_params()
    url = settings.PUBLIC_BASE_URL + INBOUND
    if case == "tampered":
        good = signature(url, params)
        response = post_twilio(client, INBOUND, {**params, "Body": "send me a refund"}, sig=good)
    elif case == "wrong_token":
        response = post_twilio(client, INBOUND, params, token="not-the-token")
    elif case == "missing_header":
        response = post_twilio(client, INBOUND, params, sig="")
    elif case == "url_mismatch":
        response = post_twilio(client, INBOUND, params, signed_url="https://evil.example.com" + INBOUND)
    elif case == "no_slash_url":
        response = post_twilio(client, INBOUND, params, signed_url=url.rstrip("/"))
    else:  # a real signature, but for an account this inbox does not belong to
        response = post_twilio(client, INBOUND, {**params, "AccountSid": "AC" + "9" * 32})
    assert response.status_code in (403, 404)
    assert response.json()["detail"]
    if case != "other_account":
        assert response.status_code == 403
        assert "signature" in response.json()["detail"].lower()
    assert RawInboundEvent.objects.count() == 0
    assert Message.objects.count() == 0


# The inbox a webhook names is kept a few seconds per process (inbox/inbox_cache.py). Another
# process's change is simulated by writing the database without this process's model signals.
def changed_by_another_process(inbox: Inbox, **credentials) -> None:
    changed = Inbox.objects.get(pk=inbox.pk)
    changed.credentials = credentials
    Inbox.objects.filter(pk=inbox.pk).update(encrypted_credentials=changed.encrypted_credentials)


def test_a_rotated_token_works_at_once_although_the_inbox_is_kept(client, sms_inbox):
    assert post_twilio(client, INBOUND, inbound_params()).status_code == 200  # now kept
    changed_by_another_process(sms_inbox, account_sid=ACCOUNT_SID, auth_token="new-token")

    assert post_twilio(client, INBOUND, inbound_params(), token="new-token").status_code == 200
    assert post_twilio(client, INBOUND, inbound_params()).status_code == 403  # the old token, re-read
    assert Message.objects.count() == 2


@pytest.mark.django_db(transaction=True)  # the foreign key is checked when the INSERT commits
@pytest.mark.parametrize("added_again", [False, True])
def test_an_inbox_another_process_deleted_is_looked_up_again_not_a_500(client, sms_inbox, added_again):
    from django.db import connection

    from inbox.inbox_cache import inboxes_of

    assert inboxes_of("sms") == {INBOX_NUMBER: sms_inbox}  # kept, as the first webhook keeps it
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM inbox_inbox WHERE id = %s", [sms_inbox.pk])
    if added_again:  # bulk_create: no model signal, as when another process adds it
        again = Inbox(name="SMS again", channel="sms", address=INBOX_NUMBER, team=sms_inbox.team)
        again.credentials = sms_inbox.credentials
        Inbox.objects.bulk_create([again])

    response = post_twilio(client, INBOUND, inbound_params())
    if added_again:
        assert response.status_code == 200
        assert RawInboundEvent.objects.get().inbox.name == "SMS again"
    else:
        assert response.status_code == 404 and response.json()["detail"]
        assert RawInboundEvent.objects.count() == 0


def test_an_inbox_changed_through_this_process_is_seen_at_once(client, sms_inbox):
    assert post_twilio(client, INBOUND, inbound_params()).status_code == 200  # now kept
    sms_inbox.address = "+15005550001"
    sms_inbox.save()
    assert post_twilio(client, INBOUND, inbound_params()).status_code == 404


def test_unknown_number_is_refused_without_storing(client, sms_inbox):
    response = post_twilio(client, INBOUND, inbound_params(To="+15005550000"))
    assert response.status_code == 404
    assert RawInboundEvent.objects.count() == 0 and Message.objects.count() == 0


def test_get_is_not_allowed(client, sms_inbox):
    assert client.get(INBOUND).status_code == 405
    assert RawInboundEvent.objects.count() == 0


def test_proxy_terminating_tls_validates_through_public_base_url(client, sms_inbox, settings):
    """Django sees http://testserver; Twilio signed https://heron.example.com (PUBLIC_BASE_URL)."""
    settings.PUBLIC_BASE_URL = "https://heron.example.com"
    params = inbound_params()
    response = post_twilio(client, INBOUND, params, signed_url="https://heron.example.com" + INBOUND,
                           **{"X-Forwarded-Proto": "https"})
    assert response.status_code == 200
    assert Message.objects.filter(external_id=params["MessageSid"]).count() == 1
    # What Django itself sees is not what Twilio signed: that must not validate.
    other = inbound_params()
    response = post_twilio(client, INBOUND, other, signed_url="http://testserver" + INBOUND)
    assert response.status_code == 403
    assert not Message.objects.filter(external_id=other["MessageSid"]).exists()


def test_same_webhook_three_times_is_one_message(client, sms_inbox):
    params = inbound_params()
    responses = [post_twilio(client, INBOUND, params) for _ in range(3)]
    assert [r.status_code for r in responses] == [200, 200, 200]
    assert all(r.content.decode() == EMPTY_TWIML for r in responses)
    assert Message.objects.filter(external_id=params["MessageSid"]).count() == 1
    assert Conversation.objects.count() == 1
    assert sorted(RawInboundEvent.objects.values_list("result", flat=True)) == ["duplicate", "duplicate", "processed"]


@pytest.mark.parametrize(("case", "expected"), [
    ("missing_from", "'From' is missing"),
    ("bad_phone", "'From' is not a phone number"),
    ("huge_body", f"longer than {MAX_BODY_CHARS}"),
    ("non_utf8", "not valid UTF-8"),
    ("missing_sid", "'MessageSid' is missing"),
    ("bad_num_media", "'NumMedia'"),
])
def test_malformed_signed_bodies_get_4xx_and_the_raw_event_is_kept(client, sms_inbox, case, expected):
    params = inbound_params()
    body = None
    if case == "missing_from":
        params.pop("From")
    elif case == "bad_phone":
        params["From"] = "not-a-phone"
    elif case == "huge_body":
        params["Body"] = "x" * (MAX_BODY_CHARS * 10)
    elif case == "missing_sid":
        for key in ("MessageSid", "SmsSid", "SmsMessageSid"):
            params.pop(key)
    elif case == "bad_num_media":
        params["NumMedia"] = "lots"
    else:  # Latin-1 bytes where UTF-8 is due; Django decodes them to U+FFFD, which is what gets signed
        body = urlencode(params) + "&Caption=caf%E9"
        params["Caption"] = "caf\ufffd"
    response = post_twilio(client, INBOUND, params, body=body)
    assert 400 <= response.status_code < 500
    assert expected in response.json()["detail"]
    raw = RawInboundEvent.objects.get()
    assert raw.result == "failed" and expected in raw.error
    assert Message.objects.count() == 0


def test_nul_characters_are_dropped_not_a_500(client, sms_inbox):
    """PostgreSQL stores no NUL character: a stray one must not make a customer's message unrecordable."""
    assert post_twilio(client, INBOUND, inbound_params(Body="Where is\x00 my order?")).status_code == 200
    assert Message.objects.get().text == "Where is my order?"


# ---------------------------------------------------------------------------------------------- MMS
def test_mms_with_two_media_stores_two_attachments_with_bytes_and_types(client, sms_inbox, fake_twilio,
                                                                       django_capture_on_commit_callbacks):
    jpeg = b"\xff\xd8\xff\xe0" + b"jpeg-bytes" * 50
    pdf = b"%PDF-1.4 invoice"
    url0 = fake_twilio.add_media(ACCOUNT_SID, jpeg, "image/jpeg")
    url1 = fake_twilio.add_media(ACCOUNT_SID, pdf, "application/pdf")
    params = inbound_params(MessageSid=new_sid("MM"), NumMedia="2", Body="Photo of the box and the invoice",
                            MediaUrl0=url0, MediaContentType0="image/jpeg",
                            MediaUrl1=url1, MediaContentType1="application/pdf")
    with django_capture_on_commit_callbacks(execute=True):  # downloads start once the message is committed
        response = post_twilio(client, INBOUND, params)
    assert response.status_code == 200
    message = Message.objects.get(external_id=params["MessageSid"])
    attachments = list(message.attachments.order_by("id"))
    assert [a.state for a in attachments] == ["ready", "ready"]
    assert [a.content_type for a in attachments] == ["image/jpeg", "application/pdf"]
    assert [a.size for a in attachments] == [len(jpeg), len(pdf)]
    assert attachments[0].file.read() == jpeg
    assert attachments[1].file.read() == pdf
    assert attachments[0].filename.endswith(".jpg") and attachments[1].filename.endswith(".pdf")
    # Fetched with Basic Auth AccountSid:AuthToken.
    assert fake_twilio.media_hits(url0) == [True] and fake_twilio.media_hits(url1) == [True]


def test_media_server_error_is_retried(client, sms_inbox, fake_twilio, django_capture_on_commit_callbacks):
    url = fake_twilio.add_media(ACCOUNT_SID, b"\x89PNG...", "image/png", fail_first=[503, 500])
    params = inbound_params(MessageSid=new_sid("MM"), NumMedia="1", Body="", MediaUrl0=url,
                            MediaContentType0="image/png")
    with django_capture_on_commit_callbacks(execute=True):
        assert post_twilio(client, INBOUND, params).status_code == 200
    attachment = Attachment.objects.get()
    assert attachment.state == "ready"
    assert attachment.file.read() == b"\x89PNG..."
    assert attachment.download_attempts == 3
    assert fake_twilio.media_hits(url) == [True, True, True]


def test_media_refused_by_twilio_is_marked_failed_not_dropped(client, sms_inbox, fake_twilio,
                                                              django_capture_on_commit_callbacks):
    url = fake_twilio.add_media(ACCOUNT_SID, b"x", "image/png", fail_first=[])
    fake_twilio.accounts[ACCOUNT_SID] = "a-token-heron-does-not-have"  # Basic Auth fails: 401
    params = inbound_params(MessageSid=new_sid("MM"), NumMedia="1", MediaUrl0=url, MediaContentType0="image/png")
    with django_capture_on_commit_callbacks(execute=True):
        assert post_twilio(client, INBOUND, params).status_code == 200
    attachment = Attachment.objects.get()
    assert attachment.state == "failed"
    assert "401" in attachment.error
    assert fake_twilio.media_hits(url) == [False]


# ----------------------------------------------------------------------------------------- outbound
@pytest.fixture
def sms_conversation(client, sms_inbox) -> Conversation:
    params = inbound_params()
    assert post_twilio(client, INBOUND, params).status_code == 200
    return Message.objects.get(external_id=params["MessageSid"]).conversation


def test_reply_goes_through_twilio_with_status_callback(client_for, agent, sms_conversation, fake_twilio,
                                                        django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = reply(client_for, agent, sms_conversation, "Your parcel ships today.")
    assert response.status_code == 201
    [send] = fake_twilio.sends
    assert send.account_sid == ACCOUNT_SID
    assert send.get("To") == CUSTOMER
    assert send.get("From") == INBOX_NUMBER
    assert send.get("Body") == "Your parcel ships today."
    assert send.get("StatusCallback") == settings.PUBLIC_BASE_URL + STATUS
    message = Message.objects.get(pk=response.json()["id"])
    assert message.external_id == send.sid
    assert message.status == "queued" and message.provider_status == "queued"


def test_reply_through_a_messaging_service(client_for, agent, sms_conversation, sms_inbox, fake_twilio,
                                           django_capture_on_commit_callbacks):
    sms_inbox.credentials = {**sms_inbox.credentials, "messaging_service_sid": "MG" + "b" * 32}
    sms_inbox.save()
    with django_capture_on_commit_callbacks(execute=True):
        assert reply(client_for, agent, sms_conversation).status_code == 201
    [send] = fake_twilio.sends
    assert send.get("MessagingServiceSid") == "MG" + "b" * 32
    assert "From" not in send.form


def test_agent_chooses_sms_for_a_contact_met_on_another_channel(client_for, agent, inbox, sms_inbox, fake_twilio,
                                                                customer_writes, django_capture_on_commit_callbacks):
    from inbox.services.contacts import add_identity

    first = customer_writes(inbox, "alice-web", "Hi from the web chat")
    add_identity(first.contact, "phone", "+1 (555) 867-5310")
    sms_inbox.address = "+1 501-712-2661"  # typed loosely by an admin: still sent as E.164
    sms_inbox.save()
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(agent).post(f"/api/v1/conversations/{first.conversation_id}/messages/",
                                          {"text": "Texting you instead", "channel": "sms"}, format="json")
    assert response.status_code == 201, response.content
    [send] = fake_twilio.sends
    assert (send.get("To"), send.get("From"), send.get("Body")) == (CUSTOMER, INBOX_NUMBER, "Texting you instead")
    assert Message.objects.get(pk=response.json()["id"]).external_id == send.sid


def test_long_reply_is_sent_whole_for_twilio_to_split(client_for, agent, sms_conversation, fake_twilio,
                                                      django_capture_on_commit_callbacks):
    text = "Long answer. " * 40  # 520 characters: several segments
    with django_capture_on_commit_callbacks(execute=True):
        assert reply(client_for, agent, sms_conversation, text).status_code == 201
    assert fake_twilio.sends[0].get("Body") == text


@pytest.fixture
def quick_retries(settings):
    """Retries after 0.2 s (then 0.4, 0.8…), the provider's answer awaited half a second, a lease of one second."""
    settings.HERON = {**settings.HERON, "SEND_RETRY_BACKOFF_SECONDS": 0.2, "PROVIDER_TIMEOUT_SECONDS": 0.5,
                      "SEND_LEASE_SECONDS": 1}


def test_twilio_5xx_is_retried_and_sends_exactly_once(client_for, agent, sms_conversation, fake_twilio,
                                                      quick_retries, django_capture_on_commit_callbacks):
    fake_twilio.fail_next(503, times=2)
    with django_capture_on_commit_callbacks(execute=True):
        response = reply(client_for, agent, sms_conversation)
    assert response.status_code == 201
    assert Message.objects.get(pk=response.json()["id"]).error_message.startswith(
        "Retrying (attempt 2 of 6, next in 0.2 s): Twilio answered 503")
    message = settle(response.json()["id"])
    assert [r.status_code for r in fake_twilio.requests] == [503, 503, 201]
    assert len(fake_twilio.sends) == 1
    assert message.external_id == fake_twilio.sends[0].sid
    assert message.send_attempts == 3
    assert message.status == "queued" and message.error_message == "" and "flight" not in message.metadata["send"]


def test_twilio_4xx_fails_the_message_with_a_readable_reason(client_for, agent, sms_conversation, fake_twilio,
                                                             django_capture_on_commit_callbacks):
    fake_twilio.fail_next(400, code=21211, message="The 'To' number +1555 is not a valid phone number.")
    with django_capture_on_commit_callbacks(execute=True):
        response = reply(client_for, agent, sms_conversation)
    message = Message.objects.get(pk=response.json()["id"])
    assert message.status == "failed"
    assert message.error_code == "21211"
    assert "Invalid 'To' number" in message.error_message
    assert len(fake_twilio.requests) == 1  # a permanent refusal is not retried


def test_twilio_21610_marks_the_number_opted_out(client_for, agent, sms_conversation, fake_twilio,
                                               django_capture_on_commit_callbacks):
    """The customer unsubscribed before Heron knew: the refusal itself records the opt-out."""
    fake_twilio.fail_next(400, code=21610, message="Attempt to send to unsubscribed recipient")
    with django_capture_on_commit_callbacks(execute=True):
        response = reply(client_for, agent, sms_conversation)
    message = Message.objects.get(pk=response.json()["id"])
    assert (message.status, message.error_code) == ("failed", "21610")
    assert message.identity.opted_out is True
    assert sms_conversation.messages.filter(kind="activity", text__contains="unsubscribed").exists()
    again = reply(client_for, agent, sms_conversation)
    assert again.status_code == 400 and "opted out" in again.json()["detail"]
    assert len(fake_twilio.requests) == 1


def test_twilio_unreachable_is_retried_until_given_up(client_for, agent, sms_conversation, settings, quick_retries,
                                                      django_capture_on_commit_callbacks):
    settings.TWILIO_API_BASE_URL = "http://127.0.0.1:9"  # nothing listens there
    settings.HERON = {**settings.HERON, "SEND_MAX_RETRIES": 2}
    with django_capture_on_commit_callbacks(execute=True):
        response = reply(client_for, agent, sms_conversation)
    message = settle(response.json()["id"])
    assert message.status == "failed"
    assert message.error_message.startswith("The provider kept failing: Could not reach Twilio")
    assert message.send_attempts == 3


# ------------------------------------------------------------------------------------ lost answers
@pytest.mark.parametrize(("fault", "kept"), [
    ("slow", True),  # accepted, answered only after the client gave up waiting
    ("reset", True), ("reset", False),  # the connection reset once Twilio had read the request
    ("html", True), ("html", False),  # a 200 that is an HTML page, not Twilio's JSON
    ("killed", True), ("killed", False),  # Twilio died mid-request and was away for a second
])
def test_a_lost_answer_from_twilio_never_sends_the_reply_twice(
        fault, kept, client_for, agent, sms_conversation, fake_twilio, quick_retries,
        django_capture_on_commit_callbacks):
    """Heron does not know whether Twilio has the reply: it looks it up in Twilio's Messages list, adopts
    what it finds, and sends again only when Twilio has none."""
    fake_twilio.fault_next(fault, accept=kept, seconds=2 if fault == "slow" else 1)
    with django_capture_on_commit_callbacks(execute=True):
        response = reply(client_for, agent, sms_conversation, "Your parcel ships today.")
    message = Message.objects.get(pk=response.json()["id"])
    assert message.status == "unconfirmed", message.error_message
    assert message.error_message.startswith("Unconfirmed: Twilio's answer")
    if fault == "html":
        assert message.metadata["send"]["answer"].startswith("200 <!DOCTYPE html>")  # the raw answer, kept

    message = settle(message, timeout=20)
    [send] = fake_twilio.sends
    assert len(fake_twilio.requests) == (1 if kept else 2)  # sent again only when Twilio had none
    assert (message.status, message.provider_status, message.external_id) == ("queued", "queued", send.sid)
    assert message.send_attempts == (1 if kept else 2) and message.error_message == ""
    assert fake_twilio.list_requests[-1] == {"To": CUSTOMER, "From": INBOX_NUMBER, "PageSize": "100",
                                             "DateSent>": message.created_at.date().isoformat()}


def test_a_twilio_message_with_the_same_text_that_heron_already_knows_is_not_adopted(
        client_for, agent, sms_conversation, fake_twilio, quick_retries, django_capture_on_commit_callbacks):
    """Two replies with the same text: the second, unconfirmed and not kept, must not take the first's SID."""
    with django_capture_on_commit_callbacks(execute=True):
        first = reply(client_for, agent, sms_conversation, "OK")
    fake_twilio.fault_next("reset", accept=False)
    with django_capture_on_commit_callbacks(execute=True):
        second = reply(client_for, agent, sms_conversation, "OK")
    second = settle(second.json()["id"])
    assert len(fake_twilio.sends) == 2
    assert {Message.objects.get(pk=first.json()["id"]).external_id, second.external_id} == {
        s.sid for s in fake_twilio.sends}


def test_a_twilio_5xx_that_is_not_twilios_answer_is_unconfirmed(
        client_for, agent, sms_conversation, fake_twilio, quick_retries, django_capture_on_commit_callbacks):
    """A gateway's 504 may hide an accepted message; Twilio's own 503 (its JSON error) does not."""
    fake_twilio.fault_next("gateway", accept=True)
    with django_capture_on_commit_callbacks(execute=True):
        response = reply(client_for, agent, sms_conversation)
    message = Message.objects.get(pk=response.json()["id"])
    assert message.status == "unconfirmed" and message.metadata["send"]["answer"].startswith("504 <!DOCTYPE")
    assert settle(message).external_id == fake_twilio.sends[0].sid
    assert len(fake_twilio.requests) == 1


# ---------------------------------------------------------------------------------- status callbacks
@pytest.fixture
def sent_message(client_for, agent, sms_conversation, fake_twilio, django_capture_on_commit_callbacks) -> Message:
    with django_capture_on_commit_callbacks(execute=True):
        response = reply(client_for, agent, sms_conversation)
    return Message.objects.get(pk=response.json()["id"])


def test_out_of_order_callbacks_end_delivered(client, sent_message):
    for status in ("delivered", "sent", "queued"):
        response = post_twilio(client, STATUS, status_params(sent_message.external_id, status))
        assert response.status_code == 204
    sent_message.refresh_from_db()
    assert sent_message.status == "delivered"
    assert sent_message.provider_status == "delivered"
    assert [h["status"] for h in sent_message.metadata["status_history"]] == ["delivered", "sent", "queued"]
    assert RawInboundEvent.objects.filter(endpoint="twilio_sms.status", result="processed").count() == 3


def test_callbacks_in_order_move_forward_to_read(client, sent_message):
    for status in ("sending", "sent", "delivered", "read"):
        assert post_twilio(client, STATUS, status_params(sent_message.external_id, status)).status_code == 204
    sent_message.refresh_from_db()
    assert sent_message.status == "read"


def test_undelivered_30003_shows_the_reason(client, sent_message):
    params = status_params(sent_message.external_id, "undelivered", ErrorCode="30003", RawDlrDoneDate="2503041016")
    assert post_twilio(client, STATUS, params).status_code == 204
    # A late "sent" cannot revive a failed message.
    assert post_twilio(client, STATUS, status_params(sent_message.external_id, "sent")).status_code == 204
    sent_message.refresh_from_db()
    assert sent_message.status == "failed"
    assert sent_message.provider_status == "undelivered"
    assert sent_message.error_code == "30003"
    assert "Unreachable handset" in sent_message.error_message


def test_unknown_status_value_is_kept_raw_and_moves_nothing(client, sent_message):
    params = status_params(sent_message.external_id, "some_new_status")
    assert post_twilio(client, STATUS, params).status_code == 204
    sent_message.refresh_from_db()
    assert sent_message.status == "queued"
    assert sent_message.metadata["status_history"][-1]["status"] == "some_new_status"


def test_callback_for_unknown_sid_is_kept_for_replay_and_answered_204(client, sms_inbox):
    response = post_twilio(client, STATUS, status_params(new_sid(), "delivered"))
    assert response.status_code == 204
    raw = RawInboundEvent.objects.get()
    assert raw.result == "failed" and "UnknownMessage" in raw.error


def test_forged_callback_is_refused(client, sent_message):
    response = post_twilio(client, STATUS, status_params(sent_message.external_id, "delivered"), token="forged")
    assert response.status_code == 403
    sent_message.refresh_from_db()
    assert sent_message.status == "queued"
    assert not RawInboundEvent.objects.filter(endpoint="twilio_sms.status").exists()


def test_malformed_callback_is_a_4xx(client, sent_message):
    params = status_params(sent_message.external_id, "delivered", MessageStatus="", SmsStatus="")
    response = post_twilio(client, STATUS, params)
    assert response.status_code == 400
    assert "MessageStatus" in response.json()["detail"]


# ------------------------------------------------------------------------------------------ consent
def test_stop_then_reply_is_refused_without_calling_twilio_and_start_restores(
    client, client_for, agent, sms_conversation, fake_twilio, django_capture_on_commit_callbacks
):
    assert post_twilio(client, INBOUND, inbound_params(Body="Stop")).status_code == 200
    identity = Identity.objects.get(kind="phone", value=CUSTOMER)
    assert identity.opted_out and identity.opted_out_at
    activity = Message.objects.filter(conversation=sms_conversation, kind=MessageKind.ACTIVITY).get()
    assert "opted out" in activity.text and "STOP" in activity.text

    with django_capture_on_commit_callbacks(execute=True):
        response = reply(client_for, agent, sms_conversation)
    assert response.status_code == 400
    assert "opted out" in response.json()["detail"]
    assert fake_twilio.requests == []

    assert post_twilio(client, INBOUND, inbound_params(Body="START")).status_code == 200
    identity.refresh_from_db()
    assert not identity.opted_out
    assert Message.objects.filter(conversation=sms_conversation, kind=MessageKind.ACTIVITY,
                                  text__contains="opted back in").exists()
    with django_capture_on_commit_callbacks(execute=True):
        assert reply(client_for, agent, sms_conversation).status_code == 201
    assert len(fake_twilio.sends) == 1


@pytest.mark.parametrize("word", ["STOPALL", "unsubscribe", " cancel ", "End.", "QUIT"])
def test_every_opt_out_keyword_opts_out(client, sms_inbox, word):
    assert post_twilio(client, INBOUND, inbound_params(Body=word)).status_code == 200
    assert Identity.objects.get(value=CUSTOMER).opted_out


def test_sentence_containing_stop_is_not_an_opt_out(client, sms_inbox):
    assert post_twilio(client, INBOUND, inbound_params(Body="Please stop the delivery of order 1042")).status_code == 200
    assert not Identity.objects.get(value=CUSTOMER).opted_out
    assert not Message.objects.filter(kind=MessageKind.ACTIVITY).exists()


def test_opt_out_type_from_advanced_opt_out_is_honoured(client, sms_inbox):
    # Advanced Opt-Out with a custom keyword: Twilio tells us the type.
    params = inbound_params(Body="ARRET", OptOutType="STOP", MessagingServiceSid=None)
    assert post_twilio(client, INBOUND, params).status_code == 200
    assert Identity.objects.get(value=CUSTOMER).opted_out
    message = Message.objects.get(external_id=params["MessageSid"])
    assert message.metadata["twilio"]["opt_out_type"] == "STOP"


def test_help_is_recorded_on_the_timeline(client, sms_inbox):
    assert post_twilio(client, INBOUND, inbound_params(Body="help")).status_code == 200
    assert not Identity.objects.get(value=CUSTOMER).opted_out
    assert Message.objects.filter(kind=MessageKind.ACTIVITY, text__contains="HELP").count() == 1


def test_retried_stop_does_not_duplicate_the_activity(client, sms_inbox):
    params = inbound_params(Body="STOP")
    for _ in range(3):
        assert post_twilio(client, INBOUND, params).status_code == 200
    assert Message.objects.filter(kind=MessageKind.ACTIVITY).count() == 1


# ------------------------------------------------------------------------------------------ set-up
def test_admin_creates_sms_inbox_and_gets_webhook_urls(client_for, admin):
    response = client_for(admin).post("/api/v1/inboxes/", {
        "name": "Support SMS", "channel": "sms", "address": "+15017122661",
        "credentials": {"account_sid": ACCOUNT_SID, "auth_token": AUTH_TOKEN},
    }, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["webhook_urls"] == {
        "inbound": settings.PUBLIC_BASE_URL + INBOUND,
        "status": settings.PUBLIC_BASE_URL + STATUS,
    }
    assert "credentials" not in response.json()
    assert Inbox.objects.get(pk=response.json()["id"]).credentials["auth_token"] == AUTH_TOKEN


def test_inbox_lookup_reads_only_the_number_asked_for(db, support):
    """With many numbers, a webhook must not read and decrypt every SMS inbox: one indexed query."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from channels_adapters.twilio_sms.webhooks import find_inbox

    for i in range(20):
        other = Inbox(name=f"Line {i}", channel="sms", address=f"+1501712{3000 + i}", team=support)
        other.credentials = {"account_sid": ACCOUNT_SID, "auth_token": AUTH_TOKEN}
        other.save()
    typed = Inbox(name="Typed by hand", channel="sms", address="+1 (628) 555-0199", team=support)
    typed.credentials = {"account_sid": ACCOUNT_SID, "auth_token": AUTH_TOKEN}
    typed.save()
    wanted = Inbox.objects.get(address="+15017123007")

    with CaptureQueriesContext(connection) as queries:
        assert find_inbox({"AccountSid": ACCOUNT_SID, "To": "+15017123007"}, our_number_field="To") == wanted
    assert len(queries) == 1
    # An address typed another way is still found, by comparing normalized numbers.
    assert find_inbox({"AccountSid": ACCOUNT_SID, "To": "+16285550199"}, our_number_field="To") == typed
    assert find_inbox({"AccountSid": "AC" + "f" * 32, "To": "+15017123007"}, our_number_field="To") is None
