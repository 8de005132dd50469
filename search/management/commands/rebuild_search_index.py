"""Re-create the search index machinery from the current settings (after a change of
HERON_SEARCH_LANGUAGE) and re-index every message, in batches that each hold their rows briefly."""

import time

from django.core.management.base import BaseCommand
from django.db import connection, transaction

from search import index


class Command(BaseCommand):
    help = "Rebuild the full-text search index of every message (in batches; writes go on meanwhile)."

    def add_arguments(self, parser):
        parser.add_argument("--batch", type=int, default=5000, help="messages per transaction (default 5000)")
        parser.add_argument("--missing-only", action="store_true",
                            help="only messages without a document (PostgreSQL), e.g. after an interrupted run")

    def handle(self, *args, batch: int, missing_only: bool, **options):
        with transaction.atomic():
            index.install(connection)
        started, after, done = time.monotonic(), 0, 0
        while True:
            with transaction.atomic():
                upper = index.reindex_batch(connection, after, batch, only_missing=missing_only)
            if upper is None:
                break
            after, done = upper, done + 1
            if done % 20 == 0:
                self.stdout.write(f"  up to message {after:,}")
        self.stdout.write(self.style.SUCCESS(
            f"Search index rebuilt up to message {after:,} in {time.monotonic() - started:.1f} s."))
