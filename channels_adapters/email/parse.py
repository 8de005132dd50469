"""The ONE normalizer: AnymailInboundMessage (from any ESP webhook or from IMAP) → Heron's dataclasses."""

from __future__ import annotations

import functools
import hashlib
import html as html_lib
import logging
import mimetypes
import re
from dataclasses import dataclass, field
from datetime import datetime
from email.message import Message as StdMessage
from email.parser import BytesHeaderParser, BytesParser
from email.policy import EmailPolicy
from email.policy import default as default_policy

from anymail.inbound import AnymailInboundMessage
from django.conf import settings

from channels_adapters.base import InboundAttachment, InboundMessage, SenderIdentity
from channels_adapters.common import without_nul
from channels_adapters.email import threading as th
from inbox.inbox_cache import inboxes_of
from inbox.models import Inbox
from inbox.services.email_threading import ThreadHints
from inbox.services.raw_events import BadPayload

log = logging.getLogger("heron.email")

# WHATWG-style superset decoding: mail labelled latin-1 is very often really Windows-1252.
CHARSET_ALIASES = {"iso-8859-1": "cp1252", "latin1": "cp1252", "latin-1": "cp1252", "us-ascii": "cp1252",
                   "ascii": "cp1252", "shift_jis": "cp932", "shift-jis": "cp932", "sjis": "cp932",
                   "x-sjis": "cp932", "gb2312": "gb18030", "gbk": "gb18030", "ks_c_5601-1987": "cp949",
                   "euc-kr": "cp949", "utf8": "utf-8", "unicode-1-1-utf-7": "utf-7"}
ACTIVE_CONTENT_TYPES = {"image/svg+xml", "text/html", "application/xhtml+xml", "text/xml", "application/xml"}
_REMOTE_IMG = re.compile(r"<img\b[^>]*>", re.IGNORECASE)
_REMOTE_SRC = re.compile(r"""(\s)src\s*=\s*(["']?)\s*((?:https?:)?//)""", re.IGNORECASE)
_ADDRESS = re.compile(r"[\w.!#$%&'*+/=?^`{|}~-]+@[\w-]+(?:\.[\w-]+)+")
_MAILER_DAEMON = re.compile(r"^(mailer-daemon|postmaster|mail-daemon)@", re.IGNORECASE)


class _ParseHeadersOncePolicy(EmailPolicy):
    """email.policy.default, except that a header value is parsed once rather than on every read:
    AnymailInboundMessage reads each part's Content-Type and Content-Disposition many times, and
    that re-parsing was the largest single cost of ingesting an email. Parsed headers never change."""

    def header_fetch_parse(self, name, value):
        return value if hasattr(value, "name") else _parsed_header(name, value)


@functools.lru_cache(maxsize=4096)
def _parsed_header(name: str, value: str):
    return default_policy.header_fetch_parse(name, value)


_PARSING_POLICY = _ParseHeadersOncePolicy()


def parse_mime(raw: bytes) -> AnymailInboundMessage:
    """Raw MIME → the message every route (ESP webhook, IMAP, replay) normalizes."""
    return BytesParser(AnymailInboundMessage, policy=_PARSING_POLICY).parsebytes(raw)


def parse_headers_once_in_anymail() -> None:
    """anymail's inbound webhooks parse the posted MIME with `email.policy.default` (the module's
    `default_policy`) before our signal handler runs: about half of the CPU of accepting an email,
    most of it re-parsing each part's Content-Type. It gets the policy `parse_mime` uses, whose
    results are the same (`tests/test_email_corpus.py` checks the whole corpus both ways)."""
    import anymail.inbound

    anymail.inbound.default_policy = _PARSING_POLICY


def _limit(name: str, default: int) -> int:
    return int(getattr(settings, "HERON_EMAIL", {}).get(name, default))


@dataclass(frozen=True)
class Bounce:
    referenced_ids: list[str]
    code: str = ""
    reason: str = ""
    failed: bool = True


