"""IMAP polling against a real dovecot on loopback: fetch once, UIDVALIDITY resync, dropped connections."""

from __future__ import annotations

import pytest
from imap_tools import MailBoxUnencrypted

from channels_adapters.email.imap import poll_inbox
from inbox.models import Inbox, Message, RawInboundEvent
from tests.support.dovecot import PASSWORD, USER, Dovecot, FlakyProxy
from tests.support.email import mime, post_postmark


@pytest.fixture(scope="module")
def dovecot_server():
    server = Dovecot()  # fails with a clear message when dovecot is not installed
    yield server
    server.destroy()


@pytest.fixture
def dovecot(dovecot_server):
    """A clean mailbox for each test."""
    dovecot_server.stop()
    for path in dovecot_server.maildir.rglob("*"):
        if path.is_file():
            path.unlink()
    dovecot_server.start()
    return dovecot_server


@pytest.fixture
def imap_inbox(support, dovecot) -> Inbox:
    inbox = Inbox.objects.create(name="IMAP support", channel="email", address="support@heron.local", team=support,
                                 settings={"imap": dovecot.imap_settings})
    inbox.credentials = {"imap_password": PASSWORD}
    inbox.save()
    return inbox


def settings_of(inbox: Inbox) -> dict:
    inbox.refresh_from_db()
    return inbox.settings


def test_new_mail_is_fetched_once_and_left_unread(imap_inbox, dovecot):
    dovecot.deliver(mime(message_id="<imap-1@example.org>", subject="First"))
    dovecot.deliver(mime(message_id="<imap-2@example.org>", subject="Second", sender="bob@example.org"))
    result = poll_inbox(imap_inbox.pk)
    assert (result.fetched, result.stored, result.error) == (2, 2, "")
    assert set(Message.objects.values_list("external_id", flat=True)) == {"imap-1@example.org", "imap-2@example.org"}
    state = settings_of(imap_inbox)["imap_state"]
    assert state["last_uid"] == 2 and state["uidvalidity"]
    health = settings_of(imap_inbox)["imap_health"]
    assert health["last_success"] and health["consecutive_failures"] == 0

    again = poll_inbox(imap_inbox.pk)
    assert (again.fetched, again.stored) == (0, 0)  # nothing new: the "2:*" quirk is handled

    dovecot.deliver(mime(message_id="<imap-3@example.org>", subject="Third"))
    third = poll_inbox(imap_inbox.pk)
    assert (third.fetched, third.stored) == (1, 1)
    assert Message.objects.count() == 3
    assert RawInboundEvent.objects.filter(channel="email", headers__contains={"X-Heron-Source": "imap"}).count() == 3

    with MailBoxUnencrypted("127.0.0.1", dovecot.port).login(USER, PASSWORD) as box:
        flags = [msg.flags for msg in box.fetch(mark_seen=False)]
    assert len(flags) == 3 and all("\\Seen" not in f for f in flags)  # never marked read unless configured


def test_mark_seen_when_configured(imap_inbox, dovecot):
    imap_inbox.settings["imap"]["mark_seen"] = True
    imap_inbox.save()
    dovecot.deliver(mime(message_id="<seen-1@example.org>"))
    assert poll_inbox(imap_inbox.pk).stored == 1
    with MailBoxUnencrypted("127.0.0.1", dovecot.port).login(USER, PASSWORD) as box:
        [flags] = [msg.flags for msg in box.fetch(mark_seen=False)]
    assert "\\Seen" in flags


def test_uidvalidity_change_resyncs_without_duplicates(imap_inbox, dovecot):
    dovecot.deliver(mime(message_id="<uv-1@example.org>"))
    dovecot.deliver(mime(message_id="<uv-2@example.org>"))
    assert poll_inbox(imap_inbox.pk).stored == 2
    before = settings_of(imap_inbox)["imap_state"]["uidvalidity"]

    dovecot.reset_uids()
    dovecot.deliver(mime(message_id="<uv-3@example.org>"))
    result = poll_inbox(imap_inbox.pk)
    state = settings_of(imap_inbox)["imap_state"]
    assert state["uidvalidity"] != before
    assert (result.fetched, result.stored, result.duplicates) == (3, 1, 2)
    assert Message.objects.count() == 3
    assert state["last_uid"] == 3


def test_imap_and_webhook_delivery_of_the_same_mail_is_one_message(imap_inbox, dovecot, client):
    raw = mime(message_id="<both-1@example.org>")
    assert post_postmark(client, raw).status_code == 200
    dovecot.deliver(raw)
    result = poll_inbox(imap_inbox.pk)
    assert (result.fetched, result.duplicates) == (1, 1)
    assert Message.objects.filter(external_id="both-1@example.org").count() == 1


def test_dropped_connection_is_retried(imap_inbox, dovecot):
    proxy = FlakyProxy(dovecot.port, drop=1)
    try:
        imap_inbox.settings["imap"]["port"] = proxy.port
        imap_inbox.save()
        dovecot.deliver(mime(message_id="<flaky-1@example.org>"))
        result = poll_inbox(imap_inbox.pk, retry_delay=0.05, timeout=5)
        assert (result.stored, result.error) == (1, "")
        assert proxy.accepted == 2  # the first connection was dropped, the retry got through
        assert settings_of(imap_inbox)["imap_health"]["last_attempts"] == 2
    finally:
        proxy.close()


def test_server_down_is_reported_in_health_with_backoff_then_recovers(imap_inbox, dovecot):
    dovecot.deliver(mime(message_id="<down-1@example.org>"))
    dovecot.stop()
    try:
        result = poll_inbox(imap_inbox.pk, attempts=2, retry_delay=0.01, timeout=2)
        assert result.error
        health = settings_of(imap_inbox)["imap_health"]
        assert health["consecutive_failures"] == 1 and health["last_error"] and health["next_attempt_at"]
        assert poll_inbox(imap_inbox.pk).skipped  # backing off, not hammering, not disabled
        assert settings_of(imap_inbox)["imap"]["host"] == "127.0.0.1"  # configuration untouched
    finally:
        dovecot.start()
    recovered = poll_inbox(imap_inbox.pk, force=True)
    assert recovered.stored == 1
    health = settings_of(imap_inbox)["imap_health"]
    assert health["consecutive_failures"] == 0 and health["next_attempt_at"] is None
    assert health["last_error"]  # the last error stays visible next to the newer last_success


def test_wrong_password_is_reported_not_raised(imap_inbox):
    imap_inbox.credentials = {"imap_password": "wrong"}
    imap_inbox.save()
    result = poll_inbox(imap_inbox.pk, retry_delay=0.01)
    assert "Login" in result.error or "auth" in result.error.lower()
    assert settings_of(imap_inbox)["imap_health"]["consecutive_failures"] == 1


def test_poll_imap_command(imap_inbox, dovecot):
    from io import StringIO

    from django.core.management import call_command

    dovecot.deliver(mime(message_id="<cmd-1@example.org>"))
    out = StringIO()
    call_command("poll_imap", stdout=out)
    assert f"inbox {imap_inbox.pk}: fetched 1, stored 1" in out.getvalue()
    assert Message.objects.filter(external_id="cmd-1@example.org").exists()
