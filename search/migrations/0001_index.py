"""The search index's machinery (search/index.py): extensions, text search configurations, the
document column and the triggers that keep it, in one short transaction: adding a nullable column
without a default rewrites no row."""

from django.db import migrations

from search import index


def install(apps, schema_editor):
    index.install(schema_editor.connection)


def uninstall(apps, schema_editor):
    connection = schema_editor.connection
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            for statement in (
                "DROP TRIGGER IF EXISTS heron_attachment_search ON inbox_attachment",
                "DROP TRIGGER IF EXISTS heron_message_search_insert ON inbox_message",
                "DROP TRIGGER IF EXISTS heron_message_search_update ON inbox_message",
                "DROP FUNCTION IF EXISTS heron_attachment_search_document()",
                "DROP FUNCTION IF EXISTS heron_message_search_document()",
                "DROP FUNCTION IF EXISTS heron_search_document(text, text, text, text)",
                "ALTER TABLE inbox_message DROP COLUMN IF EXISTS search_document",
                f"DROP TEXT SEARCH CONFIGURATION IF EXISTS {index.STEM_CONFIG}",
                f"DROP TEXT SEARCH CONFIGURATION IF EXISTS {index.SIMPLE_CONFIG}",
            ):
                cursor.execute(statement)
        else:
            for name in ("message_search_insert", "message_search_update", "message_search_delete",
                         "attachment_search_insert", "attachment_search_delete", "attachment_search_update"):
                cursor.execute(f"DROP TRIGGER IF EXISTS heron_{name}")
            cursor.execute(f"DROP TABLE IF EXISTS {index.FTS_TABLE}")


class Migration(migrations.Migration):
    dependencies = [("inbox", "0004_notes_leave_the_list_snippet")]

    operations = [migrations.RunPython(install, uninstall)]
