"""Demo data for `make run`: users of every role, an inbox per built channel, a few conversations.

Messages go in through the real ingest path, so the demo shows what production would store.
"""

import os
import uuid

from django.core.management.base import BaseCommand
from django.db import transaction

from channels_adapters.base import InboundMessage, SenderIdentity
from inbox.models import CannedResponse, Inbox, Label, Role, Team
from inbox.services.ingest import record_inbound
from inbox.services.people import create_agent

DEMO_PASSWORD = os.environ.get("HERON_DEMO_PASSWORD", "heron-demo")

CUSTOMERS = [
    ("maria.lopez", "Maria Lopez", ["Hi! My order #1042 hasn't arrived yet.", "It was due on Monday."]),
    ("sam.chen", "Sam Chen", ["Can I change the delivery address for order #1077?"]),
    ("priya.n", "Priya N.", ["Do you ship to Canada?", "And how long does it take?"]),
]


class Command(BaseCommand):
    help = "Create demo users, inboxes and conversations (idempotent) and print the admin login."

    def handle(self, *args, **options):
        with transaction.atomic():
            support = Team.objects.get_or_create(name="Support")[0]
            Team.objects.get_or_create(name="Sales")
            create_agent("admin@heron.local", role=Role.ADMIN, password=DEMO_PASSWORD, name="Ada Admin",
                         teams=["Support"])
            create_agent("ana@heron.local", role=Role.AGENT, password=DEMO_PASSWORD, name="Ana Agent",
                         teams=["Support"])
            create_agent("mia@heron.local", role=Role.MARKETER, password=DEMO_PASSWORD, name="Mia Marketer")
            inbox, created = Inbox.objects.get_or_create(
                channel="simulator", address="demo", defaults={"name": "Demo (simulator)", "team": support}
            )
            for name, color in [("billing", "#2563eb"), ("shipping", "#16a34a"), ("vip", "#db2777")]:
                Label.objects.get_or_create(name=name, defaults={"color": color})
            for shortcut, text in [
                ("thanks", "Thanks for reaching out! We're looking into it now."),
                ("tracking", "You can track your parcel here: https://example.com/track"),
            ]:
                CannedResponse.objects.get_or_create(shortcut=shortcut, defaults={"text": text})
        if created:
            for handle, name, texts in CUSTOMERS:
                for text in texts:
                    record_inbound(InboundMessage(
                        channel="simulator", inbox_id=inbox.pk,
                        sender=SenderIdentity(kind="simulator", value=handle, display_name=name),
                        external_id=f"DEMO{uuid.uuid4().hex}", text=text,
                    ))
        seed_sms_inbox()
        self.stdout.write(self.style.SUCCESS(
            "\n  Heron demo is ready.\n"
            f"  Sign in as admin:    admin@heron.local / {DEMO_PASSWORD}\n"
            f"  (agent: ana@heron.local, marketer: mia@heron.local, same password)\n"
        ))


def seed_sms_inbox() -> None:
    """A Twilio SMS inbox wired to the fake Twilio REST API (HERON_FAKE_PROVIDERS) and one inbound SMS."""
    sms, created = Inbox.objects.get_or_create(
        channel="sms", address="+15017122661",
        defaults={"name": "Demo SMS", "team": Team.objects.get_or_create(name="Support")[0]},
    )
    if not created:
        return
    sms.credentials = {"account_sid": "AC" + "0" * 32, "auth_token": "demo-auth-token"}
    sms.save(update_fields=["encrypted_credentials"])
    record_inbound(InboundMessage(
        channel="sms", inbox_id=sms.pk, sender=SenderIdentity(kind="phone", value="+15558675310"),
        external_id=f"SM{uuid.uuid4().hex}", text="Hi, my order #1042 hasn't arrived. Can you check?",
    ))
