"""Twilio Voice: signed webhooks, TwiML answers, missed calls and voicemails (both callback orders),
recordings downloaded with Basic Auth from a local fake Twilio, one contact across phone channels,
retries, malformed bodies, and `manage.py simulate voice` against a real server process.
"""

from __future__ import annotations

import re
import uuid
import xml.etree.ElementTree as ET
from urllib.parse import urlencode

import pytest
from django.conf import settings
from django.core.management import call_command
from werkzeug import Request, Response

from channels_adapters.base import OutboundMessage, PermanentSendError
from channels_adapters.twilio_voice.adapter import TwilioVoiceAdapter, recording_audio_url
from inbox.models import Attachment, Event, Inbox, Message, RawInboundEvent
from inbox.services.raw_events import replay_failed_events
from tests.fakes.twilio import (
    ACCOUNT_SID,
    AUTH_TOKEN,
    CUSTOMER,
    INBOX_NUMBER,
    FakeTwilio,
    inbound_params,
    post_twilio,
    signature,
    twilio_inbox,
)
from tests.support.waiting import wait_for

VOICE = "/webhooks/twilio/voice/"
DIAL_COMPLETE = "/webhooks/twilio/voice/dial-complete/"
RECORDED = "/webhooks/twilio/voice/dial-complete/?step=recorded"
STATUS = "/webhooks/twilio/voice/status/"
RECORDING = "/webhooks/twilio/voice/recording/"
TRANSCRIPTION = "/webhooks/twilio/voice/transcription/"
AGENT_NUMBER = "+15005550006"
MP3 = bytes.fromhex("fffb90c4") + b"\x00" * 413 + b"voicemail-audio"

RECORDING_RE = re.compile(r"^/2010-04-01/Accounts/(?P<account>[^/]+)/Recordings/(?P<sid>RE[0-9a-f]+)(?P<ext>\.\w+)?$")


# ------------------------------------------------------------------------------------------ fixtures
class Recordings:
    """Recordings on the fake Twilio of tests/fakes/twilio.py, served like api.twilio.com: Basic Auth,
    ".mp3" → audio/mpeg."""

    def __init__(self, fake: FakeTwilio):
        self.fake = fake
        self.audio: dict[str, bytes] = {}
        self.hits: list[tuple[str, bool]] = []  # (path requested, Basic Auth accepted)
        fake.server.expect_request(RECORDING_RE, method="GET").respond_with_handler(self.handle)

    def add(self, content: bytes = MP3) -> tuple[str, str]:
        """Returns (RecordingSid, RecordingUrl without extension, as Twilio sends it)."""
        sid = f"RE{uuid.uuid4().hex}"
        self.audio[sid] = content
        return sid, self.fake.server.url_for(f"/2010-04-01/Accounts/{ACCOUNT_SID}/Recordings/{sid}")

    def handle(self, request: Request) -> Response:
        match = RECORDING_RE.match(request.path)
        ok = self.fake._auth_ok(request, match["account"])
        self.hits.append((request.path, ok))
        if not ok:
            return self.fake._error(401, 20003, "Authenticate")
        if match["sid"] not in self.audio:
            return self.fake._error(404, 20404, "Not found")
        if match["ext"] == ".mp3":
            return Response(self.audio[match["sid"]], status=200, content_type="audio/mpeg")
        return Response(b"RIFF....WAVE", status=200, content_type="audio/x-wav")


@pytest.fixture
def recordings(fake_twilio: FakeTwilio) -> Recordings:
    fake_twilio.add_account(ACCOUNT_SID, AUTH_TOKEN)
    return Recordings(fake_twilio)


@pytest.fixture
def voice_inbox(support) -> Inbox:
    return twilio_inbox(support, channel="voice", name="Voice",
                        settings={"client_identities": ["agent_42"], "forward_to": [AGENT_NUMBER], "ring_timeout": 25})


def new_call_sid() -> str:
    return f"CA{uuid.uuid4().hex}"


