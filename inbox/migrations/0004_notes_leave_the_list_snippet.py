"""A conversation's `last_message` (the list's snippet) no longer points at a private note, which
marketers may not read: conversations whose snippet is a note get their latest other message.

Touches only those conversations, in batches, each batch its own short transaction."""

from django.db import migrations
from django.db.models import OuterRef, Subquery

BATCH = 1000


def repoint(apps, schema_editor):
    Conversation = apps.get_model("inbox", "Conversation")
    Message = apps.get_model("inbox", "Message")
    latest_other = Subquery(
        Message.objects.filter(conversation=OuterRef("pk")).exclude(kind="note")
        .order_by("-created_at", "-id").values("id")[:1]
    )
    while True:
        ids = list(Conversation.objects.filter(last_message__kind="note").values_list("id", flat=True)[:BATCH])
        if not ids:
            return
        Conversation.objects.filter(id__in=ids).update(last_message=latest_other)


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("inbox", "0003_event_private")]

    operations = [migrations.RunPython(repoint, migrations.RunPython.noop, elidable=True)]
