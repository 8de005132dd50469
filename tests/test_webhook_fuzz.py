"""No signed webhook body, however odd, gets a 500: hypothesis mutates valid provider payloads.

Each example starts from a payload in the shape of the provider's samples, drops some of its fields,
gives others arbitrary values (NUL characters, emoji, numbers where text is due, thousands of
characters) and adds a few, then signs it as the provider would. The hand-written cases of each
channel's tests say *which* 4xx a known mistake gets; these look for the mistakes nobody listed.
Runs are derandomized, so CI sees the same examples every time.
"""

from __future__ import annotations

import json
import uuid

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from channels_adapters.simulator.signing import HEADER as SIMULATOR_SIGNATURE_HEADER
from channels_adapters.simulator.signing import sign as simulator_sign
from inbox.models import Inbox, RawInboundEvent
from tests.fakes.twilio import inbound_params, new_sid, post_twilio, status_params, twilio_inbox
from tests.support.email import basic_auth_header, mime
from tests.test_google import AGENT, CLIENT_TOKEN, PARTNER_KEY, post_google, user_message
from tests.test_twilio_voice import call_params, recording_params, transcription_params

EXAMPLES = settings(max_examples=40, deadline=None, derandomize=True, database=None,
                    suppress_health_check=list(HealthCheck))

# Text a provider could send, or a forger with the key could: any character but lone surrogates
# (which no UTF-8 body can carry), plus values that look like what a field expects, nearly.
TEXT = st.text(alphabet=st.characters(exclude_categories=["Cs"]), max_size=60)
NEAR_MISSES = st.sampled_from([
    "", " ", "\x00", "a\x00b", "0", "-1", "1e309", "NaN", "99999999999999999999", "+", "+1", "+15558675310",
    "whatsapp:+15558675310", "CA", "SM" + "f" * 32, "http://", "https://example.org/x", "file:///etc/passwd",
    "true", "null", "[]", "{}", "x" * 5000,
])
FORM_VALUE = st.one_of(TEXT, NEAR_MISSES)
JSON_VALUE = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | FORM_VALUE,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TEXT, inner, max_size=3),
    max_leaves=8,
)


@st.composite
def mutated(draw, base: dict, values: st.SearchStrategy) -> dict:
    """`base` with some fields removed, some given other values, and a few new ones."""
    payload = dict(base)
    for key in draw(st.lists(st.sampled_from(sorted(base)), unique=True, max_size=5)):
        if draw(st.booleans()):
            del payload[key]
        else:
            payload[key] = draw(values)
    payload.update(draw(st.dictionaries(st.one_of(TEXT, st.sampled_from(sorted(base))), values, max_size=3)))
    return payload


def variations(sample, values: st.SearchStrategy) -> st.SearchStrategy:
    """Mutations (`mutated`) of a fresh `sample()` payload."""
    return st.builds(sample).flatmap(lambda payload: mutated(payload, values))


def assert_answered_without_a_server_error(response) -> None:
    assert response.status_code < 500, response.content[:500]
    if response.status_code >= 400:
        assert response.content, "a 4xx must say what is wrong"


def assert_kept_when_accepted(raw_events_before: int, response) -> None:
    """A 2xx comes only after the signature passed and the body was stored."""
    if response.status_code < 300:
        assert RawInboundEvent.objects.count() > raw_events_before


# ------------------------------------------------------------------------------------------- Twilio
def _sms_status_base() -> dict:
    return status_params(new_sid(), "delivered")


def _dial_complete_base() -> dict:
    return {**call_params(f"CA{uuid.uuid4().hex}", "completed"), "DialCallStatus": "no-answer"}


def _call_status_base() -> dict:
    return call_params(f"CA{uuid.uuid4().hex}", "completed", CallDuration="12")


def _recording_base() -> dict:
    return recording_params(f"CA{uuid.uuid4().hex}", f"RE{uuid.uuid4().hex}", "https://api.twilio.com/r/RE1")


def _transcription_base() -> dict:
    return transcription_params(f"CA{uuid.uuid4().hex}", "RE1", "https://api.twilio.com/r/RE1", "call me back")


TWILIO_ENDPOINTS = {
    "/webhooks/twilio/sms/": ("sms", inbound_params),
    "/webhooks/twilio/sms/status/": ("sms", _sms_status_base),
    "/webhooks/twilio/voice/": ("voice", lambda: call_params(f"CA{uuid.uuid4().hex}")),
    "/webhooks/twilio/voice/dial-complete/": ("voice", _dial_complete_base),
    "/webhooks/twilio/voice/dial-complete/?step=recorded": ("voice", _dial_complete_base),
    "/webhooks/twilio/voice/status/": ("voice", _call_status_base),
    "/webhooks/twilio/voice/recording/": ("voice", _recording_base),
    "/webhooks/twilio/voice/transcription/": ("voice", _transcription_base),
}


