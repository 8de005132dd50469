"""Who may call what: every operation of the OpenAPI schema and every route of the URL conf, called by an
anonymous visitor, an agent of another team, a marketer and an admin, answers the status MATRIX writes
down for it. A route or operation without an entry, or an entry whose route is gone, fails by name.

Path parameters name the Support team's objects, so `other_team` (the Sales agent) asks for what is not
theirs; nothing that caller or an anonymous one is given may contain Support's conversation. Each
request runs in a savepoint rolled back after it, so every caller meets the same data.

MATRIX holds the intended status. Where today's differs, KNOWN_GAPS holds today's, which the test expects
instead: closing a gap means deleting its line there.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import urlencode

import pytest
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.apps import apps
from django.contrib.admindocs.views import extract_views_from_urlpatterns, simplify_regex
from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.urls import get_resolver
from drf_spectacular.generators import SchemaGenerator
from rest_framework.test import APIClient

from channels_adapters.email.imap import ingest_raw
from inbox.models import CannedResponse, Inbox, Label, Message
from inbox.services.contacts import create_contact, merge_contacts
from inbox.services.outbound import send_message
from inbox.services.people import token_for
from search.models import SavedView
from tests.conftest import PASSWORD
from tests.fakes.twilio import (
    ACCOUNT_SID,
    AUTH_TOKEN,
    FORM,
    inbound_params,
    new_sid,
    status_params,
    twilio_inbox,
)
from tests.support.email import mime
from tests.test_google import AGENT, CLIENT_TOKEN, PARTNER_KEY, user_message
from tests.test_twilio_voice import call_params, recording_params, transcription_params

# A demo deployment's URL conf: production's routes and the fake providers'
# (tests/support/urls_with_fakes.py).
pytestmark = pytest.mark.urls("tests.support.urls_with_fakes")

Caller = Literal["anonymous", "other_team", "marketer", "admin"]
CALLERS: tuple[Caller, ...] = ("anonymous", "other_team", "marketer", "admin")
Operation = tuple[str, str]  # (method, path template as the schema writes it: /api/v1/contacts/{id}/)

# What only Support (and marketers and admins) may read: none of it may reach another team's agent or an
# anonymous caller.
CONTACT_NAME, CONTACT_EMAIL = "Alice Hidden", "alice.hidden@example.org"
SUBJECT = "Parcel 7431 went missing"
CUSTOMER_TEXT = "Support only: parcel 7431 never arrived"
REPLY_TEXT = "Support only: a new parcel ships today"
NOTE_TEXT = "Support only: refund approved by Ana"
ATTACHMENT = b"Support only: the shipping label"
SUPPORT_ONLY = [CONTACT_NAME, CONTACT_EMAIL, SUBJECT, CUSTOMER_TEXT, REPLY_TEXT, NOTE_TEXT,
                ATTACHMENT.decode()]
# Inbox credentials are written, never read back, by anyone.
CREDENTIALS = [AUTH_TOKEN, PARTNER_KEY, CLIENT_TOKEN]


@dataclass
class World:
    """The Support team's objects the path parameters name, and the people who call."""

    users: dict[Caller, Any]
    path_values: dict[str, object]  # "<segment before the parameter>/{parameter}" -> value
    objects: dict[str, Any]  # what request bodies name


Data = dict | Callable[[World], dict] | None


@dataclass(frozen=True)
class Expect:
    """The intended status for each caller, and the request that asks it."""

    anonymous: int
    other_team: int
    marketer: int
    admin: int
    data: Data = None  # a GET's query, any other method's body; a function of the World when it names objects
    encoding: Literal["json", "form"] = "json"
    url: str | None = None  # for a route whose template is no URL (a regular expression)


def read(other_team: int = 200, **request) -> Expect:
    """A read: refused to anonymous callers, open to marketers and admins."""
    return Expect(403, other_team, 200, 200, **request)


def work(other_team: int, *, admin: int, **request) -> Expect:
    """A change to conversations or contacts: agents of the team and admins only."""
    return Expect(403, other_team, 403, admin, **request)


def setting(admin: int, **request) -> Expect:
    """A change to what admins set up (inboxes, teams, labels, canned responses)."""
    return Expect(403, 403, 403, admin, **request)


def public(status: int, **request) -> Expect:
    """The same answer whoever asks: the caller's session plays no part."""
    return Expect(status, status, status, status, **request)


CALL_SID, RECORDING_URL = new_sid("CA"), "https://api.twilio.com/r/RE1"