def call_params(call_sid: str, status: str = "ringing", **overrides: str) -> dict[str, str]:
    """An inbound call in the shape of samples.md ("Inbound call")."""
    params = {
        "AccountSid": ACCOUNT_SID, "ApiVersion": "2010-04-01", "CallSid": call_sid, "CallStatus": status,
        "Called": INBOX_NUMBER, "CalledCity": "SAUSALITO", "CalledCountry": "US", "CalledState": "CA",
        "CalledZip": "94965", "Caller": CUSTOMER, "CallerCity": "SAN FRANCISCO", "CallerCountry": "US",
        "CallerState": "CA", "CallerZip": "94103", "Direction": "inbound", "From": CUSTOMER,
        "FromCity": "SAN FRANCISCO", "FromCountry": "US", "FromState": "CA", "FromZip": "94103",
        "To": INBOX_NUMBER, "ToCity": "SAUSALITO", "ToCountry": "US", "ToState": "CA", "ToZip": "94965",
    }
    params.update(overrides)
    return {k: v for k, v in params.items() if v is not None}


def recording_params(call_sid: str, recording_sid: str, url: str, *, status: str = "completed",
                     duration: str = "23") -> dict[str, str]:
    """A recording status callback in the shape of samples.md (no From/To in it)."""
    return {
        "RecordingSource": "RecordVerb", "RecordingSid": recording_sid, "RecordingUrl": url,
        "RecordingStatus": status, "RecordingChannels": "1", "ErrorCode": "0", "CallSid": call_sid,
        "RecordingStartTime": "Tue, 04 Mar 2025 10:20:05 +0000", "AccountSid": ACCOUNT_SID,
        "RecordingDuration": duration,
    }


def transcription_params(call_sid: str, recording_sid: str, url: str, text: str,
                         status: str = "completed") -> dict[str, str]:
    return {
        **call_params(call_sid, "completed"), "TranscriptionSid": f"TR{uuid.uuid4().hex}",
        "TranscriptionText": text, "TranscriptionStatus": status, "TranscriptionType": "fast",
        "TranscriptionUrl": f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT_SID}/Transcriptions/TR1",
        "RecordingSid": recording_sid, "RecordingUrl": url,
    }


def twiml(response) -> ET.Element:
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/xml")
    root = ET.fromstring(response.content)
    assert root.tag == "Response"
    return root


def ring(client, call_sid: str) -> ET.Element:
    return twiml(post_twilio(client, VOICE, call_params(call_sid)))


def no_answer(client, call_sid: str) -> ET.Element:
    params = call_params(call_sid, "in-progress", DialCallStatus="no-answer", DialCallSid=new_call_sid(),
                         DialCallDuration="0")
    return twiml(post_twilio(client, DIAL_COMPLETE, params))


def call_message(call_sid: str) -> Message:
    return Message.objects.get(external_id=call_sid)


# ------------------------------------------------------------------------------------ inbound call
def test_inbound_call_creates_the_call_and_dials_agents_with_the_dial_complete_action(client, voice_inbox):
    call_sid = new_call_sid()
    root = ring(client, call_sid)
    dial = root.find("Dial")
    assert dial is not None
    assert dial.get("action") == settings.PUBLIC_BASE_URL + DIAL_COMPLETE
    assert dial.get("timeout") == "25"
    assert [c.text for c in dial.findall("Client")] == ["agent_42"]
    assert [n.text for n in dial.findall("Number")] == [AGENT_NUMBER]

    message = call_message(call_sid)
    assert (message.kind, message.channel, message.direction, message.inbox) == ("call", "voice", "in", voice_inbox)
    assert message.text == "Incoming call"
    assert message.metadata["call_status"] == "ringing"
    assert message.metadata["direction"] == "inbound"
    assert message.identity.kind == "phone" and message.identity.value == CUSTOMER
    raw = RawInboundEvent.objects.get()
    assert raw.result == "processed" and raw.endpoint == "twilio_voice.inbound" and raw.inbox == voice_inbox
    assert Event.objects.filter(type="message.created").count() == 1


def test_inbox_without_agents_sends_callers_straight_to_voicemail(client, voice_inbox):
    voice_inbox.settings = {"voicemail_greeting": "Acme support is closed. Leave a message."}
    voice_inbox.save()
    root = ring(client, new_call_sid())
    assert root.find("Dial") is None
    assert root.find("Say").text == "Acme support is closed. Leave a message."
    record = root.find("Record")
    assert record.get("transcribe") == "true"
    assert record.get("action") == settings.PUBLIC_BASE_URL + RECORDED


