"""Contact labels (vip, churn-risk): set by agents and admins, read by everyone allowed to see the
contact, filtered on, carried through merges, and told live to every open panel."""

import httpx
import pytest

from inbox.models import Conversation, Event, Label
from inbox.services.people import token_for
from tests.conftest import session_cookie_for
from tests.support.ws import assert_nothing_received, open_socket, receive_until


@pytest.fixture
def alice(inbox, customer_writes):
    return customer_writes(inbox, "alice", "Where is my parcel?", name="Alice Doe").contact


@pytest.fixture
def bob(sales_inbox, customer_writes):
    return customer_writes(sales_inbox, "bob", "I want a quote", name="Bob Buyer").contact


def label_contact(api, contact, labels):
    return api.patch(f"/api/v1/contacts/{contact.pk}/", {"labels": labels}, format="json")


def test_agent_sets_labels_and_a_contact_event_is_written(client_for, agent, alice, django_capture_on_commit_callbacks,
                                                          monkeypatch):
    published = []
    monkeypatch.setattr("inbox.services.events.publish_events", published.extend)
    api = client_for(agent)
    with django_capture_on_commit_callbacks(execute=True):
        response = label_contact(api, alice, ["vip", "churn-risk", "vip"])
    assert response.status_code == 200, response.content
    assert response.json()["labels"] == ["churn-risk", "vip"]
    assert set(Label.objects.values_list("name", flat=True)) == {"churn-risk", "vip"}  # created on first use
    assert api.get(f"/api/v1/contacts/{alice.pk}/").json()["labels"] == ["churn-risk", "vip"]
    # The contact's labels are not the conversation's.
    assert not Conversation.objects.get(contact=alice).labels.exists()

    event = Event.objects.get(type="contact.updated")
    assert event.contact_id == alice.pk and event.data["contact"]["labels"] == ["churn-risk", "vip"]
    [(frame, groups)] = published
    assert frame["id"] == event.pk and groups == ["role.admin", "role.marketer", f"team.{agent.heron.teams.get().pk}"]

    removed = label_contact(api, alice, ["vip"])
    assert removed.json()["labels"] == ["vip"]
    assert label_contact(api, alice, ["vip"]).status_code == 200
    assert Event.objects.filter(type="contact.updated").count() == 2, "an unchanged set is not an event"
    assert label_contact(api, alice, []).json()["labels"] == []


def test_name_and_labels_are_edited_together_or_apart(client_for, admin, alice):
    api = client_for(admin)
    both = api.patch(f"/api/v1/contacts/{alice.pk}/", {"name": "  Alice D. ", "labels": ["vip"]}, format="json")
    assert both.status_code == 200
    assert (both.json()["name"], both.json()["labels"]) == ("Alice D.", ["vip"])
    renamed = api.patch(f"/api/v1/contacts/{alice.pk}/", {"name": "Alice Doe"}, format="json").json()
    assert renamed["labels"] == ["vip"], "a rename keeps the labels"


def test_marketer_reads_labels_but_cannot_change_them(client_for, agent, marketer, alice):
    label_contact(client_for(agent), alice, ["vip"])
    api = client_for(marketer)
    assert api.get(f"/api/v1/contacts/{alice.pk}/").json()["labels"] == ["vip"]
    refused = label_contact(api, alice, ["churn-risk"])
    assert refused.status_code == 403 and "read-only" in refused.json()["detail"]
    assert list(alice.labels.values_list("name", flat=True)) == ["vip"]
    assert not Label.objects.filter(name="churn-risk").exists()


def test_agents_cannot_label_another_teams_contact(client_for, agent, sales_agent, admin, bob):
    assert label_contact(client_for(agent), bob, ["vip"]).status_code == 404
    assert not bob.labels.exists()
    assert label_contact(client_for(sales_agent), bob, ["vip"]).status_code == 200
    assert label_contact(client_for(admin), bob, ["vip", "reseller"]).json()["labels"] == ["reseller", "vip"]


