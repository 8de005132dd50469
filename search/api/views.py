"""Search and saved views: parse, ask `search.selectors`, serialize."""

from contextlib import contextmanager

from django.db import OperationalError, connection, transaction
from django.db.models import Q
from django.http import QueryDict
from drf_spectacular.utils import OpenApiParameter, extend_schema
from psycopg.errors import QueryCanceled
from rest_framework import mixins, viewsets
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from inbox import selectors as inbox_selectors
from inbox.api.filters import CONVERSATION_FILTERS, date_param, filter_conversations, has_filters
from inbox.api.permissions import IsHeronUser
from inbox.api.serializers import ContactRefSerializer, ConversationSerializer, IdentitySerializer
from search import selectors
from search.api.serializers import SavedViewSerializer, SearchPageSerializer
from search.models import SavedView
from search.query import QueryTooLong, parse

PAGE_SIZE, MAX_PAGE_SIZE = 20, 100
# A search that runs longer is stopped (an answer with a hint, not a 500): a query the planner got
# badly wrong must not hold a connection.
STATEMENT_TIMEOUT_MS = 5000


def _query(params):
    try:
        return parse(params.get("q", ""))
    except QueryTooLong as exc:
        raise ValidationError({"q": str(exc)}) from None


def _scope(user, params) -> dict:
    """The list filters and the date range, as `search.selectors` takes them."""
    conversations = None
    if has_filters(params):
        conversations = filter_conversations(inbox_selectors.visible_conversations(user), params, user)
    return {"conversations": conversations, "since": date_param(params, "since"), "until": date_param(params, "until")}


@contextmanager
def searching():
    """A transaction whose statements are planned for their own words (a prepared statement's
    generic plan cannot know whether a word is rare or common) and bounded in time."""
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT set_config('plan_cache_mode', 'force_custom_plan', true), "
                               "set_config('statement_timeout', %s, true)", [str(STATEMENT_TIMEOUT_MS)])
        yield


def timed_out(exc: OperationalError) -> bool:
    return isinstance(exc.__cause__, QueryCanceled)


class SearchView(APIView):
    """Every message of every channel the caller may see: conversations by relevance and recency,
    each with its best matching message's snippet; on the first page, the contacts that match."""

    permission_classes = [IsHeronUser]

    @extend_schema(
        parameters=[
            OpenApiParameter("q", str, description='words; "exact phrase", -word, or; the last word is a prefix '
                             f"(at most {selectors.CANDIDATES} newest matches ranked, 500 characters)"),
            OpenApiParameter("cursor", str, description="`next` of the previous page"),
            OpenApiParameter("page_size", int, description=f"default {PAGE_SIZE}, at most {MAX_PAGE_SIZE}"),
            *[OpenApiParameter(name, str, description=description)
              for name, description in CONVERSATION_FILTERS.items()],
        ],
        responses=SearchPageSerializer,
    )
    def get(self, request):
        params = request.query_params
        query = _query(params)
        scope = _scope(request.user, params)
        size = _page_size(params)
        cursor = params.get("cursor") or None
        try:
            with searching():
                page = selectors.search_conversations(request.user, query, after=cursor, size=size, **scope)
                contacts = (selectors.search_contacts(request.user, params.get("q", ""))
                            if cursor is None and not query.empty else [])
        except selectors.BadCursor as exc:
            raise ValidationError({"cursor": str(exc)}) from None
        except OperationalError as exc:
            if not timed_out(exc):
                raise
            page, contacts = selectors.Page([], {}, {}, {}, None, 0, True), []
            query = query.with_hint("The search took too long: add a word or a filter to narrow it.")
        hints = list(query.hints)
        if page.capped:
            hints.append(f"Only the {selectors.CANDIDATES:,} newest matching messages were ranked: add a word or a "
                         "filter to narrow the search.")
        if not query.empty and not page.matches and not contacts and cursor is None:
            hints.append("Nothing matches: check the spelling, use fewer words, or remove a filter.")
        results = []
        for match in page.matches:
            row = page.rows.get(match.conversation_id)
            message = page.messages.get(match.message_id)
            if row is None or message is None:  # deleted between the two reads
                continue
            snippet, words = page.snippets.get(match.message_id, ("", []))
            results.append({"conversation": ConversationSerializer(row).data, "match": {
                "message_id": match.message_id, "snippet_html": snippet, "words": words,
                "channel": message["channel"], "kind": message["kind"], "direction": message["direction"],
                "created_at": message["created_at"].isoformat().replace("+00:00", "Z"),
            }})
        return Response({
            "next": _next_url(request, page.next_cursor), "previous": None,
            "count": page.count, "count_capped": page.capped, "hints": hints, "results": results,
            "contacts": [{"contact": ContactRefSerializer(contact).data,
                          "identities": IdentitySerializer(identities, many=True).data}
                         for contact, identities in contacts],
        })


