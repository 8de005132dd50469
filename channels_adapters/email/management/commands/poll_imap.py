import time

from django.core.management.base import BaseCommand

from channels_adapters.email.imap import poll_all, poll_inbox


class Command(BaseCommand):
    help = "Fetch new mail from every IMAP-configured email inbox (or one), once or in a loop."

    def add_arguments(self, parser):
        parser.add_argument("--inbox", type=int, help="Only this inbox id")
        parser.add_argument("--loop", action="store_true", help="Keep polling")
        parser.add_argument("--interval", type=float, default=60.0, help="Seconds between polls with --loop")
        parser.add_argument("--force", action="store_true", help="Ignore the error backoff")

    def handle(self, *args, **options):
        while True:
            if options["inbox"]:
                results = {options["inbox"]: poll_inbox(options["inbox"], force=options["force"])}
            else:
                results = poll_all(force=options["force"])
            for inbox_id, result in results.items():
                state = f"error: {result.error}" if result.error else "ok"
                self.stdout.write(
                    f"inbox {inbox_id}: fetched {result.fetched}, stored {result.stored}, "
                    f"duplicates {result.duplicates}, failed {result.failed} ({state})"
                )
            if not options["loop"]:
                return
            time.sleep(options["interval"])