def test_bad_forward_numbers_are_skipped(client, voice_inbox):
    voice_inbox.settings = {"forward_to": ["not a number", "+1 (500) 555-0006"], "ring_timeout": "abc"}
    voice_inbox.save()
    dial = ring(client, new_call_sid()).find("Dial")
    assert [n.text for n in dial.findall("Number")] == [AGENT_NUMBER]
    assert dial.get("timeout") == "20"


ALL_ENDPOINTS = [VOICE, DIAL_COMPLETE, RECORDED, STATUS, RECORDING, TRANSCRIPTION]


@pytest.mark.parametrize("path", ALL_ENDPOINTS)
@pytest.mark.parametrize("case", ["tampered", "wrong_token", "missing_header", "url_mismatch"])
def test_forged_requests_are_refused_and_nothing_is_stored(client, voice_inbox, path, case):
    params = call_params(new_call_sid(), DialCallStatus="no-answer", RecordingSid=f"RE{uuid.uuid4().hex}",
                         RecordingUrl="https://api.twilio.com/x", RecordingStatus="completed",
                         TranscriptionStatus="completed", TranscriptionText="hi")
    url = settings.PUBLIC_BASE_URL + path
    if case == "tampered":
        response = post_twilio(client, path, {**params, "From": "+15550001111"}, sig=signature(url, params))
    elif case == "wrong_token":
        response = post_twilio(client, path, params, token="not-the-token")
    elif case == "missing_header":
        response = post_twilio(client, path, params, sig="")
    else:
        response = post_twilio(client, path, params, signed_url="https://evil.example.com" + path)
    assert response.status_code == 403
    assert "signature" in response.json()["detail"].lower()
    assert RawInboundEvent.objects.count() == 0
    assert Message.objects.count() == 0


def test_unknown_number_or_account_is_404_without_storing(client, voice_inbox):
    assert post_twilio(client, VOICE, call_params(new_call_sid(), To="+15005550000",
                                                  Called="+15005550000")).status_code == 404
    assert post_twilio(client, VOICE, call_params(new_call_sid(), AccountSid="AC" + "9" * 32)).status_code == 404
    assert RawInboundEvent.objects.count() == 0 and Message.objects.count() == 0


def test_secondary_token_is_accepted_during_rotation(client, voice_inbox):
    voice_inbox.credentials = {"account_sid": ACCOUNT_SID, "auth_token": "old", "secondary_auth_token": "new"}
    voice_inbox.save()
    call_sid = new_call_sid()
    assert post_twilio(client, VOICE, call_params(call_sid), token="new").status_code == 200
    assert call_message(call_sid).kind == "call"


def test_get_is_not_allowed(client, voice_inbox):
    assert client.get(VOICE).status_code == 405
    assert RawInboundEvent.objects.count() == 0


# ----------------------------------------------------------------------------------- dial complete
def test_no_answer_records_a_voicemail_with_transcription_and_callbacks(client, voice_inbox):
    call_sid = new_call_sid()
    ring(client, call_sid)
    root = no_answer(client, call_sid)
    record = root.find("Record")
    assert record is not None
    assert record.get("transcribe") == "true"
    assert record.get("transcribeCallback") == settings.PUBLIC_BASE_URL + TRANSCRIPTION
    assert record.get("recordingStatusCallback") == settings.PUBLIC_BASE_URL + RECORDING
    assert "completed" in record.get("recordingStatusCallbackEvent").split()
    assert record.get("action") == settings.PUBLIC_BASE_URL + RECORDED
    assert int(record.get("maxLength")) <= 120
    assert root.find("Hangup") is not None
    message = call_message(call_sid)
    assert message.metadata["call_status"] == "no-answer"
    assert message.text == "Missed call"
    assert message.metadata["agents_status"] == "no-answer"


def test_answered_call_hangs_up_after_the_dial_and_is_not_missed(client, voice_inbox):
    call_sid = new_call_sid()
    ring(client, call_sid)
    params = call_params(call_sid, "in-progress", DialCallStatus="completed", DialCallDuration="61")
    root = twiml(post_twilio(client, DIAL_COMPLETE, params))
    assert root.find("Hangup") is not None and root.find("Record") is None
    status = call_params(call_sid, "completed", CallDuration="65")
    assert post_twilio(client, STATUS, status).status_code == 204
    message = call_message(call_sid)
    assert message.kind == "call"
    assert message.metadata["call_status"] == "completed"
    assert message.metadata["duration"] == 65
    assert message.text == "Answered call"