def _page_size(params) -> int:
    try:
        size = int(params.get("page_size") or PAGE_SIZE)
    except ValueError:
        raise ValidationError({"page_size": "Must be a number."}) from None
    return max(1, min(size, MAX_PAGE_SIZE))


def _next_url(request, cursor: str | None) -> str | None:
    if cursor is None:
        return None
    params = request.query_params.copy()
    params["cursor"] = cursor
    return request.build_absolute_uri(request.path + "?" + params.urlencode())


def visible_saved_views(user):
    """The caller's own views, and those shared with one of their teams (any team's, for admins)."""
    shared = Q(team__isnull=False) if inbox_selectors.role_of(user) == "admin" else Q(
        team__in=inbox_selectors.team_ids_of(user))
    return SavedView.objects.filter(Q(owner=user) | shared).order_by("name", "id")


class SavedViewViewSet(mixins.ListModelMixin, mixins.CreateModelMixin, mixins.UpdateModelMixin,
                       mixins.DestroyModelMixin, viewsets.GenericViewSet):
    """Saved searches with their filters, each with a live count of what it finds for the caller."""

    permission_classes = [IsHeronUser]
    serializer_class = SavedViewSerializer
    pagination_class = None
    queryset = SavedView.objects.none()  # for the schema; get_queryset filters by who may see them
    http_method_names = ["get", "post", "patch", "delete"]
    lookup_value_regex = r"\d+"

    def get_queryset(self):
        return visible_saved_views(self.request.user)

    def list(self, request, *args, **kwargs):
        views = list(self.get_queryset())
        with searching():
            for view in views:
                _count(request.user, view)
        return Response(self.get_serializer(views, many=True).data)

    def _check_team(self, serializer):
        team = serializer.validated_data.get("team")
        user = self.request.user
        if team is not None and inbox_selectors.role_of(user) != "admin" and team.pk not in inbox_selectors.team_ids_of(user):
            raise ValidationError({"team": "Share views only with a team of yours."})

    def _check_owner(self, view: SavedView):
        if view.owner_id != self.request.user.pk and inbox_selectors.role_of(self.request.user) != "admin":
            raise PermissionDenied("Only the person who saved this view, or an admin, can change it.")

    def perform_create(self, serializer):
        self._check_team(serializer)
        view = serializer.save(owner=self.request.user)
        with searching():
            _count(self.request.user, view)

    def perform_update(self, serializer):
        self._check_owner(serializer.instance)
        self._check_team(serializer)
        view = serializer.save()
        with searching():
            _count(self.request.user, view)

    def perform_destroy(self, instance):
        self._check_owner(instance)
        instance.delete()


def _count(user, view: SavedView) -> None:
    params = QueryDict(mutable=True)
    params.update(view.filters)
    try:
        query = parse(view.q)
        scope = _scope(user, params)
    except (QueryTooLong, ValidationError):  # a filter that is no longer valid finds nothing
        view.count, view.count_capped = 0, False
        return
    view.count, view.count_capped = selectors.count_conversations(user, query, **scope)
