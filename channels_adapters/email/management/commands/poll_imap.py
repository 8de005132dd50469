from channels_adapters.email.imap import poll_all, poll_inbox
from channels_adapters.poll_command import PollCommand


class Command(PollCommand):
    help = "Fetch new mail from every IMAP-configured email inbox (or one), once or in a loop."
    default_interval = 60.0

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument("--force", action="store_true", help="Ignore the error backoff")

    def poll(self, inbox_id, options):
        return {inbox_id: poll_inbox(inbox_id, force=options["force"])} if inbox_id else poll_all(force=options["force"])

    def counts(self, result) -> str:
        return f"fetched {result.fetched}, stored {result.stored}, duplicates {result.duplicates}, failed {result.failed}"