@pytest.mark.parametrize(
    "payload, field",
    [
        ({}, "non_field_errors"),
        ({"labels": "vip"}, "labels"),
        ({"labels": ["not a slug!"]}, "labels"),
        ({"labels": ["x" * 51]}, "labels"),
        ({"labels": [f"l{n}" for n in range(51)]}, "labels"),
        ({"labels": None}, "labels"),
        ({"name": None}, "name"),
        ({"name": "x" * 201}, "name"),
    ],
)
def test_bad_contact_updates_get_a_400(client_for, agent, alice, payload, field):
    response = client_for(agent).patch(f"/api/v1/contacts/{alice.pk}/", payload, format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert not alice.labels.exists() and not Label.objects.exists()


def test_contacts_are_filtered_by_label(client_for, admin, agent, inbox, alice, bob, customer_writes):
    carol = customer_writes(inbox, "carol", "hi", name="Carol Vip").contact
    api = client_for(admin)
    label_contact(api, alice, ["vip"])
    label_contact(api, bob, ["vip", "churn-risk"])
    label_contact(api, carol, ["churn-risk"])

    def names(user, **params):
        response = client_for(user).get("/api/v1/contacts/", params)
        assert response.status_code == 200, response.content
        return [c["name"] for c in response.json()["results"]]

    assert names(admin, label="vip") == ["Alice Doe", "Bob Buyer"]
    assert names(admin, label="churn-risk", q="carol") == ["Carol Vip"]
    assert names(admin, label="nobody-has-it") == []
    assert names(agent, label="vip") == ["Alice Doe"], "filtering never widens what an agent sees"


def test_contact_list_queries_do_not_grow_with_page_size(client_for, admin, inbox, customer_writes):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    api = client_for(admin)
    for n in range(12):
        contact = customer_writes(inbox, f"customer-{n}", "hi", name=f"Customer {n:02}").contact
        label_contact(api, contact, ["vip", f"tier-{n % 3}"])
    counts = []
    for size in (2, 10):
        with CaptureQueriesContext(connection) as queries:
            response = api.get("/api/v1/contacts/", {"page_size": size})
        assert response.status_code == 200 and response.json()["results"][0]["labels"] == ["tier-0", "vip"]
        counts.append(len(queries))
    assert counts[0] == counts[1], counts


def test_merge_brings_the_other_contacts_labels_and_unmerge_takes_them_back(client_for, admin, inbox,
                                                                            customer_writes):
    a = customer_writes(inbox, "+15558675310", "by sms", kind="phone", name="Alice").contact
    b = customer_writes(inbox, "alice@example.org", "by email", kind="email").contact
    api = client_for(admin)
    label_contact(api, a, ["vip"])
    label_contact(api, b, ["vip", "churn-risk"])
    merged = api.post(f"/api/v1/contacts/{a.pk}/merge/", {"other": b.pk}, format="json").json()
    assert merged["labels"] == ["churn-risk", "vip"]
    merge_event = Event.objects.filter(type="contact.merged").latest("id")
    assert merge_event.data["contact"]["labels"] == ["churn-risk", "vip"]

    undone = api.post(f"/api/v1/contacts/{a.pk}/unmerge/", {"merge_id": merged["merged_from"][0]["merge_id"]},
                      format="json").json()
    assert undone["labels"] == ["vip"], "only what the merge added goes away"
    assert api.get(f"/api/v1/contacts/{b.pk}/").json()["labels"] == ["churn-risk", "vip"]


def test_label_change_reaches_the_contacts_team_live_and_no_other(server, inbox, agent, sales_agent, admin,
                                                                 customer_writes):
    contact = customer_writes(inbox, "dana", "hello", name="Dana").contact
    with open_socket(server.ws_url, session_cookie=session_cookie_for(agent), origin=server.url) as ana, \
            open_socket(server.ws_url, token=token_for(sales_agent)) as sol:
        response = httpx.patch(f"{server.url}/api/v1/contacts/{contact.pk}/", json={"labels": ["vip"]},
                               headers={"Authorization": f"Token {token_for(admin)}"}, timeout=10)
        assert response.status_code == 200, response.text
        frame = receive_until(ana, lambda f: f.get("type") == "contact.updated")
        assert frame["data"]["contact"]["id"] == contact.pk and frame["data"]["contact"]["labels"] == ["vip"]
        assert_nothing_received(sol, lambda f: f.get("type") == "contact.updated", wait=1.0)
