"""A customer is typing: an ephemeral frame to the sockets that may see the conversation (never stored).

Frame (docs/realtime.md, "Ephemeral frames"):
`{"type": "typing", "data": {"conversation": 12, "contact": {"id": 5, "name": "Alice C."}, "state": "typing"}}`
"""

from __future__ import annotations

from inbox.models import Conversation, Identity, Inbox, Status
from inbox.realtime.groups import groups_for
from inbox.realtime.publish import publish
from inbox.selectors import conversation_audience
from inbox.services.identities import InvalidIdentity, normalize_identity
from inbox.services.ingest import continuable_conversations


def customer_typing(*, inbox_id: int, identity_kind: str, identity_value: str, typing: bool = True
                    ) -> Conversation | None:
    """Tell the agents who may see the customer's conversation that the customer is (no longer) typing.

    The conversation is the contact's latest unresolved one in this inbox's team (preferring this
    inbox's), else its latest there: the one the customer's next message would continue.
    Returns it, or None when Heron knows no such customer or conversation (then nothing is sent).
    """
    try:
        value = normalize_identity(identity_kind, identity_value)
    except InvalidIdentity:
        return None
    identity = Identity.objects.select_related("contact").filter(kind=identity_kind, value=value).first()
    if identity is None:
        return None
    inbox = Inbox.objects.only("team_id").filter(pk=inbox_id).first()
    if inbox is None:
        return None
    conversations = continuable_conversations(identity.contact_id, inbox).select_related("inbox")
    open_ones = conversations.exclude(status=Status.RESOLVED)
    conversation = open_ones.filter(inbox_id=inbox_id).first() or open_ones.first() or conversations.first()
    if conversation is None:
        return None
    contact = identity.contact
    frame = {
        "type": "typing",
        "data": {
            "conversation": conversation.pk,
            "contact": {"id": contact.pk, "name": contact.name or identity.display_name or identity.value},
            "state": "typing" if typing else "idle",
        },
    }
    publish(groups_for(conversation_audience(conversation)), {"type": "heron.presence", "frame": frame})
    return conversation
