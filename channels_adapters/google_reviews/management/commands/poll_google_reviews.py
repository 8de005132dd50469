import time

from django.core.management.base import BaseCommand

from channels_adapters.google_reviews.poller import poll_all, poll_inbox


class Command(BaseCommand):
    help = "Fetch new and edited Google Business Profile reviews of every reviews inbox (or one), once or in a loop."

    def add_arguments(self, parser):
        parser.add_argument("--inbox", type=int, help="Only this inbox id")
        parser.add_argument("--loop", action="store_true", help="Keep polling")
        parser.add_argument("--interval", type=float, default=300.0, help="Seconds between polls with --loop")

    def handle(self, *args, **options):
        while True:
            results = {options["inbox"]: poll_inbox(options["inbox"])} if options["inbox"] else poll_all()
            for inbox_id, result in results.items():
                state = f"error: {result.error}" if result.error else "ok"
                self.stdout.write(f"inbox {inbox_id}: listed {result.listed}, stored {result.stored}, "
                                  f"unchanged {result.unchanged} ({state})")
            if not options["loop"]:
                return
            time.sleep(options["interval"])