@dataclass
class ParsedEmail:
    inbound: InboundMessage
    hints: ThreadHints
    bounce: Bounce | None = None
    sender_is_us: bool = False
    extra: dict = field(default_factory=dict)


def unsurrogate(text: str) -> str:
    """Raw 8-bit header bytes come back as surrogate escapes: decode them as UTF-8, else Windows-1252."""
    if not any("\udc80" <= ch <= "\udcff" for ch in text):
        return text
    raw = text.encode("utf-8", "surrogateescape")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("cp1252", errors="replace")


def unflow(text: str, delsp: bool) -> str:
    """RFC 3676 format=flowed: a line ending in a space continues on the next one."""
    lines, current = [], ""
    for line in text.split("\n"):
        line = line.rstrip("\r")
        if line.endswith(" ") and line != "-- ":
            current += line[:-1] if delsp else line
        else:
            lines.append(current + line)
            current = ""
    if current:
        lines.append(current)
    return "\n".join(lines)


def header(msg: StdMessage, name: str) -> str:
    """A header as text, never raising on the malformed headers real mail has."""
    try:
        value = msg.get(name)
    except Exception:  # noqa: BLE001 - email's header parsing raises many things on broken input
        value = None
        for key, raw in getattr(msg, "_headers", []):
            if key.lower() == name.lower():
                value = raw
                break
    if value is None:
        return ""
    try:
        return unsurrogate(" ".join(str(value).split()))
    except Exception:  # noqa: BLE001
        return ""


def message_id_header(msg: StdMessage) -> str:
    """The Message-ID as sent, unfolded: `th.normalize_message_id` finds the id in it. Read raw: the
    email package's RFC 5322 parse of it costs ten times as much, for the same id."""
    for name, value in msg.raw_items():
        if name.lower() == "message-id":
            return unsurrogate(" ".join(str(value).split()))
    return ""


def header_addresses(msg: StdMessage, *names: str) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    for name in names:
        try:
            values = msg.get_all(name) or []
        except Exception:  # noqa: BLE001
            values = []
        for value in values:
            try:
                parsed = [(a.display_name, a.addr_spec) for a in value.addresses]
            except Exception:  # noqa: BLE001 - not an address header object, or broken
                parsed = th.addresses([str(value)])
            found.extend((unsurrogate(name_ or ""), unsurrogate(addr)) for name_, addr in parsed if addr and "@" in addr)
    return found


# ------------------------------------------------------------------------------------ inboxes

def recipient_candidates(msg: StdMessage, envelope_recipient: str | None = None) -> list[str]:
    found = [envelope_recipient] if envelope_recipient else []
    found += [addr for _, addr in header_addresses(msg, "Delivered-To", "X-Original-To", "To", "Cc", "Bcc")]
    return [a for a in dict.fromkeys(a.strip().lower() for a in found if a)]


def find_inbox(msg: StdMessage, envelope_recipient: str | None = None) -> Inbox | None:
    """The email inbox one of the recipients belongs to (plus-addressing allowed)."""
    candidates = recipient_candidates(msg, envelope_recipient)
    bases = [th.base_address(a) for a in candidates]
    if not bases:
        return None
    for fresh in (False, True):  # the process's cache first (inbox/inbox_cache.py), then the database
        inboxes = inboxes_of("email", fresh=fresh)
        for base in bases:
            if base in inboxes:
                return inboxes[base]
    return None


# --------------------------------------------------------------------------------------- body

def decode_part(part: StdMessage) -> str:
    payload = part.get_payload(decode=True)
    if payload is None:
        payload = part.get_payload()
        return payload if isinstance(payload, str) else ""
    charset = (part.get_content_charset() or "utf-8").strip().strip('"').lower()
    charset = CHARSET_ALIASES.get(charset, charset)
    try:
        text = payload.decode(charset, errors="replace")
    except LookupError:
        try:
            text = payload.decode("utf-8")
        except UnicodeDecodeError:
            text = payload.decode("cp1252", errors="replace")
    if part.get_content_type() == "text/plain" and (part.get_param("format") or "").lower() == "flowed":
        text = unflow(text, delsp=(part.get_param("delsp") or "").lower() == "yes")
    return text


