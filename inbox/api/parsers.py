"""The API's JSON parser: DRF's, reading with Heron's rule (config/json_input.py), so a body nested too
deep is a 400 that says so instead of a RecursionError's 500."""

from rest_framework import parsers
from rest_framework.exceptions import ParseError

from config import json_input


class JSONParser(parsers.JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        try:
            text = stream.read().decode(parsers.get_encoding(parser_context or {}))
            return json_input.loads(text, strict=self.strict)
        except ValueError as exc:  # a JSONInputError, or text that is not in the request's charset
            raise ParseError(f"JSON parse error - {exc}") from exc
