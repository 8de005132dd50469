"""The indexes search reads through, built without blocking writes (CREATE INDEX CONCURRENTLY,
outside a transaction): the documents' GIN index, messages newest first (for a common word the
newest matches are found by walking that index), and trigram indexes on contact names and
identity values (names and addresses with typos). PostgreSQL only: SQLite's FTS5 table is its index."""

from django.db import migrations

INDEXES = {
    "msg_search_document": "inbox_message USING gin (search_document)",
    "msg_created_newest": "inbox_message (created_at DESC, id DESC)",
    "contact_name_trgm": "inbox_contact USING gin (heron_unaccent(name) gin_trgm_ops)",
    "identity_value_trgm": "inbox_identity USING gin (value gin_trgm_ops)",
}


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        for name, definition in INDEXES.items():
            # A build interrupted half-way leaves an INVALID index of that name: start it again.
            cursor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {name}")
            cursor.execute(f"CREATE INDEX CONCURRENTLY {name} ON {definition}")


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        for name in INDEXES:
            cursor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {name}")


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("search", "0002_backfill")]

    operations = [migrations.RunPython(create, drop)]
