from django.core.management.base import BaseCommand

from inbox.services.raw_events import replay_failed_events


class Command(BaseCommand):
    help = "Process again every stored provider request whose processing failed."

    def add_arguments(self, parser):
        parser.add_argument("--limit", type=int, default=1000)

    def handle(self, *args, **options):
        counts = replay_failed_events(limit=options["limit"])
        summary = ", ".join(f"{n} {result}" for result, n in sorted(counts.items())) or "nothing to replay"
        self.stdout.write(summary)
