"""Google: Business Messages (handshake, signed webhooks, typing, receipts, sending) and Business Profile reviews.

Webhooks go through Django's test client (Celery eager in this process); the typing frame and the
simulator go through a real uvicorn process. Everything Heron asks Google is answered by the local
fake of tests/fakes/google.py, with real google-auth service-account tokens (throwaway RSA keys).
"""

from __future__ import annotations

import base64
import copy
import hashlib
import hmac
import json
import uuid

import pytest

from channels_adapters.google_business import demo as google_demo
from channels_adapters.google_business import simulate as google_simulate
from channels_adapters.google_reviews.poller import poll_inbox
from inbox.models import Conversation, Identity, Inbox, Message, MessageKind, RawInboundEvent, Status
from tests.conftest import session_cookie_for
from tests.fakes.google import FakeGoogle, make_service_account
from tests.support.sending import settle
from tests.support.ws import assert_nothing_received, open_socket, receive_until

WEBHOOK = "/webhooks/google/business-messages/"
AGENT = "brands/1111/agents/2222"
PARTNER_KEY = "test-partner-key-0123456789"
CLIENT_TOKEN = "test-client-token"
CONVERSATION_ID = "3333"
LOCATION = "accounts/111/locations/222"
BUSINESS_MESSAGES_SCOPE = "https://www.googleapis.com/auth/businessmessages"
BUSINESS_MANAGE_SCOPE = "https://www.googleapis.com/auth/business.manage"


def x_goog_signature(body: bytes, key: str = PARTNER_KEY) -> str:
    """Written from the reference (docs/google.md), independently of Heron's own signing code."""
    return base64.b64encode(hmac.new(key.encode(), body, hashlib.sha512).digest()).decode()


def user_message(text: str = "Hi, is the Market St store open on Sunday?", *, message_id: str | None = None,
                 conversation_id: str = CONVERSATION_ID, name: str = "Alice C.") -> dict:
    """samples.md's user message, with fresh ids."""
    message_id = message_id or uuid.uuid4().hex
    return {
        "agent": AGENT, "conversationId": conversation_id, "customAgentId": "acme-support",
        "requestId": uuid.uuid4().hex,
        "message": {"messageId": message_id, "name": f"conversations/{conversation_id}/messages/{message_id}",
                    "text": text, "createTime": "2024-05-02T15:05:23.045123456Z"},
        "context": {"entryPoint": "PLACESHEET", "placeId": "ChIJN1t_tDeuEmsRUsoyG83frY4",
                    "userInfo": {"displayName": name, "userDeviceLocale": "en-US"}, "resolvedLocale": "en"},
        "sendTime": "2024-05-02T15:05:24.045123456Z",
    }


def typing_event(is_typing="true", conversation_id: str = CONVERSATION_ID) -> dict:
    """samples.md's typing event (the string boolean), addressed to our agent."""
    return {"agent": AGENT, "conversationId": conversation_id, "customAgentId": "hello-world-bot",
            "requestId": uuid.uuid4().hex, "userStatus": {"isTyping": is_typing,
                                                          "createTime": "2020-10-02T15:01:23.045123456Z"},
            "sendTime": "2020-10-02T15:01:24.045123456Z"}


def receipt(message_external_id: str, receipt_type: str) -> dict:
    return {"agent": AGENT, "conversationId": CONVERSATION_ID, "requestId": uuid.uuid4().hex,
            "receipts": {"receipts": [{"message": f"conversations/{CONVERSATION_ID}/messages/{message_external_id}",
                                       "receiptType": receipt_type}], "createTime": "2024-05-02T15:06:00Z"},
            "sendTime": "2024-05-02T15:06:01Z"}


def post_google(client, payload: dict | bytes, *, key: str = PARTNER_KEY, signature: str | None = None):
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    headers = {}
    sig = x_goog_signature(body, key) if signature is None else signature
    if sig:
        headers["X-Goog-Signature"] = sig
    return client.post(WEBHOOK, data=body, content_type="application/json", headers=headers)


