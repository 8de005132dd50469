from importlib import import_module

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = (
        "Post a correctly signed provider webhook to the running server (PUBLIC_BASE_URL), as a customer "
        "would through that channel. Channels: see settings.CHANNEL_SIMULATORS."
    )

    def add_arguments(self, parser):
        subparsers = parser.add_subparsers(dest="channel", required=True)
        for channel, path in settings.CHANNEL_SIMULATORS.items():
            module = import_module(path)
            module.add_arguments(subparsers.add_parser(channel, help=module.__doc__))

    def handle(self, *args, **options):
        module = import_module(settings.CHANNEL_SIMULATORS[options["channel"]])
        try:
            response = module.run(options)
        except Exception as exc:  # noqa: BLE001 - tell the user, e.g. the server is not running
            raise CommandError(f"Could not reach {settings.PUBLIC_BASE_URL}: {exc}") from exc
        self.stdout.write(f"{response.request.method} {response.request.url} → {response.status_code}")
        if response.status_code >= 400:
            raise CommandError(response.text[:500])