def test_record_action_hangs_up(client, voice_inbox):
    call_sid = new_call_sid()
    ring(client, call_sid)
    params = call_params(call_sid, "completed", RecordingUrl="https://api.twilio.com/r", RecordingSid="RE1",
                         RecordingDuration="5")
    root = twiml(post_twilio(client, RECORDED, params))
    assert root.find("Hangup") is not None
    assert RawInboundEvent.objects.filter(endpoint="twilio_voice.recorded", result="processed").exists()


# -------------------------------------------------------------------------------------- voicemail
@pytest.mark.parametrize("order", ["recording_first", "transcription_first"])
def test_voicemail_in_either_order_is_one_voicemail_with_transcript_and_downloaded_audio(
        client, voice_inbox, recordings, django_capture_on_commit_callbacks, order):
    call_sid = new_call_sid()
    ring(client, call_sid)
    no_answer(client, call_sid)
    recording_sid, url = recordings.add()
    steps = [
        (RECORDING, recording_params(call_sid, recording_sid, url)),
        (TRANSCRIPTION, transcription_params(call_sid, recording_sid, url, "Hi, it's Maria about order 1042.")),
    ]
    if order == "transcription_first":
        steps.reverse()
    events_before = Event.objects.filter(type="message.updated").count()
    with django_capture_on_commit_callbacks(execute=True):
        for path, params in steps:
            assert post_twilio(client, path, params).status_code == 204
    assert post_twilio(client, STATUS, call_params(call_sid, "completed", CallDuration="31")).status_code == 204

    message = Message.objects.get(inbox=voice_inbox)
    assert message.external_id == call_sid
    assert message.kind == "voicemail"
    assert message.metadata["transcript"] == "Hi, it's Maria about order 1042."
    assert message.metadata["duration"] == 23
    assert message.metadata["call_duration"] == 31
    assert message.metadata["call_status"] == "no-answer"
    assert message.metadata["recording_sid"] == recording_sid
    attachment = Attachment.objects.get(message=message)
    assert attachment.state == "ready"
    assert attachment.content_type == "audio/mpeg"
    assert attachment.filename.endswith(".mp3")
    assert attachment.file.read() == MP3
    assert message.metadata["recording_url"] == f"/api/v1/attachments/{attachment.pk}/"
    # Fetched once, as .mp3, with Basic Auth AccountSid:AuthToken.
    assert recordings.hits == [(f"/2010-04-01/Accounts/{ACCOUNT_SID}/Recordings/{recording_sid}.mp3", True)]
    # Every change was announced.
    updates = Event.objects.filter(type="message.updated").order_by("id")
    assert updates.count() > events_before
    assert updates.last().data["message"]["kind"] == "voicemail"


def test_voicemail_audio_is_playable_through_the_api(client, client_for, agent, voice_inbox, recordings,
                                                     django_capture_on_commit_callbacks):
    call_sid = new_call_sid()
    ring(client, call_sid)
    recording_sid, url = recordings.add()
    with django_capture_on_commit_callbacks(execute=True):
        post_twilio(client, RECORDING, recording_params(call_sid, recording_sid, url))
    response = client_for(agent).get(call_message(call_sid).metadata["recording_url"])
    assert response.status_code == 200
    assert response["Content-Type"] == "audio/mpeg"
    assert b"".join(response.streaming_content) == MP3


def test_recording_refused_by_twilio_is_marked_failed(client, voice_inbox, recordings, fake_twilio,
                                                      django_capture_on_commit_callbacks):
    call_sid = new_call_sid()
    ring(client, call_sid)
    recording_sid, url = recordings.add()
    fake_twilio.accounts[ACCOUNT_SID] = "a-token-heron-does-not-have"
    with django_capture_on_commit_callbacks(execute=True):
        assert post_twilio(client, RECORDING, recording_params(call_sid, recording_sid, url)).status_code == 204
    attachment = Attachment.objects.get()
    assert attachment.state == "failed" and "401" in attachment.error
    assert recordings.hits[0][1] is False


