from importlib import import_module

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

# `make run` writes the address it serves at here, so `simulate` from another shell finds it.
RUN_URL_FILE = "run-url"


def running_server_url() -> str:
    """`PUBLIC_BASE_URL` when it is set; else the address `make run` last started at; else the default."""
    written = settings.VAR_DIR / RUN_URL_FILE
    if settings.PUBLIC_BASE_URL != settings.DEFAULT_PUBLIC_BASE_URL or not written.exists():
        return settings.PUBLIC_BASE_URL
    return written.read_text().strip().rstrip("/")


class Command(BaseCommand):
    help = (
        "Post a correctly signed provider webhook to the running server (--url; by default the one `make run` "
        "started, else PUBLIC_BASE_URL), as a customer would through that channel. Channels: see "
        "settings.CHANNEL_SIMULATORS."
    )

    def add_arguments(self, parser):
        parser.add_argument("--url", help="the server's public address, e.g. http://127.0.0.1:9000")
        subparsers = parser.add_subparsers(dest="channel", required=True)
        for channel, path in settings.CHANNEL_SIMULATORS.items():
            module = import_module(path)
            module.add_arguments(subparsers.add_parser(channel, help=module.__doc__))

    def handle(self, *args, **options):
        # The simulators sign for, and post to, PUBLIC_BASE_URL: the server checks signatures against its own.
        settings.PUBLIC_BASE_URL = (options["url"] or running_server_url()).rstrip("/")
        module = import_module(settings.CHANNEL_SIMULATORS[options["channel"]])
        try:
            response = module.run(options)
        except Exception as exc:  # noqa: BLE001 - tell the user, e.g. the server is not running
            raise CommandError(f"Could not reach {settings.PUBLIC_BASE_URL}: {exc}") from exc
        self.stdout.write(f"{response.request.method} {response.request.url} → {response.status_code}")
        if response.status_code >= 400:
            raise CommandError(response.text[:500])