def _filename(part: StdMessage, index: int, content_type: str) -> str:
    try:
        name = part.get_filename() or ""
    except Exception:  # noqa: BLE001
        name = ""
    name = re.sub(r"[\x00-\x1f\x7f/\\]", "_", unsurrogate(str(name))).strip().lstrip(".")
    if not name:
        ext = mimetypes.guess_extension(content_type) or ".bin"
        if content_type == "text/calendar":
            ext = ".ics"
        elif content_type == "message/rfc822":
            ext = ".eml"
        name = f"attachment-{index}{ext}"
    return name[:200]


def _part_bytes(part: StdMessage) -> bytes:
    if part.get_content_type() == "message/rfc822" or part.is_multipart():
        try:
            inner = part.get_payload(0) if part.get_content_type() == "message/rfc822" else part
            return inner.as_bytes()
        except Exception:  # noqa: BLE001
            return bytes(str(part.get_payload()), "utf-8", "replace")
    payload = part.get_payload(decode=True)
    return payload if isinstance(payload, bytes) else b""


@dataclass
class Body:
    texts: list[str] = field(default_factory=list)
    htmls: list[str] = field(default_factory=list)
    attachments: list[InboundAttachment] = field(default_factory=list)
    skipped: list[dict] = field(default_factory=list)
    total_bytes: int = 0


def collect(part: StdMessage, body: Body) -> None:
    """Walk the MIME tree: body text/html parts, and everything else as files (not into attached mail)."""
    ctype = part.get_content_type()
    if ctype == "message/rfc822" or not part.is_multipart():
        _leaf(part, ctype, body)
        return
    for child in part.iter_parts() if hasattr(part, "iter_parts") else part.get_payload():
        collect(child, body)


def _leaf(part: StdMessage, ctype: str, body: Body) -> None:
    disposition = part.get_content_disposition()
    try:
        has_name = bool(part.get_filename())
    except Exception:  # noqa: BLE001
        has_name = False
    if ctype in ("text/plain", "text/html") and disposition != "attachment" and not has_name:
        (body.texts if ctype == "text/plain" else body.htmls).append(decode_part(part))
        return
    if ctype in ("message/delivery-status", "message/disposition-notification"):
        return
    content = _part_bytes(part)
    if ctype in ACTIVE_CONTENT_TYPES:
        ctype = "application/octet-stream"  # never served inline: an SVG or HTML file can carry script
    content_id = header(part, "Content-ID").strip("<> ")
    filename = _filename(part, len(body.attachments) + len(body.skipped) + 1, ctype)
    max_one = _limit("MAX_ATTACHMENT_BYTES", 20 * 1024 * 1024)
    max_total = _limit("MAX_TOTAL_ATTACHMENT_BYTES", 40 * 1024 * 1024)
    if len(content) > max_one or body.total_bytes + len(content) > max_total:
        body.skipped.append({"filename": filename, "content_type": ctype, "size": len(content),
                             "reason": f"larger than the {max_one} byte limit"})
        return
    body.total_bytes += len(content)
    body.attachments.append(InboundAttachment(filename=filename, content_type=ctype, content=content,
                                              content_id=content_id))


def html_to_text(html: str) -> str:
    text = re.sub(r"(?is)<(script|style|head)\b.*?</\1\s*>", " ", html)
    text = re.sub(r"(?i)<br\s*/?>|</(p|div|tr|li|h[1-6]|blockquote)\s*>", "\n", text)
    text = re.sub(r"(?s)<[^>]+>", "", text)
    text = html_lib.unescape(text)
    return re.sub(r"\n{3,}", "\n\n", re.sub(r"[ \t\r\f\v]+", " ", text)).strip()


def block_remote_images(html: str) -> str:
    """<img src="https://…"> → <img data-remote-src="https://…">: the UI restores it on "load images"."""
    return _REMOTE_IMG.sub(lambda m: _REMOTE_SRC.sub(r"\1data-remote-src=\2\3", m.group(0)), html)


