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
# Maria also writes to Sales: one contact, a conversation per team, each team reading only its own.
SALES_CUSTOMERS = [("maria.lopez", "Maria Lopez", ["Do you offer a discount on a second order?"])]


class Command(BaseCommand):
    help = "Create demo users, inboxes and conversations (idempotent) and print the admin login."

    def handle(self, *args, **options):
        with transaction.atomic():
            support = Team.objects.get_or_create(name="Support")[0]
            sales = Team.objects.get_or_create(name="Sales")[0]
            create_agent("admin@heron.local", role=Role.ADMIN, password=DEMO_PASSWORD, name="Ada Admin",
                         teams=["Support"])
            create_agent("ana@heron.local", role=Role.AGENT, password=DEMO_PASSWORD, name="Ana Agent",
                         teams=["Support"])
            create_agent("sol@heron.local", role=Role.AGENT, password=DEMO_PASSWORD, name="Sol Sales",
                         teams=["Sales"])
            create_agent("mia@heron.local", role=Role.MARKETER, password=DEMO_PASSWORD, name="Mia Marketer")
            inbox, created = Inbox.objects.get_or_create(
                channel="simulator", address="demo", defaults={"name": "Demo (simulator)", "team": support}
            )
            sales_inbox, _ = Inbox.objects.get_or_create(
                channel="simulator", address="sales", defaults={"name": "Sales (simulator)", "team": sales}
            )
            for name, color in [("billing", "#2563eb"), ("shipping", "#16a34a"), ("vip", "#db2777")]:
                Label.objects.get_or_create(name=name, defaults={"color": color})
            for shortcut, text in [
                ("thanks", "Thanks for reaching out! We're looking into it now."),
                ("tracking", "You can track your parcel here: https://example.com/track"),
            ]:
                CannedResponse.objects.get_or_create(shortcut=shortcut, defaults={"text": text})
        if created:
            for to, customers in ((inbox, CUSTOMERS), (sales_inbox, SALES_CUSTOMERS)):
                for handle, name, texts in customers:
                    for text in texts:
                        record_inbound(InboundMessage(
                            channel="simulator", inbox_id=to.pk,
                            sender=SenderIdentity(kind="simulator", value=handle, display_name=name),
                            external_id=f"DEMO{uuid.uuid4().hex}", text=text,
                        ))
        seed_sms_inbox()
        seed_voice_inbox()
        from channels_adapters.google_business import demo as google_demo  # the real GBM parse path

        google_demo.seed()
        seed_email_inbox(support)
        self.stdout.write(self.style.SUCCESS(
            "\n  Heron demo is ready.\n"
            f"  Sign in as admin:    admin@heron.local / {DEMO_PASSWORD}\n"
            f"  (agents: ana@heron.local of Support, sol@heron.local of Sales; marketer: mia@heron.local;\n"
            "  same password)\n"
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


def seed_voice_inbox() -> None:
    """A Twilio Voice inbox on the demo number and one missed call that left a voicemail with a transcript.

    `manage.py simulate voice` rings it (the fake Twilio serves the recordings it makes up).
    """
    from inbox.services import calls

    voice, created = Inbox.objects.get_or_create(
        channel="voice", address="+15017122661",
        defaults={"name": "Demo voice", "team": Team.objects.get_or_create(name="Support")[0],
                  "settings": {"client_identities": ["agent_42"], "ring_timeout": 20,
                               "voicemail_greeting": "Thanks for calling Acme support. We're away from "
                                                     "our desks: please leave a message after the beep."}},
    )
    if not created:
        return
    voice.credentials = {"account_sid": "AC" + "0" * 32, "auth_token": "demo-auth-token"}
    voice.save(update_fields=["encrypted_credentials"])
    call_id, recording_id = f"CA{uuid.uuid4().hex}", f"RE{uuid.uuid4().hex}"
    caller = SenderIdentity(kind="phone", value="+15558675310")
    calls.start_call(voice.pk, call_id, caller)
    calls.record_call_update(voice.pk, call_id, status="no-answer", agents_status="no-answer")
    # 6 seconds of silent MPEG audio (MPEG-1 Layer III frames with empty side information).
    audio = (bytes.fromhex("fffb90c4") + bytes(413)) * 230
    calls.record_voicemail(
        voice.pk, call_id, recording_id,
        f"https://api.twilio.com/2010-04-01/Accounts/{'AC' + '0' * 32}/Recordings/{recording_id}", 6,
        content=audio,
    )
    calls.record_transcript(voice.pk, call_id, "Hi, it's about order 1042 again. Please call me back "
                                               "on this number. Thanks!", "completed", recording_id=recording_id)
    calls.record_call_update(voice.pk, call_id, status="completed", duration=14, provider_status="completed")


def seed_email_inbox(support) -> None:
    """An email inbox, and one customer email through the real raw-MIME parse path."""
    from email.message import EmailMessage
    from email.utils import format_datetime, make_msgid

    from django.utils import timezone

    from channels_adapters.email.inbound import ingest_mime

    inbox, created = Inbox.objects.get_or_create(
        channel="email", address="support@heron.local", defaults={"name": "Demo email", "team": support}
    )
    if not created:
        return
    mail = EmailMessage()
    mail["From"] = "Olivia Park <olivia.park@example.org>"
    mail["To"] = "Demo email <support@heron.local>"
    mail["Subject"] = "Parcel arrived damaged"
    mail["Date"] = format_datetime(timezone.now())
    mail["Message-ID"] = make_msgid(domain="example.org")
    mail.set_content("Hello,\n\nmy parcel (order #1101) arrived with a crushed corner. Can you help?\n\nOlivia\n")
    mail.add_alternative("<p>Hello,</p><p>my parcel (order #1101) arrived with a crushed corner. Can you help?</p>"
                         "<p>Olivia</p>", subtype="html")
    ingest_mime(inbox, mail.as_bytes(), url="seed_demo", extra={"X-Heron-Source": "seed_demo"})
