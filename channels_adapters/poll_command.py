"""What the `poll_…` management commands share: poll every inbox of a channel (or one), once or in a loop."""

import time
from dataclasses import dataclass

from django.core.management.base import BaseCommand


@dataclass
class PollResult:
    """What polling one inbox came to; each channel counts more."""

    stored: int = 0
    failed: int = 0
    error: str = ""


class PollCommand(BaseCommand):
    default_interval: float

    def add_arguments(self, parser):
        parser.add_argument("--inbox", type=int, help="Only this inbox id")
        parser.add_argument("--loop", action="store_true", help="Keep polling")
        parser.add_argument("--interval", type=float, default=self.default_interval,
                            help="Seconds between polls with --loop")

    def poll(self, inbox_id: int | None, options) -> dict[int, PollResult]:
        """inbox id → what polling it came to (with `error`), for `inbox_id` or every inbox."""
        raise NotImplementedError

    def counts(self, result: PollResult) -> str:
        raise NotImplementedError

    def handle(self, *args, **options):
        while True:
            for inbox_id, result in self.poll(options["inbox"], options).items():
                state = f"error: {result.error}" if result.error else "ok"
                self.stdout.write(f"inbox {inbox_id}: {self.counts(result)} ({state})")
            if not options["loop"]:
                return
            time.sleep(options["interval"])
