"""Index the messages stored before search existed, in batches of ids, each batch its own short
transaction: a writer waits at most for one batch's rows, never for the whole table. New messages
are indexed by the triggers of 0001 meanwhile."""

from django.db import migrations

from search import index

BATCH = 5000


def backfill(apps, schema_editor):
    after = 0
    while (after := index.reindex_batch(schema_editor.connection, after, BATCH, only_missing=True)) is not None:
        pass


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("search", "0001_index")]

    operations = [migrations.RunPython(backfill, migrations.RunPython.noop, elidable=True)]
