"""The conversation list's filters, read from query parameters: shared by the list, search and
saved views, so a view finds what the list shows with the same filters."""

from datetime import datetime, time

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from rest_framework.exceptions import ValidationError

from inbox import selectors

# Filters and what each takes, for the schema and for saved views.
CONVERSATION_FILTERS = {
    "view": "mine | unassigned | team | all",
    "status": "open | pending | snoozed | resolved",
    "channel": "sms | email | voice | google_business | simulator",
    "inbox": "inbox id",
    "assignee": "user id, or 'none'",
    "team": "team id",
    "label": "label name",
    "priority": "none | low | medium | high | urgent",
    "since": "from this date or time (ISO 8601) on",
    "until": "before this date or time (ISO 8601); a date includes that day",
}


def int_param(params, name: str) -> int:
    try:
        return int(params[name])
    except (KeyError, TypeError, ValueError):
        raise ValidationError({name: "Must be a number."}) from None


def date_param(params, name: str) -> datetime | None:
    """`since`/`until`: a date (midnight; for `until`, the next one: the day is included) or a time."""
    value = (params.get(name) or "").strip()
    if not value:
        return None
    try:
        moment = parse_datetime(value)
        day = None if moment else parse_date(value)
    except ValueError:
        moment = day = None
    if moment is None and day is None:
        raise ValidationError({name: "Use a date (2026-12-31) or a date and time (2026-12-31T18:00:00Z)."})
    if day is not None:
        if name == "until":
            day = day.fromordinal(day.toordinal() + 1)
        moment = datetime.combine(day, time.min)
    return moment if timezone.is_aware(moment) else timezone.make_aware(moment)


def filter_conversations(queryset: QuerySet, params, user) -> QuerySet:
    """`queryset` (conversations the user may see) narrowed by every filter given but the dates:
    the list applies those to a conversation's last activity, search to the messages it finds.
    A label joins: the caller makes the rows distinct (or uses the result as a subquery)."""
    view = params.get("view") or "all"
    if view == "mine":
        queryset = queryset.filter(assignee=user)
    elif view == "unassigned":
        queryset = queryset.filter(assignee__isnull=True)
    elif view == "team":
        queryset = queryset.filter(selectors.conversations_of_teams(selectors.team_ids_of(user)))
    elif view != "all":
        raise ValidationError({"view": "Use mine, unassigned, team or all."})
    for param, field in [("status", "status"), ("channel", "inbox__channel"), ("priority", "priority"),
                         ("label", "labels__name")]:
        if params.get(param):
            queryset = queryset.filter(**{field: params[param]})
    for param, field in [("inbox", "inbox_id"), ("team", "team_id")]:
        if params.get(param):
            queryset = queryset.filter(**{field: int_param(params, param)})
    if params.get("assignee"):
        assignee = params["assignee"]
        queryset = (queryset.filter(assignee__isnull=True) if assignee == "none"
                    else queryset.filter(assignee_id=int_param(params, "assignee")))
    return queryset


def has_filters(params) -> bool:
    """Whether any filter but the dates narrows the conversations."""
    return (params.get("view") or "all") != "all" or any(
        params.get(name) for name in CONVERSATION_FILTERS if name not in ("view", "since", "until"))