@pytest.mark.parametrize("path", sorted(TWILIO_ENDPOINTS))
def test_signed_twilio_forms_never_get_a_server_error(client, support, path):
    channel, base = TWILIO_ENDPOINTS[path]
    twilio_inbox(support, channel=channel, name=channel, settings={"forward_to": ["+15005550006"]})

    @EXAMPLES
    @given(params=variations(base, FORM_VALUE))
    def check(params):
        before = RawInboundEvent.objects.count()
        response = post_twilio(client, path, params)
        assert_answered_without_a_server_error(response)
        assert_kept_when_accepted(before, response)

    check()


# ------------------------------------------------------------------------------------------- Google
@pytest.fixture
def google_inbox(support) -> Inbox:
    inbox = Inbox(name="Google", channel="google_business", address=AGENT, team=support)
    inbox.credentials = {"partner_key": PARTNER_KEY, "client_token": CLIENT_TOKEN}
    inbox.save()
    return inbox


def _google_payloads() -> st.SearchStrategy:
    """A user message with its top level or its `message` mutated."""
    whole = variations(user_message, JSON_VALUE)
    inner = st.builds(user_message).flatmap(
        lambda payload: mutated(payload["message"], JSON_VALUE).map(lambda message: {**payload, "message": message})
    )
    return whole | inner


def test_signed_google_payloads_never_get_a_server_error(client, google_inbox):
    @EXAMPLES
    @given(payload=_google_payloads())
    def check(payload):
        before = RawInboundEvent.objects.count()
        response = post_google(client, json.dumps(payload).encode())
        assert_answered_without_a_server_error(response)
        assert_kept_when_accepted(before, response)

    check()


# -------------------------------------------------------------------------------- email (Postmark)
POSTMARK_ENDPOINTS = {
    "/anymail/postmark/inbound/": lambda: {"RawEmail": mime().decode(), "OriginalRecipient": "support@heron.local",
                                           "Headers": [], "MessageID": ""},
    "/anymail/postmark/tracking/": lambda: {  # Postmark's bounce webhook, as its documentation shows it
        "RecordType": "Bounce", "ID": 4323372036854775807, "Type": "HardBounce", "TypeCode": 1,
        "MessageID": str(uuid.uuid4()), "Description": "The server was unable to deliver your message",
        "Details": "smtp;550 5.1.1 unknown user", "Email": "alice@example.org", "From": "support@heron.local",
        "BouncedAt": "2025-03-04T10:00:00Z", "Inactive": True, "CanActivate": True, "Subject": "Re: order",
        "MessageStream": "outbound", "Metadata": {}},
}


@pytest.mark.parametrize("path", sorted(POSTMARK_ENDPOINTS))
def test_postmark_payloads_never_get_a_server_error(client, support, path):
    Inbox(name="Email", channel="email", address="support@heron.local", team=support).save()

    @EXAMPLES
    @given(payload=variations(POSTMARK_ENDPOINTS[path], JSON_VALUE))
    def check(payload):
        response = client.post(path, data=json.dumps(payload), content_type="application/json",
                               HTTP_AUTHORIZATION=basic_auth_header())
        assert_answered_without_a_server_error(response)

    check()


# ---------------------------------------------------------------------------------------- simulator
SIMULATOR_ENDPOINTS = {
    "/webhooks/simulator/inbound/": lambda: {"inbox": "demo", "from": "alice", "name": "Alice", "text": "hello",
                                             "id": uuid.uuid4().hex, "media": [{"url": "https://example.org/a.png"}]},
    "/webhooks/simulator/status/": lambda: {"inbox": "demo", "id": uuid.uuid4().hex, "status": "delivered"},
}


@pytest.mark.parametrize("path", sorted(SIMULATOR_ENDPOINTS))
def test_signed_simulator_payloads_never_get_a_server_error(client, support, path):
    Inbox(name="Simulator", channel="simulator", address="demo", team=support).save()

    @EXAMPLES
    @given(payload=variations(SIMULATOR_ENDPOINTS[path], JSON_VALUE))
    def check(payload):
        before = RawInboundEvent.objects.count()
        body = json.dumps(payload).encode()
        response = client.post(path, data=body, content_type="application/json",
                               headers={SIMULATOR_SIGNATURE_HEADER: simulator_sign(body)})
        assert_answered_without_a_server_error(response)
        assert_kept_when_accepted(before, response)

    check()