def webhook(data: dict, encoding: Literal["json", "form"] = "form", url: str | None = None) -> Expect:
    """A provider's webhook posted without its signature: refused before anything is stored."""
    return public(403, data=data, encoding=encoding, url=url)


# anymail's webhooks, each posted without the Basic Auth (or the ESP's own signature) it needs.
ANYMAIL_UNSIGNED = {"RawEmail": "", "OriginalRecipient": "support@heron.local"}
# Those that check Basic Auth first.
ANYMAIL_BASIC_AUTH = [
    "brevo/tracking", "mailjet/inbound", "mailjet/tracking", "mailtrap/tracking", "postmark/inbound",
    "postmark/tracking", "resend/tracking", "sendgrid/inbound", "sendgrid/tracking", "sendinblue/tracking",
    "sparkpost/inbound", "sparkpost/tracking",
]
# Those that first need what Heron does not set up for an ESP it does not use (a webhook key, boto3 for
# Amazon SES).
ANYMAIL_UNCONFIGURED = [
    "amazon_ses/inbound", "amazon_ses/tracking", "brevo/inbound", "mailersend/inbound", "mailersend/tracking",
    "mailgun/tracking", "mailtrap/inbound", "mandrill", "mandrill/tracking",
    "postal/inbound", "postal/tracking", "resend/inbound", "sendinblue/inbound", "unisender_go/tracking",
]


def admin_page(admin: int = 200) -> Expect:
    """Django's admin: staff only; anyone else is sent to its login page."""
    return Expect(302, 302, 302, admin)


# The models Django's admin has pages for, each with the pages' status for an admin where it is not 200.
ADMIN_MODELS: dict[str, dict[str, int]] = {
    "auth.group": {},
    "auth.user": {},
    "authtoken.tokenproxy": {},
    "axes.accessattempt": {"add/": 403},  # django-axes' records are written by sign-ins alone
    "axes.accesslog": {"add/": 403},
    "axes.accessfailurelog": {"add/": 403},
    "inbox.contact": {},
    "inbox.identity": {},
    "inbox.inbox": {},
    "inbox.conversation": {},
    "inbox.message": {},
    "inbox.rawinboundevent": {},
    "inbox.team": {},
    "inbox.agentprofile": {},
    "inbox.label": {},
    "inbox.cannedresponse": {},
    "inbox.event": {},
}
ADMIN_MODEL_PAGES = ("", "add/", "{object_id}/history/", "{object_id}/delete/", "{object_id}/change/")


def admin_model_pages() -> dict[Operation, Expect]:
    pages: dict[Operation, Expect] = {}
    for model, statuses in ADMIN_MODELS.items():
        prefix = "/admin/" + model.replace(".", "/") + "/"
        for page in ADMIN_MODEL_PAGES:
            pages["GET", prefix + page] = admin_page(statuses.get(page, 200))
        pages["GET", prefix + "{object_id}/"] = public(302)  # a redirect to its change/ page, for anyone
    return pages


