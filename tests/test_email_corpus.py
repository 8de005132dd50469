"""A corpus of real-world-shaped mail (tests/fixtures/email/*.eml) through the real inbound paths.

ASCII/UTF-8 files go through the anymail Postmark webhook over HTTP (the test client); raw 8-bit files,
which no JSON webhook can carry byte for byte, go through the IMAP path (the same raw-event processor).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from channels_adapters.email.imap import ingest_raw
from inbox.models import Conversation, Inbox, Message, RawInboundEvent
from tests.support.email import post_postmark

CORPUS = Path(__file__).parent / "fixtures" / "email"

# file → what must come out: visible text fragments, attachment names, flags.
EXPECTED = {
    "01_gmail_alternative_reply.eml": {"text": ["Thanks, the parcel arrived this morning."], "not_text": ["Tracking: 1Z999"],
                                       "quoted": "Tracking: 1Z999", "name": "Alice Customer"},
    "02_gmail_new_thread_signature.eml": {"text": ["do the boots run small?"]},
    "03_outlook_windows1252_qp.eml": {"text": ["I\u2019d like a refund for order 2044 \u2013 the price was \u20ac49."],
                                      "subject": "RE: Your order"},
    "04_outlook_winmail_tnef.eml": {"text": ["contract attached"], "files": ["winmail.dat"]},
    "05_apple_mail_split_text_inline_image.eml": {"text": ["arrived crushed", "send a replacement?"],
                                                  "files": ["IMG_0042.png"]},
    "06_iphone_format_flowed.eml": {"text": ["tracking number. Could you check please?"], "signature": "Sent from my iPhone"},
    "07_android_gmail_app.eml": {"text": ["Tuesday afternoon works for me"], "not_text": ["Which slot suits you?"]},
    "08_iso8859_1_qp_encoded_subject.eml": {"text": ["Größe passt nicht"], "signature": "Grüßen", "subject": "Rücksendung für Bestellung 3001",
                                            "name": "Jürgen Müller"},
    "09_windows1252_smart_quotes_base64.eml": {"text": ["\u201cexpress\u201d shipping \u2014 \u20ac12.90"],
                                               "subject": "\u201cExpress\u201d shipping"},
    "10_shift_jis_japanese.eml": {"text": ["注文番号4001の配送状況を教えてください。"], "subject": "注文について", "name": "山田太郎"},
    "11_iso_2022_jp.eml": {"text": ["返品したいです。"], "subject": "返品の件", "name": "佐藤花子"},
    "12_utf8_split_encoded_words_emoji.eml": {"text": ["abîmé 📦"], "subject": "📦 Colis abîmé et en retard", "name": "Élodie"},
    "13_koi8r_russian.eml": {"text": ["Когда будет доставка?"], "subject": "Вопрос о доставке", "name": "Иван"},
    "14_nested_mixed_related_alternative.eml": {"text": ["Please find the invoice attached."],
                                                "files": ["logo.png", "invoice-2025-014.pdf"], "html": 'src="cid:logo-14@fastmail.example"'},
    "15_html_cid_inline_image_no_text.eml": {"text": ["The checkout shows this error:"], "files": ["attachment-1.png"]},
    "16_calendar_invite.eml": {"text": ["You have been invited"], "files": ["attachment-1.ics", "invite.ics"]},
    "17_dsn_bounce_postfix.eml": {"bounce": True},
    "18_dsn_bounce_exchange_rfc822.eml": {"bounce": True},
    "19_auto_reply_out_of_office.eml": {"text": ["out of the office"], "automated": True},
    "20_precedence_bulk_newsletter.eml": {"text": ["Save 20% on boots."], "automated": True,
                                          "html": 'data-remote-src="https://deals.example/open.gif"'},
    "21_outlook_auto_generated.eml": {"text": ["within 2 business days"], "automated": True},
    "22_big_attachment.eml": {"text": ["video of the defect"], "files": ["defect.mp4"], "sizes": {"defect.mp4": 600 * 1024}},
    "23_malformed_from_comment_style.eml": {"text": ["no MIME-Version header"], "sender": "quentin@old.example"},
    "24_malformed_no_message_id_no_date.eml": {"text": ["neither a Message-ID nor a Date"], "external_prefix": "sha256:"},
    "25_malformed_unknown_charset_bad_encoded_word.eml": {"text": ["unknown charset with a café"]},
    "26_malformed_headers_unterminated_boundary.eml": {"text": ["The closing boundary never comes."], "sender": "tom@example.org"},
    "27_forwarded_inline_gmail.eml": {"text": ["the address is wrong", "Order 7007 will ship to 1 Wrong Street."],
                                      "new_conversation": True},
    "28_forwarded_as_attachment.eml": {"text": ["See the attached email"], "not_text": ["inner message body"],
                                       "files": ["complaint.eml"], "new_conversation": True},
    "29_rfc2231_utf8_filename.eml": {"text": ["Anbei die Rechnung."], "files": ["€ Rechnung März.pdf"]},
    "30_html_only_remote_images_tracking.eml": {"text": ["following up on my return"],
                                                "html": 'data-remote-src="https://shop.example/track.gif?id=42"',
                                                "not_html": [' src="https://shop.example', ' src="http://cdn.shop.example', "<style"]},
    "31_smime_signed.eml": {"text": ["Please cancel order 8008."], "files": ["smime.p7s"]},
    "32_thunderbird_quoted_reply.eml": {"text": ["the serial number is SN-1234."], "not_text": ["Could you send the serial number?"]},
    "33_yahoo_8bit_utf8_headers.eml": {"text": ["le livreur n'est jamais passé"], "subject": "Problème de livraison",
                                       "name": "Béatrice Lefèvre"},
    "34_base64_text_and_html.eml": {"text": ["Everything here is base64 encoded"]},
    "35_attachment_without_filename.eml": {"text": ["Here is the file."], "files": ["attachment-1.bin"]},
    "36_latin1_8bit_unencoded.eml": {"text": ["Le colis est arrivé cassé, désolé."], "subject": "Reçu cassé", "name": "François",
                                     "raw_path": True},
}


def test_the_corpus_is_complete():
    files = sorted(p.name for p in CORPUS.glob("*.eml"))
    assert len(files) >= 30
    assert files == sorted(EXPECTED)


@pytest.fixture
def corpus_inbox(support) -> Inbox:
    return Inbox.objects.create(name="Acme Support", channel="email", address="support@heron.local", team=support,
                                settings={"imap": {"host": "imap.invalid"}})


def deliver(client, inbox: Inbox, raw: bytes, raw_path: bool) -> None:
    if raw_path:
        assert ingest_raw(inbox, raw, uid=1, uidvalidity=1) in {"stored", "duplicates"}
    else:
        raw.decode("utf-8")  # what a JSON webhook can carry
        response = post_postmark(client, raw)
        assert response.status_code == 200, response.content[:500]
    event = RawInboundEvent.objects.order_by("-id").first()
    assert event.result in {"processed", "duplicate"}, event.error


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_corpus_message_ingests_correctly(name, client, corpus_inbox, client_for, agent):
    expected = EXPECTED[name]
    raw = (CORPUS / name).read_bytes()
    if expected.get("new_conversation"):
        # The same sender already has an open conversation: a forward must still start its own.
        from tests.support.email import mime

        deliver(client, corpus_inbox, mime(sender=_sender_of(raw)), False)
    before = Message.objects.count()
    deliver(client, corpus_inbox, raw, expected.get("raw_path", False))

    if expected.get("bounce"):
        assert Message.objects.count() == before  # a DSN is never a conversation or a message
        return
    message = Message.objects.order_by("-id").first()
    assert Message.objects.count() == before + 1
    for fragment in expected.get("text", []):
        assert fragment in message.text, (fragment, message.text)
    for fragment in expected.get("not_text", []):
        assert fragment not in message.text
    if "quoted" in expected:
        assert expected["quoted"] in message.metadata["quoted_text"]
    if "signature" in expected:
        assert expected["signature"] in message.metadata["signature"]
        assert expected["signature"] not in message.text
    if "subject" in expected:
        assert message.subject == expected["subject"]
    if "name" in expected:
        assert message.contact.name == expected["name"]
    if "sender" in expected:
        assert message.identity.value == expected["sender"]
    if "external_prefix" in expected:
        assert message.external_id.startswith(expected["external_prefix"])
    assert sorted(a.filename for a in message.attachments.all()) == sorted(expected.get("files", []))
    for filename, size in expected.get("sizes", {}).items():
        assert message.attachments.get(filename=filename).size == size
    assert bool(message.metadata.get("automated")) == expected.get("automated", False)
    if "html" in expected:
        assert expected["html"] in message.html
    for fragment in expected.get("not_html", []):
        assert fragment not in message.html
    if expected.get("new_conversation"):
        assert Conversation.objects.filter(contact=message.contact).count() == 2

    # The API renders it (no 500) and a second delivery is a duplicate, not a second message.
    response = client_for(agent).get(f"/api/v1/conversations/{message.conversation_id}/messages/")
    assert response.status_code == 200
    deliver(client, corpus_inbox, raw, expected.get("raw_path", False))
    assert Message.objects.count() == before + 1


def _sender_of(raw: bytes) -> str:
    from anymail.inbound import AnymailInboundMessage

    from channels_adapters.email.parse import sender_of

    return sender_of(AnymailInboundMessage.parse_raw_mime_bytes(raw), None)[1]


@pytest.mark.parametrize("name", sorted(p.name for p in CORPUS.glob("*.eml")))
def test_anymail_parses_with_headers_parsed_once_and_reads_the_same(name):
    """channels_adapters/email/parse.py gives anymail's inbound parser a policy that parses each header
    once; every message must read exactly as with email.policy.default."""
    from email.parser import BytesParser
    from email.policy import default

    import anymail.inbound
    from anymail.inbound import AnymailInboundMessage

    from channels_adapters.email.parse import _PARSING_POLICY

    assert anymail.inbound.default_policy is _PARSING_POLICY
    raw = (CORPUS / name).read_bytes()

    def reading(message) -> list:
        parts = [
            (part.get_content_type(), part.get_filename(), [(k, str(v)) for k, v in part.items()],
             part.get_payload(decode=True) if not part.is_multipart() else None)
            for part in message.walk()
        ]
        addresses = attempt(lambda: [str(a) for a in [message.from_email, *message.to, *message.cc] if a])
        texts = [attempt(lambda name=name: getattr(message, name)) for name in ("subject", "text", "html")]
        return [parts, addresses, *texts, [(a.get_filename(), a.get_content_type()) for a in message.attachments]]

    def attempt(read):  # a malformed message may fail to decode: then both must fail alike
        try:
            return read()
        except Exception as exc:  # noqa: BLE001
            return type(exc).__name__

    assert reading(AnymailInboundMessage.parse_raw_mime_bytes(raw)) == reading(
        BytesParser(AnymailInboundMessage, policy=default).parsebytes(raw)
    )
