"""Messaging consent: STOP / START / HELP keywords, whatever provider carried them.

Carriers and providers (Twilio's default opt-out handling among them) already answer these
keywords and block further messages; Heron mirrors the state on the phone identity so an agent
cannot message someone who opted out, and leaves a line on the conversation's timeline.
"""

from __future__ import annotations

import re

from django.db import transaction

from inbox.models import Identity, Message
from inbox.services.contacts import set_opt_out
from inbox.services.conversations import record_activity

OPT_OUT = "opt_out"
OPT_IN = "opt_in"
HELP = "help"

OPT_OUT_KEYWORDS = frozenset({"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "OPTOUT", "REVOKE"})
OPT_IN_KEYWORDS = frozenset({"START", "YES", "UNSTOP", "OPTIN"})
HELP_KEYWORDS = frozenset({"HELP", "INFO"})

_PUNCTUATION = re.compile(r"[\s.!¡?¿,;:\"'()\-]+")


def keyword_in(text: str) -> str:
    """The consent keyword a message *is* (the whole text, any case, stray punctuation ignored), or ""."""
    word = _PUNCTUATION.sub("", text or "").upper()
    if word in OPT_OUT_KEYWORDS or word in OPT_IN_KEYWORDS or word in HELP_KEYWORDS:
        return word
    return ""


def action_for(keyword: str) -> str:
    """Map a keyword (or a provider's opt-out type: STOP / START / HELP) to opt_out | opt_in | help | ""."""
    word = (keyword or "").strip().upper()
    if word in OPT_OUT_KEYWORDS:
        return OPT_OUT
    if word in OPT_IN_KEYWORDS:
        return OPT_IN
    if word in HELP_KEYWORDS:
        return HELP
    return ""


def apply_consent(message: Message, keyword: str) -> str:
    """Act on a customer's consent keyword carried by `message` (an inbound message).

    Marks the sender's identity opted out (or back in) and records an activity on the timeline
    when that changed something; HELP is recorded as an activity. Returns the action taken
    ("opt_out", "opt_in", "help") or "" when the keyword means nothing or changed nothing.
    """
    action = action_for(keyword)
    if not action or message.identity_id is None:
        return ""
    word = keyword.strip().upper()
    with transaction.atomic():
        identity = Identity.objects.select_for_update().select_related("contact").get(pk=message.identity_id)
        conversation = message.conversation
        if action == HELP:
            record_activity(conversation, f"{identity.value} asked for HELP (replied {word})",
                            metadata={"consent": HELP, "keyword": word, "message_id": message.pk})
            return HELP
        opted_out = action == OPT_OUT
        if not set_opt_out(identity, opted_out):
            return ""
        text = (
            f"{identity.value} opted out of messages (replied {word}); replies to this number are blocked"
            if opted_out
            else f"{identity.value} opted back in to messages (replied {word})"
        )
        record_activity(conversation, text, metadata={"consent": action, "keyword": word, "message_id": message.pk})
    return action


def record_provider_opt_out(message: Message) -> None:
    """The provider refused a send because the recipient unsubscribed earlier (maybe before Heron
    saw it): mark the identity opted out, so the composer says so instead of failing again."""
    identity = Identity.objects.select_related("contact").get(pk=message.identity_id)
    if set_opt_out(identity, True):
        record_activity(message.conversation, f"{identity.value} has unsubscribed (the provider refused the "
                        "message); replies to this number are blocked",
                        metadata={"consent": OPT_OUT, "message_id": message.pk})