MATRIX: dict[Operation, Expect] = {
    # ---------------------------------------------------------------------------------------- sign-in
    ("GET", "/api/v1/auth/csrf/"): public(204),
    ("POST", "/api/v1/auth/login/"): public(200, data={"email": "sol@example.com", "password": PASSWORD}),
    ("POST", "/api/v1/auth/logout/"): Expect(403, 204, 204, 204),  # one's own session, not the inbox's data
    ("GET", "/api/v1/me/"): read(),
    ("GET", "/api/v1/agents/"): read(),
    ("GET", "/api/v1/events/"): read(data={"after": 0}),
    # ---------------------------------------------------------------------------------- conversations
    ("GET", "/api/v1/conversations/"): read(),
    ("POST", "/api/v1/conversations/"): work(404, admin=201, data=lambda w: {
        "contact": w.objects["contact"].pk, "inbox": w.objects["email_inbox"].pk, "text": "Any news?"}),
    ("GET", "/api/v1/conversations/{id}/"): read(404),
    ("PATCH", "/api/v1/conversations/{id}/"): work(404, admin=200, data={"status": "pending"}),
    ("GET", "/api/v1/conversations/{id}/messages/"): read(404),
    ("POST", "/api/v1/conversations/{id}/messages/"): work(404, admin=201, data={"text": "On its way."}),
    ("POST", "/api/v1/conversations/{id}/read/"): work(404, admin=204),
    ("GET", "/api/v1/conversations/{id}/reply-options/"): read(404),
    ("GET", "/api/v1/attachments/{id}/"): read(404),
    ("GET", "/api/v1/messages/{id}/original/"): read(404),
    # --------------------------------------------------------------------------------------- contacts
    ("GET", "/api/v1/contacts/"): read(),
    ("POST", "/api/v1/contacts/"): work(201, admin=201, data={
        "name": "Dan New", "identities": [{"kind": "email", "value": "dan@example.org"}]}),
    ("GET", "/api/v1/contacts/{id}/"): read(404),
    ("PATCH", "/api/v1/contacts/{id}/"): work(404, admin=200, data={"name": "Alice B.", "labels": ["vip"]}),
    ("GET", "/api/v1/contacts/{id}/conversations/"): read(404),
    ("GET", "/api/v1/contacts/{id}/timeline/"): read(404),
    ("POST", "/api/v1/contacts/{id}/identities/"): work(404, admin=201,
                                                        data={"kind": "phone", "value": "+15005550006"}),
    ("DELETE", "/api/v1/contacts/{id}/identities/{identity_id}/"): work(404, admin=204),
    ("POST", "/api/v1/contacts/{id}/merge/"): work(404, admin=200,
                                                   data=lambda w: {"other": w.objects["loner"].pk}),
    ("POST", "/api/v1/contacts/{id}/unmerge/"): work(404, admin=200,
                                                     data=lambda w: {"merge_id": w.objects["merge"].pk}),
    # ------------------------------------------------------------------------ what admins set up
    ("GET", "/api/v1/inboxes/"): read(),
    ("POST", "/api/v1/inboxes/"): setting(201, data=lambda w: {
        "name": "Ops", "channel": "simulator", "address": "ops", "team": w.objects["email_inbox"].team_id}),
    ("GET", "/api/v1/inboxes/{id}/"): read(),
    ("PATCH", "/api/v1/inboxes/{id}/"): setting(200, data={"name": "Support chat"}),
    ("DELETE", "/api/v1/inboxes/{id}/"): setting(204),
    ("GET", "/api/v1/teams/"): read(),
    ("POST", "/api/v1/teams/"): setting(201, data={"name": "Ops"}),
    ("GET", "/api/v1/teams/{id}/"): read(),
    ("PUT", "/api/v1/teams/{id}/"): setting(200, data={"name": "Support desk"}),
    ("PATCH", "/api/v1/teams/{id}/"): setting(200, data={"name": "Support desk"}),
    ("DELETE", "/api/v1/teams/{id}/"): setting(204),
    ("GET", "/api/v1/labels/"): read(),
    ("POST", "/api/v1/labels/"): setting(201, data={"name": "urgent", "color": "#dc2626"}),
    ("GET", "/api/v1/labels/{id}/"): read(),
    ("PUT", "/api/v1/labels/{id}/"): setting(200, data={"name": "very-important", "color": "#dc2626"}),
    ("PATCH", "/api/v1/labels/{id}/"): setting(200, data={"color": "#dc2626"}),
    ("DELETE", "/api/v1/labels/{id}/"): setting(204),
    ("GET", "/api/v1/canned-responses/"): read(),
    ("POST", "/api/v1/canned-responses/"): setting(201, data={"shortcut": "thanks", "text": "Thank you!"}),
    ("GET", "/api/v1/canned-responses/{id}/"): read(),
    ("PUT", "/api/v1/canned-responses/{id}/"): setting(200, data={"shortcut": "parcel", "text": "It ships."}),
    ("PATCH", "/api/v1/canned-responses/{id}/"): setting(200, data={"text": "It ships."}),
    ("DELETE", "/api/v1/canned-responses/{id}/"): setting(204),
    # ---------------------------------------------------------------------------------------- search
    # Another team's agent finds nothing of Support's (the test checks no answer holds it).
    ("GET", "/api/v1/search/"): read(data={"q": "parcel 7431"}),
    ("GET", "/api/v1/saved-views/"): read(),
    # Anyone keeps views of their own, marketers included: a view changes no conversation.
    ("POST", "/api/v1/saved-views/"): Expect(403, 201, 201, 201, data={"name": "Parcels", "q": "parcel"}),
    # Support's shared view: its owner and admins may change it; it is no one else's to see.
    ("PATCH", "/api/v1/saved-views/{id}/"): Expect(403, 404, 404, 200, data={"name": "Lost parcels"}),
    ("DELETE", "/api/v1/saved-views/{id}/"): Expect(403, 404, 404, 204),
    # ------------------------------------------------------------------------------ API description
    # The API's description is public, like any open-source project's: it names no data.
    ("GET", "/api/schema/"): public(200),
    ("GET", "/api/docs/"): public(200),
    # ------------------------------------------------------- the customer simulator (demo only: admins)
    ("GET", "/api/v1/simulate/"): setting(200),
    # A valid one would post to PUBLIC_BASE_URL's webhook, which no server answers here: the admin's 400 is
    # the option check, after the permission check that refuses everyone else.
    ("POST", "/api/v1/simulate/"): setting(400, data={"channel": "simulator", "options": {"no_such": "1"}}),
    # -------------------------------------------------------------------- webhooks, without signatures
    ("POST", "/webhooks/simulator/inbound/"): webhook({"inbox": "support", "from": "bo", "text": "Hi"}, "json"),
    ("POST", "/webhooks/simulator/status/"): webhook({"inbox": "support", "id": "m1", "status": "sent"},
                                                     "json"),
    ("POST", "/webhooks/twilio/sms/"): webhook(inbound_params()),
    ("POST", "/webhooks/twilio/sms/status/"): webhook(status_params(new_sid(), "delivered")),
    ("POST", "/webhooks/twilio/voice/"): webhook(call_params(CALL_SID)),
    ("POST", "/webhooks/twilio/voice/dial-complete/"): webhook(
        {**call_params(CALL_SID, "completed"), "DialCallStatus": "no-answer"}),
    ("POST", "/webhooks/twilio/voice/status/"): webhook(call_params(CALL_SID, "completed")),
    ("POST", "/webhooks/twilio/voice/recording/"): webhook(recording_params(CALL_SID, "RE1", RECORDING_URL)),
    ("POST", "/webhooks/twilio/voice/transcription/"): webhook(
        transcription_params(CALL_SID, "RE1", RECORDING_URL, "Call me")),
    ("POST", "/webhooks/google/business-messages/"): webhook(user_message(), "json"),
    # anymail refuses a request without its Basic Auth as a suspicious operation (400), storing nothing.
    **{("POST", f"/anymail/{esp}/"): public(400, data=ANYMAIL_UNSIGNED, encoding="json")
       for esp in ANYMAIL_BASIC_AUTH},
    # An ESP that is not configured is not there (channels_adapters/email/urls.py).
    **{("POST", f"/anymail/{esp}/"): public(404, data=ANYMAIL_UNSIGNED, encoding="json")
       for esp in ANYMAIL_UNCONFIGURED},
    ("POST", "/anymail/mailgun/inbound{var}/"): public(404, data=ANYMAIL_UNSIGNED, encoding="json",
                                                        url="/anymail/mailgun/inbound_mime/"),
    # ------------------------------------------------- the fake providers (demo only: their own auth)
    ("POST", "/simulator/twilio/2010-04-01/Accounts/{account_sid}/Messages.json"): public(
        401, data={"To": "+15558675310", "From": "+15017122661", "Body": "Hi"}, encoding="form"),
    # Files only `manage.py simulate` stages; none here.
    ("GET", "/simulator/twilio/2010-04-01/Accounts/{account_sid}/Messages/{message_sid}/Media/{media_sid}"):
        public(404),
    ("GET", "/simulator/twilio/2010-04-01/Accounts/{account_sid}/Recordings/{recording}"): public(404),
    ("POST", "/simulator/google/token"): public(400, data={"grant_type": "x", "assertion": "x"},
                                                encoding="form"),
    ("POST", "/simulator/google/v1/conversations/{conversation_id}/messages"): public(401,
                                                                                     data={"text": "Hi"}),
    # ------------------------------------------------------------------------- everything else
    ("GET", "/healthz"): public(200),
    ("GET", "/media/public/{token}/{filename}"): public(404),  # a made-up token: the link is the key
    ("GET", "/{var}."): public(200, url="/conversations/1"),  # the web app, for any other path; it signs in
    ("GET", "/admin/"): admin_page(),
    ("GET", "/admin/login/"): Expect(200, 200, 200, 302),  # a signed-in admin is sent on to the index
    ("POST", "/admin/logout/"): admin_page(),
    ("GET", "/admin/password_change/"): admin_page(),
    ("GET", "/admin/password_change/done/"): admin_page(),
    ("GET", "/admin/autocomplete/"): admin_page(403),  # no admin has autocomplete fields: every query fails
    ("GET", "/admin/jsi18n/"): admin_page(),
    ("GET", "/admin/r/{content_type_id}/{object_id}/"): admin_page(404),  # a contact has no page of its own
    ("GET", "/admin/{app_label}/"): admin_page(),
    ("GET", "/admin/{url}"): admin_page(404),
    ("GET", "/admin/auth/user/{id}/password/"): admin_page(),
    **admin_model_pages(),
}


