from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from inbox.models import Role
from inbox.services.people import create_agent, token_for


class Command(BaseCommand):
    help = "Create (or update) a Heron user: admin, agent or marketer."

    def add_arguments(self, parser):
        parser.add_argument("email")
        parser.add_argument("--role", choices=Role.values, default=Role.AGENT)
        parser.add_argument("--team", action="append", default=[], help="Team name (repeatable)")
        parser.add_argument("--password")
        parser.add_argument("--name", default="")
        parser.add_argument("--print-token", action="store_true", help="Print an API token for the user")

    def handle(self, *args, **options):
        try:
            user = create_agent(
                options["email"], role=options["role"], password=options["password"], name=options["name"],
                teams=options["team"],
            )
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from exc
        self.stdout.write(f"{options['role']} {user.email} ready")
        if options["print_token"]:
            self.stdout.write(token_for(user))