def test_absent_recording_leaves_a_missed_call_without_attachment(client, voice_inbox):
    call_sid = new_call_sid()
    ring(client, call_sid)
    params = recording_params(call_sid, f"RE{uuid.uuid4().hex}", "", status="absent", duration="0")
    assert post_twilio(client, RECORDING, params).status_code == 204
    message = call_message(call_sid)
    assert message.kind == "call" and message.metadata["call_status"] == "no-answer"
    assert not Attachment.objects.exists()


def test_failed_transcription_keeps_the_voicemail_without_transcript(client, voice_inbox, recordings):
    call_sid = new_call_sid()
    ring(client, call_sid)
    recording_sid, url = recordings.add()
    params = transcription_params(call_sid, recording_sid, url, "", status="failed")
    assert post_twilio(client, TRANSCRIPTION, params).status_code == 204
    message = call_message(call_sid)
    assert message.kind == "voicemail"
    assert message.metadata["transcript_status"] == "failed"
    assert "transcript" not in message.metadata


def test_recording_for_an_unknown_call_is_kept_and_replayed_once_the_call_exists(
        client, voice_inbox, recordings, django_capture_on_commit_callbacks):
    call_sid = new_call_sid()
    recording_sid, url = recordings.add()
    response = post_twilio(client, RECORDING, recording_params(call_sid, recording_sid, url))
    assert response.status_code == 204
    raw = RawInboundEvent.objects.get(endpoint="twilio_voice.recording")
    assert raw.result == "failed" and "UnknownCall" in raw.error
    ring(client, call_sid)
    with django_capture_on_commit_callbacks(execute=True):
        assert replay_failed_events() == {"processed": 1}
    assert call_message(call_sid).kind == "voicemail"
    assert Attachment.objects.get().state == "ready"


# -------------------------------------------------------------------- missed call, contact, retries
def test_missed_call_without_voicemail_is_on_the_contacts_timeline(client, client_for, admin, voice_inbox):
    call_sid = new_call_sid()
    ring(client, call_sid)
    no_answer(client, call_sid)
    assert post_twilio(client, STATUS, call_params(call_sid, "completed", CallDuration="12")).status_code == 204
    message = call_message(call_sid)
    response = client_for(admin).get(f"/api/v1/contacts/{message.contact_id}/timeline/")
    assert response.status_code == 200
    items = response.json()["results"]
    assert [(i["kind"], i["external_id"]) for i in items] == [("call", call_sid)]
    assert items[0]["metadata"]["call_status"] == "no-answer"
    assert items[0]["metadata"]["duration"] == 12
    assert items[0]["channel"] == "voice"


def test_caller_hanging_up_while_it_rings_is_a_missed_call(client, voice_inbox):
    call_sid = new_call_sid()
    ring(client, call_sid)
    assert post_twilio(client, STATUS, call_params(call_sid, "completed", CallDuration="9")).status_code == 204
    message = call_message(call_sid)
    assert message.metadata["call_status"] == "no-answer"
    assert message.text == "Missed call"


def test_same_callers_sms_lands_on_the_same_contact(client, voice_inbox, support):
    sms = Inbox(name="SMS", channel="sms", address=INBOX_NUMBER, team=support)
    sms.credentials = {"account_sid": ACCOUNT_SID, "auth_token": AUTH_TOKEN}
    sms.save()
    call_sid = new_call_sid()
    # The caller's number written another way in the call: still one person.
    post_twilio(client, VOICE, call_params(call_sid, From="+1 (555) 867-5310"))
    params = inbound_params(Body="I just tried to call you")
    assert post_twilio(client, "/webhooks/twilio/sms/", params).status_code == 200
    call = call_message(call_sid)
    text = Message.objects.get(external_id=params["MessageSid"])
    assert text.inbox == sms and call.inbox == voice_inbox
    assert text.contact_id == call.contact_id
    assert text.conversation_id == call.conversation_id


