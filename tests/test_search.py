"""Full-text search on PostgreSQL: every channel's words, ranking, the wall between teams and roles,
the index following every change of a message, bad input, and saved views."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from channels_adapters.base import InboundMessage, SenderIdentity
from channels_adapters.email.imap import ingest_raw
from channels_adapters.google_reviews.poller import ingest_review
from inbox.models import Conversation, Inbox, Message
from inbox.services.calls import record_transcript, start_call
from inbox.services.contacts import create_contact, merge_contacts
from inbox.services.ingest import record_inbound
from inbox.services.outbound import send_message
from search.models import MAX_QUERY_LENGTH
from tests.fakes.twilio import twilio_inbox
from tests.support.email import mime
from tests.test_google import review


def search(client, q: str, **params) -> dict:
    response = client.get("/api/v1/search/", {"q": q, **params})
    assert response.status_code == 200, response.content
    return response.json()


def found(client, q: str, **params) -> list[int]:
    """The conversations a search lists, best first."""
    return [r["conversation"]["id"] for r in search(client, q, **params)["results"]]


def sms(inbox: Inbox, sender: str, text: str, *, at=None) -> Message:
    """An inbound SMS, stored `at` that time if given (ingest stamps the time it arrives)."""
    message = record_inbound(InboundMessage(
        channel="sms", inbox_id=inbox.pk, sender=SenderIdentity(kind="phone", value=sender),
        external_id=f"SM{abs(hash((sender, text))):032x}", text=text,
    )).message
    if at is not None:
        Message.objects.filter(pk=message.pk).update(created_at=at)
    return message


@pytest.fixture
def sms_inbox(support) -> Inbox:
    return twilio_inbox(support, channel="sms", name="Support SMS")


@pytest.fixture
def email_inbox(support) -> Inbox:
    return Inbox.objects.create(name="Support email", channel="email", address="support@heron.local", team=support)


def email(inbox: Inbox, text: str, *, subject="Order", sender="Alice <alice@example.org>") -> Message:
    assert ingest_raw(inbox, mime(sender=sender, to=inbox.address, subject=subject, text=text)) == "stored"
    return Message.objects.filter(inbox=inbox).latest("id")


def test_every_channels_words_are_found(settings, tmp_path, client_for, admin, agent, support, sms_inbox,
                                        email_inbox, inbox, service_account):
    settings.MEDIA_ROOT = tmp_path
    voice = twilio_inbox(support, channel="voice", name="Support voice")
    google = Inbox.objects.create(name="Support Google", channel="google_business", address="brands/1/agents/2",
                                  team=support)
    reviews = Inbox(name="Support reviews", channel="google_reviews", address="accounts/1/locations/2", team=support)
    reviews.credentials = {"service_account_info": service_account}  # a reply is refused without one
    reviews.save()
    texted = sms(sms_inbox, "+15558675310", "Is the blue mug back in stock? Order #1101")
    mailed = email(email_inbox, "The box had a crushed corner.", subject="Damaged parcel")
    call = start_call(voice.pk, "CA" + "1" * 32, SenderIdentity(kind="phone", value="+15558675311")).message
    record_transcript(voice.pk, call.external_id, "Please call me back about the refund", "completed")
    chatted = record_inbound(InboundMessage(
        channel="google_business", inbox_id=google.pk, sender=SenderIdentity(kind="google_business", value="u-1"),
        external_id="gbm-1", text="Do you ship to Canada?")).message
    assert ingest_review(reviews, review("r1", "TWO", "Cold espresso and rude staff", "2026-11-01T10:00:00Z"))
    reviewed = Message.objects.get(inbox=reviews)
    send_message(reviewed.conversation, agent, text="We are sorry about the espresso machine")
    simulated = record_inbound(InboundMessage(
        channel="simulator", inbox_id=inbox.pk, sender=SenderIdentity(kind="simulator", value="sim"),
        external_id="sim-1", text="Wrapping paper please")).message
    send_message(simulated.conversation, agent, text="Invoice attached",
                 files=[SimpleUploadedFile("invoice-7781.pdf", b"%PDF", "application/pdf")])
    send_message(texted.conversation, agent, text="Customer is a wholesale buyer", private=True)

    client = client_for(admin)
    for q, conversation in [
        ("blue mug", texted.conversation_id), ("1101", texted.conversation_id),
        ("crushed corner", mailed.conversation_id), ("damaged parcel", mailed.conversation_id),
        ("call me back", call.conversation_id), ("ship to Canada", chatted.conversation_id),
        ("espresso staff", reviewed.conversation_id), ("espresso machine", reviewed.conversation_id),
        ("invoice-7781.pdf", simulated.conversation_id), ("wholesale", texted.conversation_id),
    ]:
        assert found(client, q) == [conversation], q
    hit = search(client, "blue mug")["results"][0]
    assert hit["match"]["message_id"] == texted.pk
    assert hit["match"]["channel"] == "sms"
    assert "<mark>blue</mark> <mark>mug</mark>" in hit["match"]["snippet_html"]
    assert hit["match"]["words"] == ["blue", "mug"]


def test_stems_accents_prefix_and_web_search_syntax(client_for, admin, sms_inbox):
    shipped = sms(sms_inbox, "+15550000001", "Your parcel has shipped to Zürich")
    sms(sms_inbox, "+15550000002", "Where is my parcel? It should be here")
    client = client_for(admin)
    assert found(client, "shipping") == [shipped.conversation_id]  # English stemming
    assert found(client, "zurich") == [shipped.conversation_id]  # unaccent
    assert found(client, "parcel zur") == [shipped.conversation_id]  # the last word is a prefix while typing
    assert found(client, "parcel zur ") == []  # ...not once it is followed by a space
    assert set(found(client, "parcel")) == {shipped.conversation_id, shipped.conversation_id + 1}
    assert found(client, "parcel -shipped") == [shipped.conversation_id + 1]
    assert found(client, "zurich or here") and len(found(client, "zurich or here")) == 2
    assert found(client, '"parcel has shipped"') == [shipped.conversation_id]
    assert found(client, '"shipped has parcel"') == []


def test_the_exact_phrase_ranks_first(client_for, admin, sms_inbox):
    now = timezone.now()
    phrase = sms(sms_inbox, "+15550000011", "My blue mug arrived cracked", at=now - timedelta(days=3))
    scattered = sms(sms_inbox, "+15550000012", "The mug is nice but the box was blue", at=now)
    assert found(client_for(admin), "blue mug") == [phrase.conversation_id, scattered.conversation_id]


def test_quoted_email_history_ranks_below_new_text(client_for, admin, email_inbox):
    original = email(email_inbox, "The corner of the box was crushed.", sender="Bo <bo@example.org>",
                     subject="Box")
    # A newer email from someone else whose quoted history holds the same words.
    quoting = email(email_inbox, "Thanks, all good now.\n\nOn Mon, Dec 1, 2026 at 9:00 AM Heron wrote:\n"
                    "> The corner of the box was crushed.", sender="Cy <cy@example.org>", subject="Thanks")
    assert "crushed" in quoting.metadata["quoted_text"] and "crushed" not in quoting.text
    assert found(client_for(admin), "corner crushed") == [original.conversation_id, quoting.conversation_id]


def test_notes_and_other_teams_stay_hidden(client_for, admin, agent, sales_agent, marketer, sms_inbox,
                                           sales_inbox):
    customer = sms(sms_inbox, "+15550000021", "Hello, about my order")
    send_message(customer.conversation, agent, text="Refund approved quietly", private=True)
    record_inbound(InboundMessage(channel="simulator", inbox_id=sales_inbox.pk,
                                  sender=SenderIdentity(kind="simulator", value="s1"), external_id="s-1",
                                  text="Sales secret: quietly discount"))
    assert found(client_for(agent), "quietly") == [customer.conversation_id]
    assert len(found(client_for(admin), "quietly")) == 2
    for reader in (marketer, sales_agent):
        page = search(client_for(reader), "refund approved")
        assert page["results"] == [] and page["count"] == 0
        assert "Refund" not in str(page)
    assert search(client_for(marketer), "quietly")["count"] == 1  # Sales's message, not Support's note
    assert search(client_for(agent), "sales secret")["count"] == 0


def test_the_index_follows_edits_merges_attachments_and_deletions(settings, tmp_path, client_for, admin, agent,
                                                                    sms_inbox):
    settings.MEDIA_ROOT = tmp_path
    client = client_for(admin)
    message = sms(sms_inbox, "+15550000031", "Please send the teapot")
    assert found(client, "teapot") == [message.conversation_id]
    message.text = "Please send the kettle"
    message.save()
    assert found(client, "teapot") == []
    assert found(client, "kettle") == [message.conversation_id]
    Message.objects.filter(pk=message.pk).update(text="Please send the samovar")  # a bulk UPDATE too
    assert found(client, "samovar") == [message.conversation_id]
    Message.objects.filter(pk=message.pk).update(status="delivered")  # not a searched field: no change
    assert found(client, "samovar") == [message.conversation_id]

    reply = send_message(message.conversation, agent, text="Here it is",
                         files=[SimpleUploadedFile("samovar-manual.pdf", b"%PDF", "application/pdf")])
    assert search(client, "manual")["results"][0]["match"]["message_id"] == reply.pk
    reply.attachments.get().delete()
    assert found(client, "manual") == []

    # A merge moves the conversation to another contact: still found, through the new contact.
    into = create_contact("Dora Merged", [("email", "dora@example.org")])
    merge_contacts(into, message.contact)
    assert found(client, "samovar") == [message.conversation_id]
    assert Conversation.objects.get(pk=message.conversation_id).contact_id == into.pk

    message.delete()
    assert found(client, "samovar") == []
    Conversation.objects.filter(pk=reply.conversation_id).delete()
    assert found(client, "here") == []


def test_rebuild_search_index_command(transactional_db, client_for, admin, sms_inbox):
    """In a transaction of its own, as the command runs: it re-creates the triggers."""

    message = sms(sms_inbox, "+15550000041", "Lost my umbrella")
    with connection.cursor() as cursor:
        cursor.execute("UPDATE inbox_message SET search_document = ''::tsvector WHERE id = %s", [message.pk])
    assert found(client_for(admin), "umbrella") == []
    call_command("rebuild_search_index", "--batch", "1")
    assert found(client_for(admin), "umbrella") == [message.conversation_id]


BAD_QUERIES = [
    '"unbalanced quote', "the of and", "x" * MAX_QUERY_LENGTH, "🙂🙂", "שלום עולם", "مرحبا", "a & b | !c:* <-> d",
    "'; DROP TABLE inbox_message; --", "\\", "''", "(((", "-", '""', "or or", "-the", "order:*", "a:A",
    "%_%", "\u202eevil", "日本語のテキスト",
]


@pytest.mark.parametrize("q", BAD_QUERIES)
def test_any_query_gets_results_or_an_empty_list(client_for, admin, sms_inbox, q):
    sms(sms_inbox, "+15550000051", "Hello order the of and")
    page = search(client_for(admin), q)
    assert isinstance(page["results"], list)
    if not page["results"]:
        assert page["hints"], q


def test_queries_over_the_limit_and_bad_parameters_are_400s(client_for, admin):
    client = client_for(admin)
    response = client.get("/api/v1/search/", {"q": "x" * 10_000})
    assert response.status_code == 400
    assert f"at most {MAX_QUERY_LENGTH} characters" in str(response.json()["q"])
    assert client.get("/api/v1/search/", {"q": "a\x00b"}).status_code == 400
    assert client.get("/api/v1/search/", {"q": "a", "cursor": "nonsense"}).status_code == 400
    assert client.get("/api/v1/search/", {"q": "a", "since": "yesterday"}).status_code == 400
    assert client.get("/api/v1/search/", {"q": "a", "view": "everything"}).status_code == 400


def test_filters_dates_cursor_and_a_constant_number_of_queries(client_for, admin, sms_inbox, inbox):
    now = timezone.now()
    for n in range(5):
        sms(sms_inbox, f"+1555000006{n}", f"Ticket about the lamp number {n}", at=now - timedelta(days=n))
    simulated = record_inbound(InboundMessage(channel="simulator", inbox_id=inbox.pk,
                                              sender=SenderIdentity(kind="simulator", value="lamp"),
                                              external_id="lamp", text="A lamp question")).message
    client = client_for(admin)
    assert found(client, "lamp", channel="simulator") == [simulated.conversation_id]
    assert len(found(client, "lamp", since=(now - timedelta(days=1, hours=1)).isoformat())) == 3
    pages, params = [], {"page_size": 2}
    while True:
        page = search(client, "lamp", **params)
        pages.append([r["conversation"]["id"] for r in page["results"]])
        if not page["next"]:
            break
        params["cursor"] = parse_qs(urlsplit(page["next"]).query)["cursor"][0]
    listed = [c for p in pages for c in p]
    assert len(listed) == 6 and len(set(listed)) == 6 and pages[0] == found(client, "lamp")[:2]
    counts = []
    for size in (1, 6):
        with CaptureQueriesContext(connection) as captured:
            search(client, "lamp", page_size=size)
        counts.append(len(captured))
    assert counts[0] == counts[1]


def test_contacts_match_by_name_with_typos_and_by_identity(client_for, admin, agent, sms_inbox):
    sms(sms_inbox, "+15558675310", "Hi")
    contact = Message.objects.get().contact
    contact.name = "Chloé Tanaka"
    contact.save()
    client = client_for(admin)
    assert [c["contact"]["name"] for c in search(client, "Chloe Tanka")["contacts"]] == ["Chloé Tanaka"]
    by_phone = search(client, "(555) 867-5310")["contacts"]
    assert by_phone[0]["contact"]["id"] == contact.pk
    assert [i["value"] for i in by_phone[0]["identities"]] == ["+15558675310"]
    assert client.get("/api/v1/conversations/", {"q": "Chloe Tanka"}).json()["results"]


def test_saved_views_are_personal_or_shared_and_count_for_each_reader(client_for, admin, agent, sales_agent,
                                                                      marketer, support, sms_inbox):
    customer = sms(sms_inbox, "+15550000071", "The zipper broke")
    send_message(customer.conversation, agent, text="Zipper replacement noted", private=True)
    ana = client_for(agent)
    created = ana.post("/api/v1/saved-views/", {"name": "Zippers", "q": "zipper", "filters": {"status": "open"},
                                                "team": support.pk}, format="json")
    assert created.status_code == 201, created.content
    assert created.json()["count"] == 1
    mine = ana.post("/api/v1/saved-views/", {"name": "Mine", "q": "", "filters": {"view": "mine"}}, format="json")
    assert mine.json()["count"] == 0
    assert ana.post("/api/v1/saved-views/", {"name": "x", "filters": {"colour": "red"}},
                    format="json").status_code == 400
    sol = client_for(sales_agent)
    assert sol.post("/api/v1/saved-views/", {"name": "x", "team": support.pk}, format="json").status_code == 400
    assert sol.get("/api/v1/saved-views/").json() == []
    assert sol.patch(f"/api/v1/saved-views/{created.json()['id']}/", {"name": "Mine now"},
                     format="json").status_code == 404
    assert [(v["name"], v["count"]) for v in ana.get("/api/v1/saved-views/").json()] == [("Mine", 0), ("Zippers", 1)]
    assert [(v["name"], v["count"]) for v in client_for(admin).get("/api/v1/saved-views/").json()] == [("Zippers", 1)]
    # A marketer's own view of the same words: the note is not counted for them.
    mia = client_for(marketer)
    assert mia.post("/api/v1/saved-views/", {"name": "Notes", "q": "replacement"}, format="json").json()["count"] == 0
    assert ana.delete(f"/api/v1/saved-views/{created.json()['id']}/").status_code == 204
