"""Replies that are not settled yet carry `send_check_at`, the time the send sweeper looks at them
again, and may be `unconfirmed` (docs/sending.md).

The column is nullable (no table rewrite, no long lock), the status choice changes no SQL, and on
PostgreSQL the partial index is built CONCURRENTLY, so writes to the message table go on meanwhile."""

from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models


class AddIndexConcurrentlyOnPostgres(AddIndexConcurrently):
    """CREATE INDEX CONCURRENTLY on PostgreSQL; a plain CREATE INDEX elsewhere (SQLite, the demo)."""

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_forwards(app_label, schema_editor, from_state, to_state)
        else:
            migrations.AddIndex.database_forwards(self, app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_backwards(app_label, schema_editor, from_state, to_state)
        else:
            migrations.AddIndex.database_backwards(self, app_label, schema_editor, from_state, to_state)


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("inbox", "0004_notes_leave_the_list_snippet")]

    operations = [
        migrations.AddField(
            model_name="message",
            name="send_check_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AlterField(
            model_name="message",
            name="status",
            field=models.CharField(
                choices=[("received", "Received"), ("queued", "Queued"), ("unconfirmed", "Unconfirmed"),
                         ("sent", "Sent"), ("delivered", "Delivered"), ("read", "Read"), ("failed", "Failed")],
                default="received", max_length=16,
            ),
        ),
        AddIndexConcurrentlyOnPostgres(
            model_name="message",
            index=models.Index(condition=models.Q(send_check_at__isnull=False), fields=["send_check_at"],
                               name="msg_send_check"),
        ),
    ]
