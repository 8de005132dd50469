"""A local fake of the Google APIs Heron speaks (pytest-httpserver), spoken to by google-auth itself.

- POST /token: the service-account JWT grant. The assertion must be an RS256 JWT signed by a key
  registered with `add_service_account` (checked with the public key), for Google's token audience; the
  answer is `{"access_token", "expires_in", "token_type"}`. Every request is recorded.
- POST /v1/conversations/{id}/messages (Business Messages): needs a bearer token this fake issued;
  records the body; a reused messageId gets 409 ALREADY_EXISTS, like Google; can be told to fail
  (`fail_next`), to accept a message and still answer an error (`accept_but_fail_next`), or to lose
  its answer (`fault_next`, see local_server.Fault).
- GET /v4/accounts/{a}/locations/{l}/reviews (paged, updateTime desc) and
  PUT …/reviews/{r}/reply (records the body, sets the review's reply).

Fixtures: `fake_google` (fresh state per test, the API base URL settings pointed at it) on the
session-wide `fake_google_server`; `service_account` makes a throwaway RSA key and its JSON info.
"""

from __future__ import annotations

import base64
import json
import re
import threading
import uuid
from dataclasses import dataclass, field

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from tests.fakes.local_server import Fault, Outage, answer_with_fault, local_http_server

JWT_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
GOOGLE_TOKEN_AUDIENCE = "https://oauth2.googleapis.com/token"
SEND_RE = re.compile(r"^/v1/conversations/(?P<conversation>[^/]+)/messages$")
REVIEWS_RE = re.compile(r"^/v4/(?P<location>accounts/[^/]+/locations/[^/]+)/reviews$")
REPLY_RE = re.compile(r"^/v4/(?P<location>accounts/[^/]+/locations/[^/]+)/reviews/(?P<review>[^/]+)/reply$")


