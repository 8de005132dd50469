"""POST /api/v1/simulate/: the web inbox's "customer simulator" drawer (demo and development only).

It runs the same code as `manage.py simulate <channel>`, so the browser demo exercises the real,
signed webhook path of each channel.
"""

import argparse
from importlib import import_module

from django.conf import settings
from rest_framework import serializers
from rest_framework.decorators import api_view, permission_classes
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from inbox.api.permissions import IsAdmin


class SimulateSerializer(serializers.Serializer):
    channel = serializers.ChoiceField(choices=[])
    options = serializers.DictField(child=serializers.CharField(max_length=5000, allow_blank=True))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["channel"].choices = sorted(settings.CHANNEL_SIMULATORS)


def _parser(module) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(exit_on_error=False)
    module.add_arguments(parser)
    return parser


def _web_options(parser: argparse.ArgumentParser) -> dict[str, argparse.Action]:
    """Options the browser may set: not files on the server (metavar FILE), not --help."""
    return {
        action.dest: action
        for action in parser._actions
        if action.option_strings and action.dest != "help" and action.metavar != "FILE"
    }


def channel_options() -> dict[str, list[str]]:
    """Each simulator's options, so the drawer can show the right fields."""
    return {
        channel: list(_web_options(_parser(import_module(path))))
        for channel, path in settings.CHANNEL_SIMULATORS.items()
    }


@api_view(["GET", "POST"])
@permission_classes([IsAdmin])
def simulate(request):
    if request.method == "GET":
        return Response({"channels": channel_options()})
    data = SimulateSerializer(data=request.data)
    data.is_valid(raise_exception=True)
    module = import_module(settings.CHANNEL_SIMULATORS[data.validated_data["channel"]])
    parser = _parser(module)
    allowed = _web_options(parser)
    argv = []
    for name, value in data.validated_data["options"].items():
        action = allowed.get(name)
        if action is None:
            raise ValidationError({"options": f"Unknown option {name!r}"})
        if action.nargs == 0:  # a flag such as --reply-to-last
            if value.lower() in {"1", "true", "yes", "on"}:
                argv.append(action.option_strings[-1])
        elif value != "":
            argv += [action.option_strings[-1], value]
    try:
        options = vars(parser.parse_args(argv))
    except (argparse.ArgumentError, SystemExit) as exc:
        raise ValidationError({"options": str(exc) or "Missing a required option"}) from None
    response = module.run(options)
    return Response({"status_code": response.status_code, "body": response.text[:1000]},
                    status=200 if response.status_code < 400 else 502)