# Where today's status falls short of the intended one above: operation -> caller -> today's status.
KNOWN_GAPS: dict[Operation, dict[Caller, int]] = {}


# ------------------------------------------------------------------------------------ enumeration
def path_template(regex: str) -> str:
    """A route's path as the schema writes it: parameters in braces, a primary key called id."""
    path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", simplify_regex(regex))
    return path.replace("{pk}", "{id}")


def url_conf_routes() -> dict[str, set[str]]:
    """Every route, with the methods its view declares (DRF views); empty for a view that does not say."""
    routes: dict[str, set[str]] = {}
    for view, regex, _namespace, _name in extract_views_from_urlpatterns(get_resolver().url_patterns):
        methods = routes.setdefault(path_template(regex), set())
        cls = getattr(view, "cls", None)
        if cls is not None:
            declared = getattr(view, "actions", None) or [m for m in cls.http_method_names if hasattr(cls, m)]
            methods |= {m.upper() for m in declared if m in cls.http_method_names and m not in ("head", "options")}
    return routes


def schema_operations() -> set[Operation]:
    schema = SchemaGenerator().get_schema(request=None, public=True)
    return {(method.upper(), path) for path, operations in schema["paths"].items() for method in operations}


def test_every_route_and_every_operation_has_an_entry():
    """A route whose view declares its methods (DRF's) needs an entry for each; any other route one."""
    routes, operations = url_conf_routes(), schema_operations()
    declared = operations | {(method, path) for path, methods in routes.items() for method in methods}
    written_paths = {path for _, path in MATRIX}
    missing = sorted(declared - MATRIX.keys()) + sorted(
        ("any method", path) for path, methods in routes.items() if not methods and path not in written_paths
    )
    gone = sorted(
        (method, path) for method, path in MATRIX
        if (method, path) not in declared and (path not in routes or routes[path])
    )
    assert not missing, "operations with no entry in MATRIX:\n" + "\n".join(f"  {m} {p}" for m, p in missing)
    assert not gone, "MATRIX entries with no such operation:\n" + "\n".join(f"  {m} {p}" for m, p in gone)