@pytest.fixture
def gbm_inbox(support, fake_google: FakeGoogle, service_account) -> Inbox:
    inbox = Inbox(name="Google", channel="google_business", address=AGENT, team=support)
    inbox.credentials = {"partner_key": PARTNER_KEY, "client_token": CLIENT_TOKEN,
                         "service_account_info": service_account}
    inbox.save()
    return inbox


@pytest.fixture
def gbm_conversation(client, gbm_inbox) -> Conversation:
    payload = user_message()
    assert post_google(client, payload).status_code == 200
    return Message.objects.get(inbox=gbm_inbox, external_id=payload["message"]["messageId"]).conversation


def reply(client_for, user, conversation: Conversation, text: str = "Yes, 10am to 4pm on Sundays."):
    return client_for(user).post(f"/api/v1/conversations/{conversation.pk}/messages/", {"text": text}, format="json")


# ------------------------------------------------------------------------------------------ handshake
def test_handshake_answers_the_secret_only_for_a_known_client_token(client, gbm_inbox):
    ok = client.post(WEBHOOK, data=json.dumps({"clientToken": CLIENT_TOKEN, "secret": "s3cr3t-1234"}),
                     content_type="application/json")
    assert ok.status_code == 200
    assert ok["Content-Type"].startswith("text/plain")
    assert ok.content == b"s3cr3t-1234"

    wrong = client.post(WEBHOOK, data=json.dumps({"clientToken": "someone-else", "secret": "s3cr3t-1234"}),
                        content_type="application/json")
    assert wrong.status_code == 403
    assert b"s3cr3t-1234" not in wrong.content
    assert not RawInboundEvent.objects.exists()


def test_handshake_without_any_inbox_is_refused(client, db):
    response = client.post(WEBHOOK, data=json.dumps({"clientToken": CLIENT_TOKEN, "secret": "x"}),
                           content_type="application/json")
    assert response.status_code == 403


# ------------------------------------------------------------------------------------------ inbound
def test_signed_message_lands_on_a_contact_with_the_display_name(client, gbm_inbox):
    payload = user_message()
    response = post_google(client, payload)
    assert response.status_code == 200, response.content
    message = Message.objects.get(inbox=gbm_inbox, external_id=payload["message"]["messageId"])
    assert message.text == "Hi, is the Market St store open on Sunday?"
    assert message.channel == "google_business" and message.direction == "in"
    assert message.contact.name == "Alice C."
    identity = Identity.objects.get(kind="google_business", value=CONVERSATION_ID)
    assert identity.contact_id == message.contact_id
    assert message.metadata["entryPoint"] == "PLACESHEET"
    assert message.metadata["placeId"] == "ChIJN1t_tDeuEmsRUsoyG83frY4"
    assert message.metadata["locale"] == "en"
    assert RawInboundEvent.objects.get().result == RawInboundEvent.Result.PROCESSED


def test_custom_agent_id_finds_an_inbox_addressed_by_it(client, support, service_account):
    inbox = Inbox(name="Google custom", channel="google_business", address="acme-support", team=support)
    inbox.credentials = {"partner_key": PARTNER_KEY, "client_token": CLIENT_TOKEN}
    inbox.save()
    payload = user_message()
    payload["agent"] = "brands/9/agents/9"
    assert post_google(client, payload).status_code == 200
    assert Message.objects.get(external_id=payload["message"]["messageId"]).inbox_id == inbox.pk


@pytest.mark.parametrize("case", ["missing", "wrong_key", "tampered_body", "garbage"])
def test_bad_or_missing_signature_is_403_and_nothing_is_stored(client, gbm_inbox, case):
    payload = user_message()
    body = json.dumps(payload).encode()
    if case == "missing":
        response = post_google(client, body, signature="")
    elif case == "wrong_key":
        response = post_google(client, body, key="not-the-partner-key")
    elif case == "tampered_body":
        response = post_google(client, body.replace(b"Sunday", b"Monday"), signature=x_goog_signature(body))
    else:
        response = post_google(client, body, signature="bm90IGEgc2lnbmF0dXJl")
    assert response.status_code == 403
    assert not RawInboundEvent.objects.exists()
    assert not Message.objects.exists()


