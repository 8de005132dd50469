"""The five Twilio Voice webhooks. Each one: find the inbox, check X-Twilio-Signature, store the raw
request, process it through inbox.services.calls, answer.

    POST /webhooks/twilio/voice/                a call comes in      → TwiML <Dial> (or voicemail)
    POST /webhooks/twilio/voice/dial-complete/  <Dial action>        → TwiML voicemail unless answered
         …/dial-complete/?step=recorded         <Record action>      → TwiML <Hangup/>
    POST /webhooks/twilio/voice/status/         call status changes  → 204
    POST /webhooks/twilio/voice/recording/      recordingStatusCallback → 204
    POST /webhooks/twilio/voice/transcription/  transcribeCallback   → 204

A forged or unknown request leaves no trace. A signed request that makes no sense is stored and
answered 400. A callback for a call Heron does not know yet is stored as failed (replayable with
`manage.py replay_raw_events`) and answered 204, like SMS status callbacks.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpResponse, HttpResponseBase
from django.views.decorators.csrf import csrf_exempt

from channels_adapters import twilio_common
from channels_adapters.common import Webhook, WebhookRequest
from channels_adapters.twilio_voice import RECORDED_QUERY, parse, twiml
from inbox.inbox_cache import inboxes_of
from inbox.models import Inbox, Message, RawInboundEvent
from inbox.services import calls
from inbox.services.identities import InvalidIdentity, normalize_phone
from inbox.services.raw_events import BadPayload

CHANNEL = "voice"
INBOUND_ENDPOINT = "twilio_voice.inbound"
DIAL_COMPLETE_ENDPOINT = "twilio_voice.dial_complete"
RECORDED_ENDPOINT = "twilio_voice.recorded"
STATUS_ENDPOINT = "twilio_voice.status"
RECORDING_ENDPOINT = "twilio_voice.recording"
TRANSCRIPTION_ENDPOINT = "twilio_voice.transcription"


def find_inbox(params, *, fresh: bool = False) -> Inbox | None:
    """The voice inbox a request is for: AccountSid + our number (To / Called), else the inbox that
    already holds the CallSid (recording callbacks carry no number), else the account's only voice
    inbox; among the inboxes the process keeps (inbox/inbox_cache.py), then, if none, those stored now.
    Credentials are encrypted, so matching happens here rather than in SQL (inboxes are few)."""
    account_sid = params.get("AccountSid", "")
    if not account_sid:
        return None
    inboxes = [i for i in inboxes_of(CHANNEL, fresh=fresh).values() if i.credentials.get("account_sid") == account_sid]
    inbox = _matching(params, inboxes)
    return inbox if inbox is not None or fresh else find_inbox(params, fresh=True)


def _matching(params, inboxes: list[Inbox]) -> Inbox | None:
    for field in ("To", "Called"):
        try:
            number = normalize_phone(params.get(field, ""))
        except InvalidIdentity:
            continue
        return next((inbox for inbox in inboxes if twilio_common.is_inbox_number(inbox.address, number)), None)
    call_sid = params.get("CallSid", "")
    if twilio_common.SID_RE.match(call_sid):  # not yet signed: nothing else is worth a query (nor a NUL)
        inbox_id = (Message.objects.filter(inbox__in=inboxes).with_external_id(call_sid)
                    .values_list("inbox_id", flat=True).first())
        if inbox_id:
            return next(i for i in inboxes if i.pk == inbox_id)
    return inboxes[0] if len(inboxes) == 1 else None


def _accept(request: WebhookRequest) -> Inbox | HttpResponseBase:
    return twilio_common.verified_inbox(request, find_inbox, not_found="No voice inbox matches this AccountSid and number.")


def _webhook(endpoint: str, process: Callable[[RawInboundEvent], str],
             make_twiml: Callable[[RawInboundEvent], str] | None = None) -> Callable:
    """With `make_twiml`, a webhook Twilio waits on to continue the call: even when processing fails
    for a reason of ours, the caller still gets the TwiML (the raw event stays failed for replay)."""
    if make_twiml is None:
        return Webhook(CHANNEL, endpoint, _accept, answer=lambda raw: HttpResponse(status=204), process=process,
                       retry_later=(calls.UnknownCall,)).as_view()
    return Webhook(CHANNEL, endpoint, _accept, answer=lambda raw: twiml.xml(make_twiml(raw)), process=process,
                   retry_later=(Exception,)).as_view()


# ------------------------------------------------------------------------------- raw-event processors
def _result(result: calls.CallResult) -> str:
    return RawInboundEvent.Result.PROCESSED if result.changed else RawInboundEvent.Result.DUPLICATE


def process_inbound(raw: RawInboundEvent) -> str:
    params = twilio_common.form(bytes(raw.body))
    call = parse.call(params, caller_required=True)
    parse.phone(params, "To")
    result = calls.start_call(raw.inbox_id, call.call_sid, call.caller, metadata={
        "from": call.caller.value, "to": parse.get(params, "To", limit=64),
    })
    return _result(result)


def process_dial_complete(raw: RawInboundEvent) -> str:
    params = twilio_common.form(bytes(raw.body))
    call = parse.call(params, caller_required=False)
    dial_status, provider_status = parse.status(params, "DialCallStatus")
    if not provider_status:
        raise BadPayload("'DialCallStatus' is missing")
    answered = provider_status.lower() in parse.ANSWERED_DIAL_STATUSES
    return _result(calls.record_call_update(
        raw.inbox_id, call.call_sid, status="completed" if answered else dial_status, answered=answered,
        duration=parse.seconds(params, "DialCallDuration") if answered else None,
        agents_status=provider_status, provider_status=call.provider_status, caller=call.caller,
    ))


def process_recorded(raw: RawInboundEvent) -> str:
    """The <Record action>: the recording is not downloadable yet; the recording callback brings it."""
    params = twilio_common.form(bytes(raw.body))
    call = parse.call(params, caller_required=False)
    parse.sid(params, "RecordingSid", required=False)
    return _result(calls.record_call_update(raw.inbox_id, call.call_sid, status=call.status,
                                            provider_status=call.provider_status, caller=call.caller))


def process_status(raw: RawInboundEvent) -> str:
    params = twilio_common.form(bytes(raw.body))
    call = parse.call(params, caller_required=False)
    if not call.provider_status:
        raise BadPayload("'CallStatus' is missing")
    if parse.get(params, "ParentCallSid", limit=64):
        return RawInboundEvent.Result.DUPLICATE  # a child leg (an agent's phone ringing): not the customer's call
    return _result(calls.record_call_update(
        raw.inbox_id, call.call_sid, status=call.status, duration=call.duration,
        provider_status=call.provider_status, caller=call.caller,
    ))


def process_recording(raw: RawInboundEvent) -> str:
    params = twilio_common.form(bytes(raw.body))
    rec = parse.recording(params)
    if rec.status == "in-progress":
        return RawInboundEvent.Result.DUPLICATE  # not asked for; the "completed" event follows
    if rec.status != "completed" or not rec.duration:
        # "absent" (silence) or "failed": no voicemail; the call stays a missed call.
        return _result(calls.record_call_update(raw.inbox_id, rec.call_sid, status="no-answer"))
    return _result(calls.record_voicemail(raw.inbox_id, rec.call_sid, rec.recording_sid, rec.url, rec.duration))


def process_transcription(raw: RawInboundEvent) -> str:
    params = twilio_common.form(bytes(raw.body))
    tr = parse.transcription(params)
    caller = parse.call(params, caller_required=False).caller if tr.call_sid else None
    return _result(calls.record_transcript(raw.inbox_id, tr.call_sid, tr.text, tr.status,
                                           recording_id=tr.recording_sid, caller=caller))


def _answered(raw: RawInboundEvent) -> bool:
    dial_status = twilio_common.FormParams(twilio_common.form(raw.body, errors="replace")).get("DialCallStatus", "")
    return dial_status.lower() in parse.ANSWERED_DIAL_STATUSES


voice = _webhook(INBOUND_ENDPOINT, process_inbound, lambda raw: twiml.answer(raw.inbox.settings))
_dialled = _webhook(DIAL_COMPLETE_ENDPOINT, process_dial_complete,
                    lambda raw: twiml.hangup() if _answered(raw) else twiml.voicemail(raw.inbox.settings))
_recorded = _webhook(RECORDED_ENDPOINT, process_recorded, lambda raw: twiml.hangup())
status = _webhook(STATUS_ENDPOINT, process_status)
recording = _webhook(RECORDING_ENDPOINT, process_recording)
transcription = _webhook(TRANSCRIPTION_ENDPOINT, process_transcription)


@csrf_exempt
def dial_complete(request):
    return (_recorded if request.META.get("QUERY_STRING", "") == RECORDED_QUERY else _dialled)(request)
