"""`manage.py simulate email --from alice@example.org --subject … --text … [--reply-to-last]`.

Posts a Postmark-format inbound webhook (raw MIME included, HTTP basic auth from ANYMAIL WEBHOOK_SECRET)
to the running server at PUBLIC_BASE_URL, exactly as Postmark would.
"""

from email.message import EmailMessage
from email.utils import format_datetime, formataddr, make_msgid

import httpx
from django.conf import settings
from django.utils import timezone

from channels_adapters.email import threading as th


def add_arguments(parser) -> None:
    parser.add_argument("--from", dest="sender", default="alice@example.org", help="Customer email address")
    parser.add_argument("--name", default="", help="Customer display name")
    parser.add_argument("--to", default="", help="Email inbox address (default: the first email inbox)")
    parser.add_argument("--subject", default="Hello")
    parser.add_argument("--text", required=True)
    parser.add_argument("--html", default="", help="Optional HTML alternative")
    parser.add_argument("--reply-to-last", action="store_true",
                        help="Answer the last email Heron sent to this address (threading headers + Reply-To)")


def build_mime(options: dict) -> bytes:
    from inbox.models import Direction, Inbox, Message

    to = options.get("to") or ""
    if not to:
        inbox = Inbox.objects.filter(channel="email").order_by("id").first()
        to = inbox.address if inbox else "support@heron.local"
    msg = EmailMessage()
    subject = options.get("subject") or "Hello"
    if options.get("reply_to_last"):
        earlier = (
            Message.objects.filter(channel="email", identity__value=options["sender"].lower())
            .exclude(external_id="").order_by("-created_at", "-id")
        )
        parent = earlier.filter(direction=Direction.OUT).first() or earlier.first()
        if parent is None:
            raise RuntimeError(f"No earlier email with {options['sender']} to reply to.")
        msg["In-Reply-To"] = f"<{parent.external_id}>"
        refs = list(parent.metadata.get("references") or []) + [parent.external_id]
        msg["References"] = " ".join(f"<{r}>" for r in refs)
        if parent.direction == Direction.OUT and parent.inbox:
            to = th.plus_address(parent.inbox.address, parent.conversation_id)
        subject = "Re: " + (parent.subject or parent.conversation.subject or subject)
    msg["From"] = formataddr((options.get("name") or "", options["sender"]))
    msg["To"] = to
    msg["Subject"] = subject
    msg["Date"] = format_datetime(timezone.now())
    msg["Message-ID"] = make_msgid(domain=th.domain_of(options["sender"]))
    msg.set_content(options["text"])
    if options.get("html"):
        msg.add_alternative(options["html"], subtype="html")
    return msg.as_bytes()


def postmark_payload(raw: bytes, recipient: str = "") -> dict:
    return {"RawEmail": raw.decode("utf-8", errors="replace"), "OriginalRecipient": recipient,
            "Headers": [], "MessageID": ""}


def webhook_auth() -> tuple[str, str]:
    secret = settings.ANYMAIL["WEBHOOK_SECRET"]
    secret = secret[0] if isinstance(secret, list | tuple) else secret
    user, _, password = secret.partition(":")
    return user, password


def run(options: dict) -> httpx.Response:
    raw = build_mime(options)
    return httpx.post(
        settings.PUBLIC_BASE_URL + "/anymail/postmark/inbound/", json=postmark_payload(raw), auth=webhook_auth(),
        timeout=10,
    )