def test_every_webhook_twice_is_still_one_voicemail_one_attachment(client, voice_inbox, recordings,
                                                                   django_capture_on_commit_callbacks):
    call_sid = new_call_sid()
    recording_sid, url = recordings.add()
    flow = [
        (VOICE, call_params(call_sid)),
        (DIAL_COMPLETE, call_params(call_sid, "in-progress", DialCallStatus="no-answer")),
        (RECORDED, call_params(call_sid, "completed", RecordingUrl=url, RecordingSid=recording_sid,
                               RecordingDuration="23")),
        (RECORDING, recording_params(call_sid, recording_sid, url)),
        (TRANSCRIPTION, transcription_params(call_sid, recording_sid, url, "Call me back")),
        (STATUS, call_params(call_sid, "completed", CallDuration="31")),
    ]
    with django_capture_on_commit_callbacks(execute=True):
        for path, params in flow:
            first, second = post_twilio(client, path, params), post_twilio(client, path, params)
            assert first.status_code == second.status_code
            assert first.content == second.content
    events = Event.objects.count()
    with django_capture_on_commit_callbacks(execute=True):
        for path, params in flow:  # a third replay of the whole flow changes nothing
            post_twilio(client, path, params)
    assert Event.objects.count() == events
    assert Message.objects.filter(inbox=voice_inbox).count() == 1
    assert Attachment.objects.count() == 1
    assert len(recordings.hits) == 1
    assert call_message(call_sid).metadata["transcript"] == "Call me back"
    assert RawInboundEvent.objects.filter(result="duplicate").count() >= len(flow)


@pytest.mark.parametrize(("path", "case", "expected"), [
    (VOICE, "missing_call_sid", "'CallSid' is missing"),
    (VOICE, "bad_from", "'From' is not a phone number"),
    (VOICE, "non_utf8", "not valid UTF-8"),
    (DIAL_COMPLETE, "missing_dial_status", "'DialCallStatus' is missing"),
    (STATUS, "bad_duration", "'CallDuration' is not a number"),
    (STATUS, "bad_call_sid", "'CallSid' is not a Twilio SID"),
    (RECORDING, "bad_recording_url", "'RecordingUrl' is not an http(s) URL"),
    (RECORDING, "missing_recording_status", "'RecordingStatus' is missing"),
    (TRANSCRIPTION, "bad_transcription_status", "'TranscriptionStatus'"),
])
def test_malformed_signed_payloads_are_4xx_and_kept(client, voice_inbox, path, case, expected):
    call_sid = new_call_sid()
    params = call_params(call_sid)
    body = None
    if case == "missing_call_sid":
        params.pop("CallSid")
    elif case == "bad_from":
        params["From"] = "not-a-phone"
    elif case == "non_utf8":
        body = urlencode(params) + "&CallerName=caf%E9"
        params["CallerName"] = "caf\ufffd"
    elif case == "bad_duration":
        params.update(CallStatus="completed", CallDuration="forever")
    elif case == "bad_call_sid":
        params["CallSid"] = "CA<script>"
    elif case == "bad_recording_url":
        params = recording_params(call_sid, f"RE{uuid.uuid4().hex}", "file:///etc/passwd")
    elif case == "missing_recording_status":
        params = recording_params(call_sid, f"RE{uuid.uuid4().hex}", "https://api.twilio.com/r")
        params.pop("RecordingStatus")
    elif case == "bad_transcription_status":
        params = transcription_params(call_sid, "RE1", "https://api.twilio.com/r", "hi", status="maybe")
    response = post_twilio(client, path, params, body=body)
    assert 400 <= response.status_code < 500
    assert expected in response.json()["detail"]
    raw = RawInboundEvent.objects.get()
    assert raw.result == "failed" and expected in raw.error
    assert Message.objects.count() == 0


def test_a_recording_callback_whose_call_sid_is_no_sid_finds_no_inbox_by_it(client, voice_inbox, support):
    """Recording callbacks carry no number: the CallSid names the inbox, once it looks like a SID at all."""
    second = Inbox(name="Second line", channel="voice", address="+15017122662", team=support)
    second.credentials = {"account_sid": ACCOUNT_SID, "auth_token": AUTH_TOKEN}
    second.save()  # the account's only voice inbox no longer
    params = recording_params("CA\x00", f"RE{uuid.uuid4().hex}", "https://api.twilio.com/r/RE1")
    response = post_twilio(client, RECORDING, params)
    assert response.status_code == 404
    assert not RawInboundEvent.objects.exists()


def test_a_transcript_with_nul_characters_is_kept_without_them(client, voice_inbox):
    call_sid = new_call_sid()
    ring(client, call_sid)
    params = transcription_params(call_sid, "RE1", "https://api.twilio.com/r/RE1", "Call me\x00 back")
    assert post_twilio(client, TRANSCRIPTION, params).status_code == 204
    assert call_message(call_sid).metadata["transcript"] == "Call me back"