def test_known_gaps_name_entries_and_differ_from_them():
    for operation, callers in KNOWN_GAPS.items():
        assert operation in MATRIX, operation
        for caller, today in callers.items():
            assert today != getattr(MATRIX[operation], caller), (operation, caller)


# --------------------------------------------------------------------------------------- the calls
@pytest.fixture
def world(settings, tmp_path, support, agent, sales_agent, marketer, admin, inbox, sales_inbox) -> World:
    settings.MEDIA_ROOT = tmp_path
    email_inbox = Inbox.objects.create(name="Support email", channel="email", address="support@heron.local",
                                       team=support)
    for channel in ("sms", "voice"):
        twilio_inbox(support, channel=channel, name=f"Support {channel}")
    google = Inbox(name="Support Google", channel="google_business", address=AGENT, team=support)
    google.credentials = {"partner_key": PARTNER_KEY, "client_token": CLIENT_TOKEN}
    google.save()

    raw = mime(sender=f"{CONTACT_NAME} <{CONTACT_EMAIL}>", subject=SUBJECT, text=CUSTOMER_TEXT)
    assert ingest_raw(email_inbox, raw) == "stored"
    customer_message = Message.objects.get(inbox=email_inbox)
    conversation, contact = customer_message.conversation, customer_message.contact
    reply = send_message(conversation, agent, text=REPLY_TEXT,
                         files=[SimpleUploadedFile("label.txt", ATTACHMENT, "text/plain")])
    send_message(conversation, agent, text=NOTE_TEXT, private=True)
    vip, _ = Label.objects.get_or_create(name="vip")
    conversation.labels.add(vip)
    canned = CannedResponse.objects.create(shortcut="parcel", text="Your parcel ships today.")
    identity = contact.identities.get()
    merge = merge_contacts(contact, create_contact("Bea Merged", [("email", "bea@example.org")]))
    loner = create_contact("Cy Loner", [("phone", "+15005550009")])
    Group.objects.create(name="Reviewers")
    saved_view = SavedView.objects.create(name="Support parcels", owner=agent, team=support, q="parcel")
    token_for(admin)
    sign_in = {"username": "sol@example.com", "ip_address": "10.0.0.1", "user_agent": "matrix",
               "http_accept": "*/*", "path_info": "/api/v1/auth/login/"}
    AccessAttempt.objects.create(**sign_in, get_data="", post_data="", failures_since_start=1)
    AccessFailureLog.objects.create(**sign_in)
    AccessLog.objects.create(**sign_in)

    path_values: dict[str, object] = {
        "conversations/{id}": conversation.pk,
        "contacts/{id}": contact.pk,
        "identities/{identity_id}": identity.pk,
        "attachments/{id}": reply.attachments.get().pk,
        "messages/{id}": customer_message.pk,
        "inboxes/{id}": inbox.pk,
        "teams/{id}": support.pk,
        "labels/{id}": vip.pk,
        "canned-responses/{id}": canned.pk,
        "saved-views/{id}": saved_view.pk,
        "public/{token}": "not-a-signed-token",
        "{token}/{filename}": "label.txt",
        "Accounts/{account_sid}": ACCOUNT_SID,
        "Messages/{message_sid}": new_sid(),
        "Media/{media_sid}": new_sid("ME"),
        "Recordings/{recording}": new_sid("RE"),
        "conversations/{conversation_id}": "c1",
        "admin/{app_label}": "inbox",
        "admin/{url}": "no-such-page/",
        "r/{content_type_id}": ContentType.objects.get_for_model(contact).pk,
        "{content_type_id}/{object_id}": contact.pk,
        "user/{id}": admin.pk,
    }
    for label in ADMIN_MODELS:
        model = apps.get_model(label)
        path_values[f"{model._meta.model_name}/{{object_id}}"] = model._default_manager.earliest("pk").pk
    path_values["tokenproxy/{object_id}"] = admin.pk  # DRF's token admin finds a token by its user
    return World(
        users={"anonymous": None, "other_team": sales_agent, "marketer": marketer, "admin": admin},
        path_values=path_values,
        objects={"contact": contact, "email_inbox": email_inbox, "loner": loner, "merge": merge},
    )


