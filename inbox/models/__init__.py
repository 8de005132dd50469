from .contacts import Contact, ContactMerge, Identity, IdentityKind
from .conversations import Conversation, ConversationRead, Label, Priority, Status
from .events import Event, RawInboundEvent
from .inboxes import Channel, Inbox
from .messages import Attachment, DeliveryStatus, Direction, Message, MessageKind
from .people import AgentProfile, CannedResponse, Role, Team

__all__ = [
    "AgentProfile",
    "Attachment",
    "CannedResponse",
    "Channel",
    "Contact",
    "ContactMerge",
    "Conversation",
    "ConversationRead",
    "DeliveryStatus",
    "Direction",
    "Event",
    "Identity",
    "IdentityKind",
    "Inbox",
    "Label",
    "Message",
    "MessageKind",
    "Priority",
    "RawInboundEvent",
    "Role",
    "Status",
    "Team",
]
