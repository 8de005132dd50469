"""A local fake of Twilio's REST API (pytest-httpserver), spoken to by twilio-python itself.

- POST /2010-04-01/Accounts/{sid}/Messages.json with Basic Auth → 201 JSON {"sid": "SM…", "status": "queued"}
  (records the form fields; can be told to fail first with 5xx/4xx answers in Twilio's error shape, or
  to lose its answer: `fault_next`, see local_server.Fault);
- GET /2010-04-01/Accounts/{sid}/Messages.json: the Messages list, newest first, filtered by `To`,
  `From` and `DateSent` (`DateSent=`, `DateSent<=`, `DateSent>=` a date or a date-time, GMT) and
  paged by `PageSize`/`Page`, as Twilio documents it. A message is sent the moment it is accepted
  (its date_sent is its date_created);
- GET media URLs → the bytes registered with `add_media`, behind Basic Auth, optionally failing first.

Fixtures: `fake_twilio` (fresh state per test, `settings.TWILIO_API_BASE_URL` pointed at it for this
process) and `fake_twilio_server` (the session-wide server, for server processes started by tests).
Below them, what Twilio posts to Heron: sample webhooks, their signature, and `post_twilio` to send one.
"""

from __future__ import annotations

import base64
import json
import re
import threading
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from urllib.parse import urlencode

import pytest
from django.conf import settings
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from inbox.models import Inbox
from tests.fakes.local_server import Fault, Outage, answer_with_fault, local_http_server

MESSAGES_RE = re.compile(r"^/2010-04-01/Accounts/(?P<account>[^/]+)/Messages\.json$")
RFC2822 = "%a, %d %b %Y %H:%M:%S %z"  # Twilio's dates: "Thu, 30 Jul 2015 20:12:31 +0000"
MEDIA_RE = re.compile(r"^/2010-04-01/Accounts/(?P<account>[^/]+)/Messages/[^/]+/Media/[^/]+$")


@dataclass
class Send:
    account_sid: str
    form: dict[str, list[str]]
    status_code: int  # what the fake meant to answer (a fault may lose it)
    sid: str = ""  # set when Twilio kept the message
    fault: str = ""

    def get(self, name: str, default: str = "") -> str:
        return (self.form.get(name) or [default])[0]


