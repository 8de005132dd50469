"""The one rule for reading JSON that came from outside: API bodies, webhooks, websocket frames.

Python's json parser recurses once per level of nesting and, some thousands of levels down, raises
RecursionError (not ValueError): 22 KB of brackets were a 500 wherever a body was read. Here nesting
deeper than MAX_DEPTH is refused like any other malformed input, with a JSONInputError (a
ValueError) that says why. No payload Heron reads nests more than a few levels.

A body with no more than MAX_DEPTH opening brackets cannot nest deeper, which two counts in C
establish for nearly every webhook: only a body with more brackets (an email's CSS, a batch of
events) has its parsed value walked.
"""

from __future__ import annotations

import json
from typing import Any

MAX_DEPTH = 64


class JSONInputError(ValueError):
    """Input that is not JSON Heron reads; the message says what is wrong with it."""


class JSONTooDeep(JSONInputError):
    def __init__(self) -> None:
        super().__init__(f"JSON is nested deeper than {MAX_DEPTH} levels")


def loads(data: bytes | str, *, strict: bool = False) -> Any:
    """`json.loads` under the rule; `strict` also refuses NaN and Infinity (as DRF does)."""
    try:
        value = json.loads(data, parse_constant=_refuse_constant if strict else None)
    except RecursionError:
        raise JSONTooDeep from None
    except UnicodeDecodeError as exc:
        raise JSONInputError(f"JSON must be UTF-8 text: {exc}") from None
    except json.JSONDecodeError as exc:
        raise JSONInputError(f"Not valid JSON: {exc}") from None
    if _may_be_too_deep(data) and _nests_deeper_than_allowed(value):
        raise JSONTooDeep
    return value


def check_depth(data: bytes | str) -> None:
    """Raises JSONTooDeep for JSON nested deeper than MAX_DEPTH, before another library parses it
    (anymail's views); anything else, JSON or not, is left to that library."""
    if _may_be_too_deep(data):
        try:
            loads(data)
        except JSONTooDeep:
            raise
        except JSONInputError:
            pass


def _refuse_constant(name: str):
    raise JSONInputError(f"{name} is not a JSON number")


def _may_be_too_deep(data: bytes | str) -> bool:
    if isinstance(data, bytes):
        return data.count(b"[") + data.count(b"{") > MAX_DEPTH
    return data.count("[") + data.count("{") > MAX_DEPTH


def _nests_deeper_than_allowed(value: Any) -> bool:
    stack = [(value, 1)] if isinstance(value, dict | list) else []
    while stack:
        container, depth = stack.pop()
        if depth > MAX_DEPTH:
            return True
        for item in container.values() if isinstance(container, dict) else container:
            if isinstance(item, dict | list):
                stack.append((item, depth + 1))
    return False