def test_signed_message_for_an_unknown_agent_is_404_and_not_stored(client, gbm_inbox):
    payload = user_message()
    payload["agent"], payload["customAgentId"] = "brands/7/agents/7", "other"
    assert post_google(client, payload).status_code == 404
    assert not RawInboundEvent.objects.exists()


def test_replayed_webhook_is_one_message(client, gbm_inbox):
    payload = user_message(message_id="4444")
    assert post_google(client, payload).status_code == 200
    assert post_google(client, payload).status_code == 200
    assert Message.objects.filter(inbox=gbm_inbox, external_id="4444").count() == 1
    assert sorted(RawInboundEvent.objects.values_list("result", flat=True)) == ["duplicate", "processed"]


@pytest.mark.parametrize("body", [
    b"this is not json",
    b"[1, 2, 3]",
    json.dumps({"agent": AGENT, "message": {"messageId": "1", "text": "no conversation"}}).encode(),
    json.dumps({"agent": AGENT, "conversationId": "3333", "message": {"messageId": "1", "text": ["a list"]}}).encode(),
    json.dumps({"agent": AGENT, "conversationId": "3333", "message": "not an object"}).encode(),
    json.dumps({"agent": AGENT, "conversationId": "3333", "receipts": {"receipts": "nope"}}).encode(),
    json.dumps({"agent": AGENT, "conversationId": {"x": 1}, "userStatus": {"isTyping": True}}).encode(),
])
def test_malformed_signed_json_is_a_400_kept_raw_never_a_500(client, gbm_inbox, body):
    response = post_google(client, body)
    assert response.status_code == 400, response.content
    raw = RawInboundEvent.objects.get()
    assert raw.result == RawInboundEvent.Result.FAILED and bytes(raw.body) == body
    assert not Message.objects.exists()


def test_nul_characters_in_signed_json_are_dropped_not_a_500(client, gbm_inbox):
    assert post_google(client, user_message("Open on\x00 Sunday?", name="Al\x00ice")).status_code == 200
    message = Message.objects.get(inbox=gbm_inbox)
    assert (message.text, message.contact.name) == ("Open on Sunday?", "Alice")


def test_live_agent_request_and_survey_become_activity_lines(client, gbm_conversation):
    live = typing_event()
    live["userStatus"] = {"requestedLiveAgent": True, "createTime": "2024-05-02T15:07:00Z"}
    assert post_google(client, live).status_code == 200
    assert post_google(client, live).status_code == 200  # Google retries: still one line
    gbm_conversation.refresh_from_db()
    gbm_conversation.status = Status.RESOLVED
    gbm_conversation.save()
    survey = {"agent": AGENT, "conversationId": CONVERSATION_ID, "requestId": uuid.uuid4().hex,
              "surveyResponse": {"survey": "conversations/3333/surveys/1", "rating": "VERY_SATISFIED",
                                 "createTime": "2024-05-02T16:00:00Z"}}
    assert post_google(client, survey).status_code == 200
    activities = list(gbm_conversation.messages.filter(kind=MessageKind.ACTIVITY).order_by("id"))
    assert [a.text for a in activities] == ["The customer asked to talk to a live agent",
                                             "Survey answer: very satisfied"]
    assert activities[1].metadata["survey"]["rating"] == "VERY_SATISFIED"
    gbm_conversation.refresh_from_db()
    assert gbm_conversation.status == Status.RESOLVED  # a survey answer does not reopen the conversation


@pytest.mark.parametrize("is_typing", ["true", True])
def test_typing_event_stores_no_message(client, gbm_conversation, is_typing):
    before = Message.objects.count()
    assert post_google(client, typing_event(is_typing)).status_code == 200
    assert Message.objects.count() == before