def split_reply(text: str, *, forwarded: bool) -> tuple[str, str, str]:
    """(visible reply, quoted rest, signature) via mail-parser-reply; a forward keeps everything visible."""
    if not text.strip() or forwarded:
        return text.strip(), "", ""
    from mailparser_reply import EmailReplyParser

    try:
        replies = EmailReplyParser(languages=list(_languages())).read(text=text[:200_000]).replies
    except Exception:  # noqa: BLE001 - a stripping failure must not lose the message
        log.warning("reply parsing failed; keeping the full text", exc_info=True)
        return text.strip(), "", ""
    if not replies:
        return text.strip(), "", ""
    visible = (replies[0].body or "").strip()
    quoted = "\n\n".join(r.content for r in replies[1:] if r.content).strip()
    if not visible:  # e.g. a reply written entirely below the quote
        return text.strip(), "", ""
    return visible, quoted, (replies[0].signatures or "").strip()


def _languages() -> tuple[str, ...]:
    return tuple(getattr(settings, "HERON_EMAIL", {}).get("REPLY_LANGUAGES", ("en", "de", "fr", "es", "nl", "it")))


# ------------------------------------------------------------------------------------- bounces

def detect_bounce(msg: StdMessage) -> Bounce | None:
    """RFC 3464 DSN (multipart/report; report-type=delivery-status): the ids of our message that bounced."""
    if msg.get_content_type() != "multipart/report":
        return None
    if (msg.get_param("report-type") or "").lower() != "delivery-status":
        return None
    ids: list[str] = []
    code, reason, failed = "", "", False
    for part in msg.walk():
        ctype = part.get_content_type()
        if ctype == "message/delivery-status":
            blocks = part.get_payload()
            if isinstance(blocks, str):
                blocks = [BytesHeaderParser().parsebytes(b) for b in blocks.encode().split(b"\n\n")]
            for block in blocks if isinstance(blocks, list) else []:
                action = header(block, "Action").lower()
                if action == "failed":
                    failed = True
                    code = code or header(block, "Status")
                    reason = reason or header(block, "Diagnostic-Code")
                original = header(block, "Original-Message-ID") or header(block, "X-Original-Message-ID")
                ids += th.message_ids(original)
        elif ctype == "text/rfc822-headers":
            raw = part.get_payload(decode=True) or b""
            ids += th.message_ids(header(BytesHeaderParser().parsebytes(raw), "Message-ID"))
        elif ctype == "message/rfc822":
            inner = part.get_payload(0) if isinstance(part.get_payload(), list) else None
            if inner is not None:
                ids += th.message_ids(header(inner, "Message-ID"))
    ids += th.reference_chain(header(msg, "In-Reply-To"), header(msg, "References"))
    return Bounce(referenced_ids=list(dict.fromkeys(ids)), code=code, reason=reason, failed=failed)


# ------------------------------------------------------------------------------------ the parse

def sender_of(msg: AnymailInboundMessage, envelope_sender: str | None) -> tuple[str, str]:
    for name, addr in header_addresses(msg, "From", "Sender", "Reply-To"):
        return name, addr
    raw_from = header(msg, "From")
    match = _ADDRESS.search(raw_from) or _ADDRESS.search(envelope_sender or "") or _ADDRESS.search(
        header(msg, "Return-Path"))
    if match:
        return "", match.group(0)
    raise BadPayload("The email has no usable sender address (From).")


def external_id_for(msg: StdMessage, sender: str, text: str) -> str:
    message_id = th.normalize_message_id(message_id_header(msg))
    if message_id and len(message_id) <= 255:
        return message_id
    # No (or absurd) Message-ID: a stable digest, so a redelivery still dedupes.
    basis = "\n".join([message_id, sender.lower(), header(msg, "Date"), header(msg, "Subject"), text[:10_000]])
    return "sha256:" + hashlib.sha256(basis.encode("utf-8", "replace")).hexdigest()