def _b64url_decode(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


@dataclass
class TokenRequest:
    valid: bool
    reason: str = ""
    claims: dict = field(default_factory=dict)
    token: str = ""


@dataclass
class ApiRequest:
    path: str
    method: str
    authorization: str
    body: dict | None
    status_code: int
    params: dict = field(default_factory=dict)


@dataclass
class FakeGoogle:
    server: HTTPServer
    public_keys: dict[str, rsa.RSAPublicKey] = field(default_factory=dict)  # client_email → key
    token_requests: list[TokenRequest] = field(default_factory=list)
    issued_tokens: set[str] = field(default_factory=set)
    requests: list[ApiRequest] = field(default_factory=list)
    message_ids: dict[str, dict] = field(default_factory=dict)  # messageId → body, as Google stored it
    reviews: dict[str, list[dict]] = field(default_factory=dict)  # location → reviews
    max_page_size: int = 2  # small, so every poll pages
    _failures: list[tuple[int, str, bool]] = field(default_factory=list)
    _faults: list[Fault] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def base_url(self) -> str:
        return self.server.url_for("/").rstrip("/")

    @property
    def token_uri(self) -> str:
        return self.base_url + "/token"

    @property
    def sends(self) -> list[ApiRequest]:
        """Business Messages sends Google accepted (stored)."""
        return [r for r in self.requests if SEND_RE.match(r.path) and r.status_code == 200]

    def send_attempts(self) -> list[ApiRequest]:
        return [r for r in self.requests if SEND_RE.match(r.path)]

    def replies(self) -> list[ApiRequest]:
        return [r for r in self.requests if REPLY_RE.match(r.path)]

    def list_calls(self) -> list[ApiRequest]:
        return [r for r in self.requests if REVIEWS_RE.match(r.path)]

    def add_service_account(self, client_email: str, public_key: rsa.RSAPublicKey) -> None:
        self.public_keys[client_email] = public_key

    def fail_next(self, status: int = 503, *, times: int = 1, google_status: str = "UNAVAILABLE") -> None:
        self._failures.extend([(status, google_status, False)] * times)

    def fault_next(self, kind: str, *, accept: bool = True, seconds: float = 0.0) -> None:
        """The next Business Messages send loses its answer this way (local_server.Fault)."""
        self._faults.append(Fault(kind, accept, seconds))

    def accept_but_fail_next(self, status: int = 503, google_status: str = "UNAVAILABLE") -> None:
        """Store the next message, then answer an error anyway: the client never learns it got through."""
        self._failures.append((status, google_status, True))

    # ------------------------------------------------------------------------------------ OAuth
    def _check_assertion(self, assertion: str) -> TokenRequest:
        try:
            header_b64, payload_b64, signature_b64 = assertion.split(".")
            header = json.loads(_b64url_decode(header_b64))
            claims = json.loads(_b64url_decode(payload_b64))
            signature = _b64url_decode(signature_b64)
        except (ValueError, json.JSONDecodeError):
            return TokenRequest(False, "not a JWT")
        if header.get("alg") != "RS256":
            return TokenRequest(False, f"alg {header.get('alg')}", claims)
        key = self.public_keys.get(claims.get("iss", ""))
        if key is None:
            return TokenRequest(False, "unknown service account", claims)
        try:
            key.verify(signature, f"{header_b64}.{payload_b64}".encode(), padding.PKCS1v15(), hashes.SHA256())
        except InvalidSignature:
            return TokenRequest(False, "bad signature", claims)
        # Google's token endpoint wants its own URL as the audience (google-auth always writes it).
        if claims.get("aud") not in (GOOGLE_TOKEN_AUDIENCE, self.token_uri):
            return TokenRequest(False, f"aud {claims.get('aud')}", claims)
        return TokenRequest(True, "", claims)

    def handle_token(self, request: Request) -> Response:
        if request.form.get("grant_type") != JWT_GRANT:
            result = TokenRequest(False, "grant_type")
        else:
            result = self._check_assertion(request.form.get("assertion", ""))
        with self._lock:
            if result.valid:
                result.token = f"ya29.fake-{uuid.uuid4().hex}"
                self.issued_tokens.add(result.token)
            self.token_requests.append(result)
        if not result.valid:
            return Response(json.dumps({"error": "invalid_grant", "error_description": result.reason}),
                            status=400, content_type="application/json")
        return Response(json.dumps({"access_token": result.token, "expires_in": 3600, "token_type": "Bearer"}),
                        status=200, content_type="application/json")

    # ------------------------------------------------------------------------------------ APIs
    @staticmethod
    def _error(status: int, google_status: str, message: str) -> Response:
        return Response(json.dumps({"error": {"code": status, "message": message, "status": google_status}}),
                        status=status, content_type="application/json")

    def _record(self, request: Request, status: int, body: dict | None) -> None:
        self.requests.append(ApiRequest(request.path, request.method, request.headers.get("Authorization", ""),
                                        body, status, dict(request.args)))

    def _authorized(self, request: Request) -> bool:
        header = request.headers.get("Authorization", "")
        return header.startswith("Bearer ") and header[7:] in self.issued_tokens

    def _unauthenticated(self, request: Request, body: dict | None) -> Response:
        self._record(request, 401, body)
        return self._error(401, "UNAUTHENTICATED", "Request had invalid authentication credentials.")

    @staticmethod
    def _json_body(request: Request):
        """The request's JSON body, or None when it is not JSON."""
        try:
            return json.loads(request.get_data())
        except json.JSONDecodeError:
            return None

    def handle_send(self, request: Request) -> Response:
        body = self._json_body(request)
        with self._lock:
            if not self._authorized(request):
                return self._unauthenticated(request, body)
            if not isinstance(body, dict) or not body.get("messageId"):
                self._record(request, 400, body)
                return self._error(400, "INVALID_ARGUMENT", "messageId is required")
            if body["messageId"] in self.message_ids:
                self._record(request, 409, body)
                return self._error(409, "ALREADY_EXISTS", f"Message {body['messageId']} already exists.")
            if self._failures:
                status, google_status, accept = self._failures.pop(0)
                if accept:
                    self.message_ids[body["messageId"]] = body
                self._record(request, status, body)
                return self._error(status, google_status, "The service is currently unavailable.")
            fault = self._faults.pop(0) if self._faults else None
            if fault is None or fault.accept:
                self.message_ids[body["messageId"]] = body
            self._record(request, 200 if fault is None or fault.accept else 0, body)
        conversation = SEND_RE.match(request.path)["conversation"]
        stored = {**body, "name": f"conversations/{conversation}/messages/{body['messageId']}"}

        def answer() -> Response:
            return Response(json.dumps(stored), status=200, content_type="application/json")

        return answer_with_fault(self.server, request, fault, answer) if fault else answer()

    def handle_list(self, request: Request) -> Response:
        location = REVIEWS_RE.match(request.path)["location"]
        with self._lock:
            if not self._authorized(request):
                return self._unauthenticated(request, None)
            self._record(request, 200, None)
            reviews = sorted(self.reviews.get(location, []), key=lambda r: r["updateTime"], reverse=True)
        size = min(int(request.args.get("pageSize") or 50), self.max_page_size)
        start = int(request.args.get("pageToken") or 0)
        page = reviews[start:start + size]
        body: dict = {"reviews": page, "totalReviewCount": len(reviews)}
        if start + size < len(reviews):
            body["nextPageToken"] = str(start + size)
        return Response(json.dumps(body), status=200, content_type="application/json")

    def handle_reply(self, request: Request) -> Response:
        match = REPLY_RE.match(request.path)
        body = self._json_body(request)
        with self._lock:
            if not self._authorized(request):
                return self._unauthenticated(request, body)
            review = next((r for r in self.reviews.get(match["location"], []) if r["reviewId"] == match["review"]),
                          None)
            if review is None or not isinstance(body, dict) or not body.get("comment"):
                self._record(request, 404 if review is None else 400, body)
                return self._error(404, "NOT_FOUND", "Review not found") if review is None else \
                    self._error(400, "INVALID_ARGUMENT", "comment is required")
            self._record(request, 200, body)
            review["reviewReply"] = {"comment": body["comment"], "updateTime": "2025-03-04T10:00:00Z"}
        return Response(json.dumps(review["reviewReply"]), status=200, content_type="application/json")

    def install(self) -> None:
        self.server.clear()
        self.server.expect_request("/token", method="POST").respond_with_handler(self.handle_token)
        self.server.expect_request(SEND_RE, method="POST").respond_with_handler(self.handle_send)
        self.server.expect_request(REVIEWS_RE, method="GET").respond_with_handler(self.handle_list)
        self.server.expect_request(REPLY_RE, method="PUT").respond_with_handler(self.handle_reply)


@pytest.fixture(scope="session")
def fake_google_server():
    with local_http_server() as server:
        yield server


@pytest.fixture
def fake_google(fake_google_server, settings) -> FakeGoogle:
    fake = FakeGoogle(fake_google_server)
    fake.install()
    settings.GOOGLE_BUSINESS_MESSAGES_API_BASE_URL = fake.base_url
    settings.GOOGLE_BUSINESS_PROFILE_API_BASE_URL = fake.base_url
    yield fake
    Outage.wait_until_over()
    fake_google_server.clear()


def make_service_account(fake: FakeGoogle) -> dict:
    """A throwaway service account (fresh RSA key) whose token URI is the fake's, registered with it."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    email = f"heron-{uuid.uuid4().hex[:8]}@heron-test.iam.gserviceaccount.com"
    fake.add_service_account(email, key.public_key())
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption()).decode()
    return {
        "type": "service_account", "project_id": "heron-test", "private_key_id": uuid.uuid4().hex,
        "private_key": pem, "client_email": email, "client_id": "1234567890",
        "token_uri": fake.token_uri,
    }


@pytest.fixture
def service_account(fake_google) -> dict:
    return make_service_account(fake_google)