def url_of(template: str, world: World) -> str:
    segments = template.split("/")
    return "/".join(
        str(world.path_values[f"{segments[i - 1]}/{segment}"]) if segment.startswith("{") else segment
        for i, segment in enumerate(segments)
    )


def call(world: World, caller: Caller, method: str, path: str, expect: Expect) -> tuple[int, bytes]:
    """One request, in a savepoint rolled back after it; the status and the whole body."""
    client = APIClient(raise_request_exception=False)
    if world.users[caller] is not None:
        client.force_login(world.users[caller])
    url = url_of(expect.url or path, world)
    data = expect.data(world) if callable(expect.data) else expect.data
    with transaction.atomic():
        if method == "GET":
            response = client.get(url, data)
        elif expect.encoding == "form":
            response = client.generic(method, url, urlencode(data or {}), content_type=FORM)
        else:
            response = getattr(client, method.lower())(url, data, format=expect.encoding)
        # (The test client closes the response, without request_finished closing the test's connection.)
        body = b"".join(response.streaming_content) if response.streaming else response.content
        transaction.set_rollback(True)
    return response.status_code, body


def test_every_caller_gets_the_written_down_status_and_no_more(world):
    wrong, leaks, shown_to_admin = [], [], set()
    for (method, path), expect in MATRIX.items():
        for caller in CALLERS:
            status, body = call(world, caller, method, path, expect)
            gap = KNOWN_GAPS.get((method, path), {}).get(caller)
            expected = gap or getattr(expect, caller)
            operation = f"{method} {path} as {caller}"
            if status >= 500 and gap != status:
                wrong.append(f"{operation}: a server error, {status} {body[:120]!r}")
            elif status != expected:
                wrong.append(f"{operation}: {status}, expected {expected}")
            shown = {secret for secret in SUPPORT_ONLY if secret.encode() in body}
            if caller == "admin":
                shown_to_admin |= shown
            elif caller != "marketer" and status < 300:
                leaks += [f"{operation}: {secret!r}" for secret in sorted(shown)]
            leaks += [f"{operation}: a credential" for secret in CREDENTIALS if secret.encode() in body]
    assert not (wrong or leaks), "\n".join(["statuses other than written down:", *wrong,
                                            "shown to someone who may not see it:", *leaks])
    assert shown_to_admin == set(SUPPORT_ONLY)  # what the others must not see is there to be seen