def parse_email(
    msg: AnymailInboundMessage, inbox: Inbox, *, envelope_recipient: str | None = None,
    envelope_sender: str | None = None, stripped_text: str | None = None, extra_metadata: dict | None = None,
) -> ParsedEmail:
    display_name, sender = sender_of(msg, envelope_sender)
    subject = header(msg, "Subject")
    try:
        subject = unsurrogate(" ".join(str(msg["Subject"] or "").split()))
    except Exception:  # noqa: BLE001
        pass

    body = Body()
    collect(msg, body)
    text = "\n\n".join(t.strip("\n") for t in body.texts if t.strip())
    html = "\n".join(body.htmls)
    if not text and html:
        text = html_to_text(html)

    forwarded = th.is_forward_subject(subject)
    signature = ""
    if stripped_text and not forwarded:
        visible, quoted = stripped_text.strip(), ""
        if text.strip() != visible:
            quoted = text.strip()
    else:
        visible, quoted, signature = split_reply(text, forwarded=forwarded)

    in_reply_to, references = header(msg, "In-Reply-To"), header(msg, "References")
    chain = th.reference_chain(in_reply_to, references)
    ours = tuple(dict.fromkeys(c for c, _ in filter(None, (th.parse_our_message_id(m) for m in chain))))
    tokens: list[int] = []
    inbox_base = th.base_address(inbox.address)
    for candidate in recipient_candidates(msg, envelope_recipient):
        if th.base_address(candidate) == inbox_base and th.token_from_address(candidate):
            tokens.append(th.token_from_address(candidate))
    tag = th.ticket_tag(subject)
    if tag:
        tokens.append(tag)
    base = th.base_subject(subject)
    hints = ThreadHints(
        referenced_ids=tuple(chain), our_conversation_ids=ours, tokens=tuple(dict.fromkeys(tokens)),
        base_subject=base, is_forward=forwarded,
    )

    bounce = detect_bounce(msg)
    automated = bool(bounce) or th.is_automated(msg) or bool(_MAILER_DAEMON.match(sender))
    external_id = external_id_for(msg, sender, text)
    try:
        sent_at = msg.date if isinstance(msg.date, datetime) else None
    except Exception:  # noqa: BLE001
        sent_at = None

    cc = [{"name": n, "email": a.lower()} for n, a in header_addresses(msg, "Cc")]
    to = [{"name": n, "email": a.lower()} for n, a in header_addresses(msg, "To")]
    metadata = {
        "email": True,
        "message_id": external_id,
        "in_reply_to": th.message_ids(in_reply_to)[:1],
        "references": th.message_ids(references)[-50:],
        "to": to,
        "cc": cc,
        "base_subject": base,
        "quoted_text": quoted[:100_000],
        "signature": signature[:5_000],
        "cid_map": {a.content_id: i for i, a in enumerate(body.attachments) if a.content_id},
        **(extra_metadata or {}),
    }
    if body.skipped:
        metadata["skipped_attachments"] = body.skipped
    if automated:
        metadata["automated"] = header(msg, "Auto-Submitted") or header(msg, "Precedence") or "auto"
    if spam := getattr(msg, "spam_score", None):
        metadata["spam_score"] = spam

    # Mail may carry NUL characters (a raw byte, "=00", base64): PostgreSQL stores none (common.without_nul).
    inbound = InboundMessage(
        channel="email", inbox_id=inbox.pk,
        sender=SenderIdentity(kind="email", value=sender, display_name=without_nul(display_name or "")[:200]),
        external_id=without_nul(external_id), text=without_nul(visible), html=without_nul(block_remote_images(html)),
        subject=without_nul(subject)[:500], attachments=tuple(body.attachments), metadata=without_nul(metadata),
        sent_at=sent_at, is_automated=automated,
    )
    return ParsedEmail(inbound=inbound, hints=hints, bounce=bounce,
                       sender_is_us=th.base_address(sender) == inbox_base)