@dataclass
class FakeTwilio:
    server: HTTPServer
    accounts: dict[str, str] = field(default_factory=dict)  # AccountSid → AuthToken
    requests: list[Send] = field(default_factory=list)  # every Messages.json POST, accepted or not
    media: dict[str, tuple[bytes, str]] = field(default_factory=dict)  # path → (content, type)
    media_requests: list[tuple[str, bool]] = field(default_factory=list)  # (path, auth ok)
    _failures: list[tuple[int, int, str]] = field(default_factory=list)
    _media_failures: dict[str, list[int]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def base_url(self) -> str:
        return self.server.url_for("/").rstrip("/")

    messages: list[dict] = field(default_factory=list)  # what Twilio holds, in its JSON shape
    list_requests: list[dict[str, str]] = field(default_factory=list)  # query of every Messages list GET
    _faults: list[Fault] = field(default_factory=list)

    @property
    def sends(self) -> list[Send]:
        """Sends Twilio kept (whatever the client heard of them)."""
        return [r for r in self.requests if r.sid]

    def fault_next(self, kind: str, *, accept: bool = True, seconds: float = 0.0) -> None:
        """The next Messages.json POST loses its answer this way (local_server.Fault)."""
        self._faults.append(Fault(kind, accept, seconds))

    def add_account(self, account_sid: str, auth_token: str) -> None:
        self.accounts[account_sid] = auth_token

    def fail_next(self, status: int = 503, *, times: int = 1, code: int = 20500,
                  message: str = "Service unavailable") -> None:
        """The next `times` Messages.json POSTs are answered with this error."""
        self._failures.extend([(status, code, message)] * times)

    def add_media(self, account_sid: str, content: bytes, content_type: str, *, fail_first: list[int] = ()) -> str:
        path = f"/2010-04-01/Accounts/{account_sid}/Messages/MM{uuid.uuid4().hex}/Media/ME{uuid.uuid4().hex}"
        self.media[path] = (content, content_type)
        self._media_failures[path] = list(fail_first)
        return self.server.url_for(path)

    def media_hits(self, url: str) -> list[bool]:
        path = url.removeprefix(self.base_url)
        return [ok for p, ok in self.media_requests if p == path]

    # ------------------------------------------------------------------ handlers
    def _auth_ok(self, request: Request, account_sid: str) -> bool:
        header = request.headers.get("Authorization", "")
        if not header.startswith("Basic "):
            return False
        user, _, password = base64.b64decode(header[6:]).decode().partition(":")
        return user == account_sid and self.accounts.get(account_sid) == password

    @staticmethod
    def _error(status: int, code: int, message: str) -> Response:
        body = {"code": code, "message": message, "more_info": f"https://www.twilio.com/docs/errors/{code}",
                "status": status}
        return Response(json.dumps(body), status=status, content_type="application/json")

    def handle_messages(self, request: Request) -> Response:
        account_sid = MESSAGES_RE.match(request.path)["account"]
        form = {key: request.form.getlist(key) for key in request.form.keys()}
        with self._lock:
            if not self._auth_ok(request, account_sid):
                self.requests.append(Send(account_sid, form, 401))
                return self._error(401, 20003, "Authenticate")
            if self._failures:
                status, code, message = self._failures.pop(0)
                self.requests.append(Send(account_sid, form, status))
                return self._error(status, code, message)
            fault = self._faults.pop(0) if self._faults else None
            if fault is not None and not fault.accept:
                self.requests.append(Send(account_sid, form, 0, fault=fault.kind))
        if fault is not None and not fault.accept:  # lost before Twilio stored anything
            return answer_with_fault(self.server, request, fault, lambda: self._error(500, 20500, "unused"))
        with self._lock:
            sid = f"{'MM' if form.get('MediaUrl') else 'SM'}{uuid.uuid4().hex}"
            now = datetime.now(UTC).strftime(RFC2822)
            body = {
                "sid": sid, "account_sid": account_sid, "status": "queued", "to": form.get("To", [""])[0],
                "from": form.get("From", [None])[0], "body": form.get("Body", [""])[0], "num_segments": "1",
                "num_media": str(len(form.get("MediaUrl", []))),
                "messaging_service_sid": form.get("MessagingServiceSid", [None])[0], "direction": "outbound-api",
                "error_code": None, "error_message": None, "api_version": "2010-04-01",
                "date_created": now, "date_updated": now, "date_sent": now,
                "uri": f"/2010-04-01/Accounts/{account_sid}/Messages/{sid}.json",
            }
            self.messages.append(body)
            self.requests.append(Send(account_sid, form, 201, sid, fault=fault.kind if fault else ""))

        def created() -> Response:
            return Response(json.dumps(body), status=201, content_type="application/json")

        return answer_with_fault(self.server, request, fault, created) if fault else created()

    def handle_list(self, request: Request) -> Response:
        """GET Messages.json: Twilio's filters, newest first, one page of `PageSize` (50) at `Page` (0)."""
        account_sid = MESSAGES_RE.match(request.path)["account"]
        if not self._auth_ok(request, account_sid):
            return self._error(401, 20003, "Authenticate")
        args = request.args
        with self._lock:
            self.list_requests.append(dict(args))
            found = [m for m in self.messages if m["account_sid"] == account_sid
                     and args.get("To", m["to"]) == m["to"] and args.get("From", m["from"]) == m["from"]
                     and _date_sent_matches(m["date_sent"], args)]
        found.reverse()
        size, page = min(int(args.get("PageSize", 50)), 1000), int(args.get("Page", 0))
        items = found[page * size:(page + 1) * size]
        uri = f"/2010-04-01/Accounts/{account_sid}/Messages.json"
        more = (page + 1) * size < len(found)
        return Response(json.dumps({
            "messages": items, "page": page, "page_size": size, "start": page * size,
            "end": page * size + max(len(items) - 1, 0), "uri": f"{uri}?PageSize={size}&Page={page}",
            "first_page_uri": f"{uri}?PageSize={size}&Page=0",
            "next_page_uri": f"{uri}?PageSize={size}&Page={page + 1}" if more else None,
            "previous_page_uri": f"{uri}?PageSize={size}&Page={page - 1}" if page else None,
        }), status=200, content_type="application/json")

    def handle_media(self, request: Request) -> Response:
        account_sid = MEDIA_RE.match(request.path)["account"]
        ok = self._auth_ok(request, account_sid)
        with self._lock:
            self.media_requests.append((request.path, ok))
            failures = self._media_failures.get(request.path) or []
            failure = failures.pop(0) if failures else None
        if not ok:
            return self._error(401, 20003, "Authenticate")
        if failure:
            return self._error(failure, 20500, "Internal server error")
        if request.path not in self.media:
            return self._error(404, 20404, "Not found")
        content, content_type = self.media[request.path]
        return Response(content, status=200, content_type=content_type)

    def install(self) -> None:
        self.server.clear()
        self.server.expect_request(MESSAGES_RE, method="POST").respond_with_handler(self.handle_messages)
        self.server.expect_request(MESSAGES_RE, method="GET").respond_with_handler(self.handle_list)
        self.server.expect_request(MEDIA_RE, method="GET").respond_with_handler(self.handle_media)


def _date_sent_matches(date_sent: str, args) -> bool:
    """Twilio's DateSent filters: `DateSent` (that GMT day), `DateSent<` and `DateSent>` (on or
    before / on or after; twilio-python sends `DateSent>=…` as the key `DateSent>`), each a
    YYYY-MM-DD date or a YYYY-MM-DDTHH:MM:SSZ time."""
    sent = datetime.strptime(date_sent, RFC2822)
    for key, compare in (("DateSent", lambda a, b: a == b), ("DateSent<", lambda a, b: a <= b),
                         ("DateSent>", lambda a, b: a >= b)):
        value = args.get(key)
        if value is None:
            continue
        if "T" in value:
            bound = datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
            if not compare(sent, bound):
                return False
        elif not compare(sent.date(), date.fromisoformat(value)):
            return False
    return True


@pytest.fixture(scope="session")
def fake_twilio_server():
    with local_http_server() as server:
        yield server


@pytest.fixture
def fake_twilio(fake_twilio_server, settings) -> FakeTwilio:
    fake = FakeTwilio(fake_twilio_server)
    fake.install()
    settings.TWILIO_API_BASE_URL = fake.base_url
    yield fake
    Outage.wait_until_over()
    fake_twilio_server.clear()


# ---------------------------------------------------------------------- what Twilio posts to Heron
ACCOUNT_SID = "AC4f1e2d3c4b5a69788796a5b4c3d2e1f0"
AUTH_TOKEN = "test-auth-token-1234"
INBOX_NUMBER = "+15017122661"
CUSTOMER = "+15558675310"
FORM = "application/x-www-form-urlencoded"


def new_sid(prefix: str = "SM") -> str:
    return prefix + uuid.uuid4().hex


def inbound_params(**overrides: str) -> dict[str, str]:
    """An inbound SMS webhook in the shape of samples.md."""
    sid = overrides.pop("MessageSid", None) or new_sid()
    params = {
        "ToCountry": "US", "ToState": "CA", "SmsMessageSid": sid, "NumMedia": "0", "ToCity": "SAUSALITO",
        "FromZip": "94103", "SmsSid": sid, "FromState": "CA", "SmsStatus": "received", "FromCity": "SAN FRANCISCO",
        "Body": "Hi, my order #1042 hasn't arrived", "FromCountry": "US", "To": INBOX_NUMBER, "ToZip": "94965",
        "NumSegments": "1", "MessageSid": sid, "AccountSid": ACCOUNT_SID, "From": CUSTOMER, "ApiVersion": "2010-04-01",
    }
    params.update(overrides)
    return {k: v for k, v in params.items() if v is not None}


def status_params(message_sid: str, status: str, **overrides: str) -> dict[str, str]:
    """A status callback for one of our sends (From is our number, To the customer)."""
    params = {
        "SmsSid": message_sid, "SmsStatus": status, "MessageStatus": status, "To": CUSTOMER,
        "MessageSid": message_sid, "AccountSid": ACCOUNT_SID, "From": INBOX_NUMBER, "ApiVersion": "2010-04-01",
    }
    params.update(overrides)
    return {k: v for k, v in params.items() if v is not None}


def signature(url: str, params: dict, token: str = AUTH_TOKEN) -> str:
    from twilio.request_validator import RequestValidator

    return RequestValidator(token).compute_signature(url, params)


def post_twilio(client, path: str, params: dict, *, token: str = AUTH_TOKEN, signed_url: str | None = None,
                sig: str | None = None, body: bytes | str | None = None, **headers):
    """POST a webhook through Django's test client, signed like Twilio (`sig=""`: unsigned)."""
    url = signed_url or settings.PUBLIC_BASE_URL + path
    if sig is None:
        sig = signature(url, params, token)
    if sig:
        headers["X-Twilio-Signature"] = sig
    return client.post(path, data=body if body is not None else urlencode(params), content_type=FORM,
                       headers=headers)


def twilio_inbox(team, *, channel: str, name: str, **fields) -> Inbox:
    """An inbox on INBOX_NUMBER with the test account's credentials (ACCOUNT_SID / AUTH_TOKEN)."""
    inbox = Inbox(name=name, channel=channel, address=INBOX_NUMBER, team=team, **fields)
    inbox.credentials = {"account_sid": ACCOUNT_SID, "auth_token": AUTH_TOKEN}
    inbox.save()
    return inbox