# ------------------------------------------------------------------------------------ adapter, set-up
def test_voice_adapter_refuses_text_and_fetches_recordings_as_mp3():
    adapter = TwilioVoiceAdapter()
    with pytest.raises(PermanentSendError, match="reply by SMS"):
        adapter.send(OutboundMessage(message_id=1, channel="voice", inbox_address=INBOX_NUMBER,
                                     inbox_credentials={}, inbox_settings={}, to=CUSTOMER, text="hi"))
    assert recording_audio_url("https://api.twilio.com/Recordings/RE1") == "https://api.twilio.com/Recordings/RE1.mp3"
    assert recording_audio_url("https://api.twilio.com/Recordings/RE1.wav") == "https://api.twilio.com/Recordings/RE1.wav"


def test_admin_creates_voice_inbox_and_gets_the_five_webhook_urls(client_for, admin):
    response = client_for(admin).post("/api/v1/inboxes/", {
        "name": "Support line", "channel": "voice", "address": INBOX_NUMBER,
        "credentials": {"account_sid": ACCOUNT_SID, "auth_token": AUTH_TOKEN},
    }, format="json")
    assert response.status_code == 201, response.content
    assert sorted(response.json()["webhook_urls"].values()) == sorted(
        settings.PUBLIC_BASE_URL + p for p in [VOICE, DIAL_COMPLETE, STATUS, RECORDING, TRANSCRIPTION]
    )
    assert "credentials" not in response.json()


# --------------------------------------------------------------- `manage.py simulate voice`, real HTTP
def test_simulate_voice_walks_a_missed_call_with_voicemail_over_http(server, support, settings, capsys):
    settings.PUBLIC_BASE_URL = server.url  # `simulate` posts to the running server
    inbox = Inbox(name="Demo voice", channel="voice", address="+15017122661", team=support,
                  settings={"client_identities": ["agent_42"]})
    inbox.credentials = {"account_sid": "AC" + "0" * 32, "auth_token": "demo-auth-token"}
    inbox.save()
    call_command("simulate", "voice", "--from", "+15558675310", "--to", "+15017122661",
                 "--voicemail-text", "Please call me back about my refund", "--duration", "4")
    assert "→ 204" in capsys.readouterr().out
    message = Message.objects.get(inbox=inbox)
    assert message.kind == "voicemail"
    assert message.identity.value == "+15558675310"
    assert message.metadata["transcript"] == "Please call me back about my refund"
    assert message.metadata["duration"] == 4
    assert message.metadata["call_status"] == "no-answer"
    attachment = wait_for(lambda: Attachment.objects.filter(message=message, state="ready").first(), timeout=15)
    assert attachment is not None, list(Attachment.objects.values("state", "error"))
    assert attachment.content_type == "audio/mpeg"
    assert attachment.file.read().startswith(bytes.fromhex("fffb"))
    endpoints = list(RawInboundEvent.objects.order_by("id").values_list("endpoint", "result"))
    assert endpoints == [
        ("twilio_voice.inbound", "processed"), ("twilio_voice.dial_complete", "processed"),
        ("twilio_voice.recorded", "processed"), ("twilio_voice.recording", "processed"),
        ("twilio_voice.transcription", "processed"), ("twilio_voice.status", "processed"),
    ]


def test_seed_demo_voice_inbox_has_a_voicemail_on_the_sms_customers_contact(db):
    from inbox.management.commands.seed_demo import seed_sms_inbox, seed_voice_inbox

    seed_sms_inbox()
    seed_voice_inbox()
    seed_voice_inbox()  # idempotent
    voice = Inbox.objects.get(channel="voice", address="+15017122661")
    [voicemail] = Message.objects.filter(inbox=voice)
    assert voicemail.kind == "voicemail" and voicemail.metadata["transcript"]
    assert voicemail.metadata["call_status"] == "no-answer" and voicemail.metadata["duration"] == 6
    [audio] = voicemail.attachments.all()
    assert audio.state == "ready" and audio.content_type == "audio/mpeg" and audio.filename.endswith(".mp3")
    sms = Message.objects.get(inbox__channel="sms", inbox__address="+15017122661")
    assert sms.contact_id == voicemail.contact_id