def test_typing_reaches_an_open_socket_as_a_typing_frame(server, support, admin, agent):
    inbox = Inbox(name="Google", channel="google_business", address=AGENT, team=support)
    inbox.credentials = {"partner_key": PARTNER_KEY, "client_token": CLIENT_TOKEN}
    inbox.save()
    import httpx

    def post(payload: dict) -> httpx.Response:
        body = json.dumps(payload).encode()
        return httpx.post(server.url + WEBHOOK, content=body, timeout=10,
                          headers={"Content-Type": "application/json", "X-Goog-Signature": x_goog_signature(body)})

    assert post(user_message()).status_code == 200
    conversation = Conversation.objects.get(contact__identities__value=CONVERSATION_ID)
    messages_before = Message.objects.count()
    with open_socket(server.ws_url, session_cookie=session_cookie_for(agent), origin=server.url) as socket:
        assert post(typing_event("true")).status_code == 200
        frame = receive_until(socket, lambda f: f.get("type") == "typing")
        assert frame["data"]["conversation"] == conversation.pk
        assert frame["data"]["contact"] == {"id": conversation.contact_id, "name": "Alice C."}
        assert frame["data"]["state"] == "typing"
        assert "id" not in frame  # ephemeral: no event id, nothing to catch up on
        # Typing for a customer Heron does not know goes nowhere.
        assert post(typing_event("true", conversation_id="9999")).status_code == 200
        assert_nothing_received(socket, lambda f: f.get("type") == "typing", wait=0.5)
    assert Message.objects.count() == messages_before


