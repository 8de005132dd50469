"""Pure email-threading helpers: base subjects, ticket tags, plus-address tokens, our Message-IDs.

No Django, no database: the rules that need the database live in inbox/services/email_threading.py.
"""

from __future__ import annotations

import re
from email.utils import getaddresses

# Localized reply/forward prefixes seen in the wild (RFC 5256 only knows re/fw/fwd).
_PREFIXES = r"(?:re|fwd?|aw|sv|antw|wg|vs|vb|tr|rif|r|enc|odp|ynt|atb|res)"
_BLOB = r"\[[^\[\]]*\]"
_LEADER = re.compile(rf"^(?:{_BLOB}\s*)*{_PREFIXES}\s*(?:{_BLOB})?\s*:\s*", re.IGNORECASE)
# Outlook-style counters: "Re[2]:", "RE(3):"
_COUNTED = re.compile(rf"^{_PREFIXES}\s*[\[(]\d+[\])]\s*:\s*", re.IGNORECASE)
_TRAILER = re.compile(r"\s*\(fwd\)\s*$", re.IGNORECASE)
_LEADING_BLOB = re.compile(rf"^{_BLOB}\s*")
_FWD_WRAP = re.compile(r"^\[fwd:\s*(.*)\]$", re.IGNORECASE)
_TICKET_TAG = re.compile(r"\[#(\d{1,12})\]")
_FORWARD = re.compile(r"^\s*(?:\[[^\]]*\]\s*)*(?:fwd?|wg|tr|enc|vb|vs|rv)\s*:", re.IGNORECASE)
_MSGID = re.compile(r"<([^<>\s]+)>")
_OUR_ID = re.compile(r"^heron\.c(\d+)\.m(\d+)\.[A-Za-z0-9]+@", re.IGNORECASE)
_TOKEN = re.compile(r"^c(\d{1,12})$", re.IGNORECASE)


def base_subject(subject: str) -> str:
    """RFC 5256 §2.1-style base subject, casefolded: "Re: [Ticket #1042] Order" → "order"."""
    text = _TICKET_TAG.sub(" ", subject or "")
    text = " ".join(text.split())
    while True:
        before = text
        while True:
            stripped = _TRAILER.sub("", text)
            if stripped == text:
                break
            text = stripped
        while True:
            stripped = _COUNTED.sub("", _LEADER.sub("", text))
            if stripped == text:
                break
            text = stripped
        blobless = _LEADING_BLOB.sub("", text)
        if blobless.strip():
            text = blobless
        wrapped = _FWD_WRAP.match(text)
        if wrapped:
            text = wrapped.group(1)
        text = text.strip()
        if text == before:
            break
    return text.casefold()


def is_forward_subject(subject: str) -> bool:
    return bool(_FORWARD.match(subject or ""))


def ticket_tag(subject: str) -> int | None:
    """The conversation number in a "[#123]" subject tag, if any."""
    match = _TICKET_TAG.search(subject or "")
    return int(match.group(1)) if match else None


def add_ticket_tag(subject: str, conversation_id: int) -> str:
    if ticket_tag(subject) == conversation_id:
        return subject
    return f"{_TICKET_TAG.sub('', subject or '').strip()} [#{conversation_id}]".strip()


def split_address(address: str) -> tuple[str, str, str]:
    """"Support+c12@Example.com" → ("support", "c12", "example.com"); the tag is "" when absent."""
    address = (address or "").strip().strip("<>")
    local, _, domain = address.rpartition("@")
    if not local:
        return address.lower(), "", ""
    base, _, tag = local.partition("+")
    return base.lower(), tag, domain.lower()


def base_address(address: str) -> str:
    local, _, domain = split_address(address)
    return f"{local}@{domain}" if domain else local


def token_from_address(address: str) -> int | None:
    """The conversation id in a plus-address like support+c123@…, if any."""
    _, tag, _ = split_address(address)
    match = _TOKEN.match(tag)
    return int(match.group(1)) if match else None


def plus_address(address: str, conversation_id: int) -> str:
    local, _, domain = split_address(address)
    return f"{local}+c{conversation_id}@{domain}"


def domain_of(address: str) -> str:
    return split_address(address)[2] or "heron.local"


def make_message_id(conversation_id: int, message_id: int, domain: str, token: str) -> str:
    """Our own Message-ID, with the conversation in it so a reply threads back without a lookup;
    `token` (alphanumeric) makes it unique and unguessable."""
    return f"<heron.c{conversation_id}.m{message_id}.{token}@{domain}>"


def parse_our_message_id(message_id: str) -> tuple[int, int] | None:
    match = _OUR_ID.match(normalize_message_id(message_id))
    return (int(match.group(1)), int(match.group(2))) if match else None


def normalize_message_id(value: str) -> str:
    """The id without angle brackets or whitespace: how Message-IDs are stored as external ids."""
    value = (value or "").strip()
    match = _MSGID.search(value)
    if match:
        return match.group(1)
    return "".join(value.split()).strip("<>")


def message_ids(header_value: str | None) -> list[str]:
    """All ids in a References / In-Reply-To header, in order (tolerates missing brackets)."""
    if not header_value:
        return []
    found = _MSGID.findall(str(header_value))
    if not found:
        found = [part.strip("<>") for part in str(header_value).split() if "@" in part]
    return [f for f in found if f]


def reference_chain(in_reply_to: str | None, references: str | None) -> list[str]:
    """Referenced ids, most relevant first: In-Reply-To, then References from the newest back."""
    chain: list[str] = []
    for mid in message_ids(in_reply_to) + list(reversed(message_ids(references))):
        if mid not in chain:
            chain.append(mid)
    return chain


def references_for_reply(parent_references: list[str], parent_id: str, limit: int = 20) -> str:
    ids = [mid for mid in parent_references if mid != parent_id] + ([parent_id] if parent_id else [])
    if len(ids) > limit:  # keep the root and the most recent, like mail clients do
        ids = ids[:1] + ids[-(limit - 1):]
    return " ".join(f"<{mid}>" for mid in ids)


def addresses(values: list[str]) -> list[tuple[str, str]]:
    return [(name, addr) for name, addr in getaddresses(values) if addr]


AUTOMATED_PRECEDENCE = {"bulk", "auto_reply", "junk"}


def is_automated(headers) -> bool:
    """Auto-replies and machine mail (RFC 3834 Auto-Submitted, X-Autoreply, Precedence, ...)."""
    auto_submitted = str(headers.get("Auto-Submitted") or "").strip().lower()
    if auto_submitted and not auto_submitted.startswith("no"):
        return True
    if headers.get("X-Autoreply") or headers.get("X-Autorespond"):
        return True
    if str(headers.get("Precedence") or "").strip().lower() in AUTOMATED_PRECEDENCE:
        return True
    return False
