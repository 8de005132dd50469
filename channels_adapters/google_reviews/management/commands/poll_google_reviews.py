from channels_adapters.google_reviews.poller import poll_all, poll_inbox
from channels_adapters.poll_command import PollCommand


class Command(PollCommand):
    help = "Fetch new and edited Google Business Profile reviews of every reviews inbox (or one), once or in a loop."
    default_interval = 300.0

    def poll(self, inbox_id, options):
        return {inbox_id: poll_inbox(inbox_id)} if inbox_id else poll_all()

    def counts(self, result) -> str:
        return f"listed {result.listed}, stored {result.stored}, unchanged {result.unchanged}"
