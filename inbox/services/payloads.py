"""Event payloads: the API's shapes, so a client applies a live event like a fetched object."""

from inbox.models import Contact, Conversation, Message


def conversation_payload(conversation: Conversation) -> dict:
    from inbox.api.serializers import ConversationSerializer

    return ConversationSerializer(conversation).data


def message_payload(message: Message) -> dict:
    from inbox.api.serializers import MessageSerializer

    return MessageSerializer(message).data


def contact_payload(contact: Contact) -> dict:
    from inbox.api.serializers import ContactSerializer

    return ContactSerializer(contact).data


def as_json(data) -> dict:
    """DRF returns ReturnDict with datetimes; events are stored as plain JSON."""
    import json

    from rest_framework.utils.encoders import JSONEncoder

    return json.loads(json.dumps(data, cls=JSONEncoder))