# ------------------------------------------------------------------------------------------ outbound
def test_agent_reply_reaches_google_with_the_right_body_and_bearer_token(
        client_for, agent, gbm_conversation, fake_google, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = reply(client_for, agent, gbm_conversation)
    assert response.status_code == 201, response.content
    message = Message.objects.get(pk=response.json()["id"])
    [send] = fake_google.sends
    assert send.path == f"/v1/conversations/{CONVERSATION_ID}/messages"
    assert send.body == {
        "messageId": f"heron-{message.pk}",
        "representative": {"representativeType": "HUMAN", "displayName": "Ana"},
        "text": "Yes, 10am to 4pm on Sundays.",
    }
    assert send.authorization.startswith("Bearer ")
    assert send.authorization[7:] in fake_google.issued_tokens
    [grant] = [t for t in fake_google.token_requests if t.valid]
    assert grant.claims["scope"] == BUSINESS_MESSAGES_SCOPE
    assert message.status == "sent" and message.external_id == f"heron-{message.pk}"


@pytest.fixture
def quick_retries(settings):
    """Retries after 0.2 s (then 0.4, 0.8…), the provider's answer awaited half a second, a lease of one second."""
    settings.HERON = {**settings.HERON, "SEND_RETRY_BACKOFF_SECONDS": 0.2, "PROVIDER_TIMEOUT_SECONDS": 0.5,
                      "SEND_LEASE_SECONDS": 1}


def test_already_exists_after_a_lost_answer_is_treated_as_sent(
        client_for, agent, gbm_conversation, fake_google, quick_retries, django_capture_on_commit_callbacks):
    fake_google.accept_but_fail_next(503)  # Google stored it, but Heron only saw a 503
    with django_capture_on_commit_callbacks(execute=True):
        response = reply(client_for, agent, gbm_conversation)
    message = settle(response.json()["id"])
    assert [r.status_code for r in fake_google.send_attempts()] == [503, 409]
    assert list(fake_google.message_ids) == [f"heron-{message.pk}"]  # the customer got it once
    assert message.status == "sent" and message.provider_status == "ALREADY_EXISTS"
    assert message.send_attempts == 2


@pytest.mark.parametrize(("fault", "kept"), [
    ("slow", True), ("reset", True), ("reset", False), ("html", True), ("html", False),
    ("killed", True), ("killed", False),
])
def test_a_lost_answer_from_google_never_sends_the_reply_twice(
        fault, kept, client_for, agent, gbm_conversation, fake_google, quick_retries,
        django_capture_on_commit_callbacks):
    """Unconfirmed, the reply is sent again under the same messageId: Google refuses a repeat
    (ALREADY_EXISTS), which confirms the first."""
    fake_google.fault_next(fault, accept=kept, seconds=2 if fault == "slow" else 1)
    with django_capture_on_commit_callbacks(execute=True):
        response = reply(client_for, agent, gbm_conversation)
    message = Message.objects.get(pk=response.json()["id"])
    assert message.status == "unconfirmed" and message.error_message.startswith("Unconfirmed: Google")
    message = settle(message, timeout=20)
    assert list(fake_google.message_ids) == [f"heron-{message.pk}"]  # the customer got it once
    assert (message.status, message.external_id) == ("sent", f"heron-{message.pk}")
    assert message.provider_status == ("ALREADY_EXISTS" if kept else "sent")
    assert [r.status_code for r in fake_google.send_attempts()][-1] == (409 if kept else 200)


def test_google_503_is_retried_until_it_is_accepted(
        client_for, agent, gbm_conversation, fake_google, quick_retries, django_capture_on_commit_callbacks):
    fake_google.fail_next(503, times=2)
    with django_capture_on_commit_callbacks(execute=True):
        response = reply(client_for, agent, gbm_conversation)
    message = settle(response.json()["id"])
    assert [r.status_code for r in fake_google.send_attempts()] == [503, 503, 200]
    assert len(fake_google.sends) == 1
    assert message.status == "sent" and message.send_attempts == 3


def test_google_4xx_fails_the_message_with_googles_reason(
        client_for, agent, gbm_conversation, fake_google, django_capture_on_commit_callbacks):
    fake_google.fail_next(400, google_status="FAILED_PRECONDITION")
    with django_capture_on_commit_callbacks(execute=True):
        response = reply(client_for, agent, gbm_conversation)
    message = Message.objects.get(pk=response.json()["id"])
    assert message.status == "failed"
    assert message.error_code == "FAILED_PRECONDITION"
    assert "400" in message.error_message
    assert len(fake_google.send_attempts()) == 1  # a permanent refusal is not retried


def test_a_service_account_google_does_not_know_fails_the_message(
        client_for, agent, gbm_conversation, gbm_inbox, fake_google, django_capture_on_commit_callbacks):
    stranger = make_service_account(FakeGoogle(fake_google.server))  # a key the fake was never told about
    gbm_inbox.credentials = {**gbm_inbox.credentials, "service_account_info": stranger}
    gbm_inbox.save()
    with django_capture_on_commit_callbacks(execute=True):
        response = reply(client_for, agent, gbm_conversation)
    message = Message.objects.get(pk=response.json()["id"])
    assert message.status == "failed"
    assert "service account" in message.error_message
    assert [t.reason for t in fake_google.token_requests] == ["unknown service account"]
    assert not fake_google.send_attempts()


@pytest.fixture
def sent_message(client_for, agent, gbm_conversation, fake_google, django_capture_on_commit_callbacks) -> Message:
    with django_capture_on_commit_callbacks(execute=True):
        response = reply(client_for, agent, gbm_conversation)
    return Message.objects.get(pk=response.json()["id"])


def test_receipts_move_our_message_to_delivered_then_read(client, sent_message):
    assert post_google(client, receipt(sent_message.external_id, "DELIVERED")).status_code == 200
    sent_message.refresh_from_db()
    assert sent_message.status == "delivered" and sent_message.provider_status == "DELIVERED"
    assert post_google(client, receipt(sent_message.external_id, "READ")).status_code == 200
    assert post_google(client, receipt(sent_message.external_id, "DELIVERED")).status_code == 200  # late: ignored
    sent_message.refresh_from_db()
    assert sent_message.status == "read" and sent_message.provider_status == "READ"


def test_receipt_for_an_unknown_message_of_ours_is_kept_for_replay(client, gbm_inbox):
    response = post_google(client, receipt("heron-999999", "READ"))
    assert response.status_code == 200
    raw = RawInboundEvent.objects.get()
    assert raw.result == RawInboundEvent.Result.FAILED and "heron-999999" in raw.error


# ------------------------------------------------------------------------------------------ simulator
def test_simulate_google_posts_a_signed_message_the_server_stores(server, support, settings):
    inbox = Inbox(name="Google", channel="google_business", address=AGENT, team=support)
    inbox.credentials = {"partner_key": PARTNER_KEY, "client_token": CLIENT_TOKEN}
    inbox.save()
    settings.PUBLIC_BASE_URL = server.url
    response = google_simulate.run({"sender": "sim-42", "name": "Sim Customer", "text": "Hello from the simulator",
                                    "to": AGENT, "event": "message", "message_id": ""})
    assert response.status_code == 200, response.text
    message = Message.objects.get(inbox=inbox, text="Hello from the simulator")
    assert message.contact.name == "Sim Customer"
    assert message.identity.value == "sim-42"


def test_seed_demo_google_inbox_goes_through_the_parse_path(db):
    inbox = google_demo.seed()
    assert inbox.channel == "google_business" and inbox.address == AGENT
    [message] = Message.objects.filter(inbox=inbox)
    assert message.contact.name == "Alice C." and message.metadata["entryPoint"] == "PLACESHEET"
    google_demo.seed()  # idempotent
    assert Message.objects.filter(inbox=inbox).count() == 1


# ------------------------------------------------------------------------------------------ reviews
def review(review_id: str, stars: str, comment: str, update_time: str, name: str = "Bob R.") -> dict:
    return {
        "name": f"{LOCATION}/reviews/{review_id}", "reviewId": review_id,
        "reviewer": {"displayName": name, "profilePhotoUrl": "https://example.com/p.png", "isAnonymous": False},
        "starRating": stars, "comment": comment, "createTime": update_time, "updateTime": update_time,
    }


@pytest.fixture
def reviews_inbox(support, fake_google: FakeGoogle, service_account) -> Inbox:
    inbox = Inbox(name="Reviews", channel="google_reviews", address=LOCATION, team=support)
    inbox.credentials = {"service_account_info": service_account}
    inbox.save()
    fake_google.reviews[LOCATION] = [
        review("r1", "FIVE", "Great coffee, friendly staff.", "2025-03-01T09:00:00.123456789Z", "Bob R."),
        review("r2", "TWO", "Waited 20 minutes.", "2025-03-02T09:00:00Z", "Cleo D."),
        review("r3", "FOUR", "", "2025-03-03T09:00:00Z", "Dan E."),
    ]
    return inbox


def test_reviews_poll_stores_each_review_once_with_its_star_rating(reviews_inbox, fake_google):
    result = poll_inbox(reviews_inbox.pk)
    assert (result.stored, result.error) == (3, "")
    assert len(fake_google.list_calls()) == 2  # 3 reviews, pages of 2
    assert all(c.authorization[7:] in fake_google.issued_tokens for c in fake_google.list_calls())
    assert {t.claims["scope"] for t in fake_google.token_requests if t.valid} == {BUSINESS_MANAGE_SCOPE}
    messages = {m.external_id: m for m in Message.objects.filter(inbox=reviews_inbox)}
    assert set(messages) == {"r1", "r2", "r3"}
    assert messages["r1"].metadata["star_rating"] == 5 and messages["r2"].metadata["star_rating"] == 2
    assert messages["r1"].metadata["review_name"] == f"{LOCATION}/reviews/r1"
    assert messages["r1"].text == "Great coffee, friendly staff." and messages["r1"].contact.name == "Bob R."
    assert messages["r3"].text == "Rated 4/5 with no comment"
    assert messages["r1"].kind == "message" and messages["r1"].channel == "google_reviews"
    reviews_inbox.refresh_from_db()
    assert reviews_inbox.settings["reviews_cursor"] == "2025-03-03T09:00:00Z"

    again = poll_inbox(reviews_inbox.pk)
    assert again.stored == 0
    assert Message.objects.filter(inbox=reviews_inbox).count() == 3
    assert len(fake_google.list_calls()) == 3  # incremental: stopped on the first page


def test_a_review_with_nul_characters_is_stored_without_them(reviews_inbox, fake_google):
    fake_google.reviews[LOCATION] = [review("r9", "ONE", "Cold\x00 coffee", "2025-03-04T09:00:00Z", "Ev\x00a")]
    assert poll_inbox(reviews_inbox.pk).stored == 1
    message = Message.objects.get(inbox=reviews_inbox, external_id="r9")
    assert (message.text, message.contact.name) == ("Cold coffee", "Eva")


def test_an_edited_review_is_stored_as_a_new_version(reviews_inbox, fake_google):
    poll_inbox(reviews_inbox.pk)
    edited = copy.deepcopy(fake_google.reviews[LOCATION][1])
    edited.update(starRating="FOUR", comment="Waited 20 minutes, but they apologised.",
                  updateTime="2025-03-05T10:00:00Z")
    fake_google.reviews[LOCATION][1] = edited
    assert poll_inbox(reviews_inbox.pk).stored == 1
    new = Message.objects.get(inbox=reviews_inbox, external_id="r2@2025-03-05T10:00:00Z")
    assert new.metadata["edited"] is True and new.metadata["star_rating"] == 4
    assert new.conversation_id == Message.objects.get(inbox=reviews_inbox, external_id="r2").conversation_id


def test_reply_to_a_review_is_put_to_google(reviews_inbox, fake_google, client_for, agent,
                                             django_capture_on_commit_callbacks):
    poll_inbox(reviews_inbox.pk)
    conversation = Message.objects.get(inbox=reviews_inbox, external_id="r2").conversation
    with django_capture_on_commit_callbacks(execute=True):
        response = reply(client_for, agent, conversation, "Sorry about the wait, Cleo!")
    assert response.status_code == 201, response.content
    [put] = fake_google.replies()
    assert put.method == "PUT" and put.path == f"/v4/{LOCATION}/reviews/r2/reply"
    assert put.body == {"comment": "Sorry about the wait, Cleo!"}
    assert put.authorization[7:] in fake_google.issued_tokens
    message = Message.objects.get(pk=response.json()["id"])
    assert message.status == "sent"
    assert fake_google.reviews[LOCATION][1]["reviewReply"]["comment"] == "Sorry about the wait, Cleo!"


def test_reviews_poll_error_keeps_the_cursor_and_reports(reviews_inbox, settings):
    settings.GOOGLE_BUSINESS_PROFILE_API_BASE_URL = "http://127.0.0.1:9"  # nothing listens there
    result = poll_inbox(reviews_inbox.pk)
    assert result.error and result.stored == 0
    reviews_inbox.refresh_from_db()
    assert "reviews_cursor" not in reviews_inbox.settings


def test_make_run_demo_replies_go_out_through_its_own_fake_google(server, support, agent):
    """`make run` mounts /simulator/google/ (HERON_FAKE_PROVIDERS): a demo inbox's reply goes through the
    real sender and google-auth's JWT grant to it, offline."""
    import httpx
    from rest_framework.authtoken.models import Token

    from tests.support.waiting import wait_for

    inbox = Inbox(name="Demo Google", channel="google_business", address=google_demo.DEMO_AGENT, team=support)
    inbox.credentials = google_demo.demo_credentials(server.url)
    inbox.save()
    body = json.dumps({**user_message(), "agent": google_demo.DEMO_AGENT}).encode()
    signature = x_goog_signature(body, key=inbox.credentials["partner_key"])
    assert httpx.post(server.url + WEBHOOK, content=body, timeout=10,
                      headers={"Content-Type": "application/json", "X-Goog-Signature": signature}).status_code == 200
    conversation = Conversation.objects.get(contact__identities__value=CONVERSATION_ID)

    token = Token.objects.get_or_create(user=agent)[0].key
    response = httpx.post(f"{server.url}/api/v1/conversations/{conversation.pk}/messages/", timeout=30,
                          json={"text": "We open at 10 on Sunday."}, headers={"Authorization": f"Token {token}"})
    assert response.status_code == 201, response.text
    reply = wait_for(lambda: Message.objects.filter(pk=response.json()["id"], status="sent").first())
    assert reply and reply.external_id == f"heron-{reply.pk}", Message.objects.get(pk=response.json()["id"]).error_message

    # The fake checks what Google checks: a grant must be signed by a service account it knows.
    forged = httpx.post(server.url + "/simulator/google/token", timeout=10,
                        data={"grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer", "assertion": "a.b.c"})
    assert forged.status_code == 400 and forged.json()["error"] == "invalid_grant"
