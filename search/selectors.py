"""Search reads. Who may see what is `inbox.selectors`'s alone: every message found comes from
`visible_messages` (no private note for a marketer, no conversation of another team for an
agent), every conversation shown from `conversation_rows`, every contact from `visible_contacts`;
so results, counts and snippets hold only what the reader may see.

A search ranks the newest `CANDIDATES` matching messages the reader may see (one statement, a
constant number whatever the page size or the number of matches), scores each by relevance and
recency, keeps each conversation's best message, and pages through them by a cursor.
"""

from __future__ import annotations

import base64
import html
import json
import math
from dataclasses import dataclass
from datetime import datetime

from django.db import connection
from django.db.models import (
    BooleanField,
    CharField,
    Exists,
    F,
    FloatField,
    Func,
    OuterRef,
    Q,
    QuerySet,
    TextField,
    Value,
)
from django.db.models.expressions import RawSQL
from django.utils.dateparse import parse_datetime

from inbox import selectors
from inbox.models import Contact, Identity, Message
from inbox.services.identities import InvalidIdentity, normalize_phone
from search import index
from search.query import Query, fts5_match, fts5_phrase, postgres_phrase, postgres_tsquery

# The newest matching messages ranked per search: enough for every conversation a person pages
# through, few enough to rank in a few milliseconds.
CANDIDATES = 1000
# Relevance against recency: a match scores as much as one `RECENCY_DAYS` newer with e times the
# relevance (e.g. new text against the same words in quoted history, 4 times less relevant, wins
# unless that history is 42 days newer).
RECENCY_DAYS = 30
# Finding the words side by side, in the order typed, counts as 10 times the relevance.
PHRASE_BONUS = math.log(10)
START, STOP = "\x02", "\x03"
HEADLINE_OPTIONS = (f"StartSel={START}, StopSel={STOP}, MaxWords=30, MinWords=12, ShortWord=2, "
                    "MaxFragments=2, FragmentDelimiter=\" … \"")
CONTACTS_SHOWN = 5


class BadCursor(ValueError):
    pass


@dataclass(frozen=True)
class Match:
    conversation_id: int
    message_id: int
    score: float


@dataclass(frozen=True)
class Page:
    matches: list[Match]
    snippets: dict[int, tuple[str, list[str]]]  # message id: (snippet HTML, matched words)
    rows: dict[int, dict]  # conversation id: `conversation_rows` row
    messages: dict[int, dict]  # message id: its channel, kind, direction, created_at
    next_cursor: str | None
    count: int  # conversations among the candidates
    capped: bool  # more messages matched than were ranked


def _matching_messages(user, query: Query, tsquery: str | None, *, conversations: QuerySet | None,
                       since: datetime | None, until: datetime | None) -> QuerySet[Message]:
    messages = selectors.visible_messages(user)
    if connection.vendor == "postgresql":
        messages = messages.filter(RawSQL('"inbox_message"."search_document" @@ %s::tsquery', [tsquery],
                                          output_field=BooleanField()))
    else:
        messages = messages.filter(RawSQL(
            f'"inbox_message"."id" IN (SELECT rowid FROM {index.FTS_TABLE} WHERE {index.FTS_TABLE} MATCH %s)',
            [fts5_match(query)], output_field=BooleanField()))
    if conversations is not None:
        messages = messages.filter(conversation__in=conversations.values("pk"))
    if since is not None:
        messages = messages.filter(created_at__gte=since)
    if until is not None:
        messages = messages.filter(created_at__lt=until)
    return messages


def _tsqueries(query: Query) -> tuple[str, str]:
    """The query and its phrase bonus as tsquery text, built by PostgreSQL's own word parsers."""
    configs = index.configs()
    match_sql, match_params = postgres_tsquery(query, configs)
    phrase_sql, phrase_params = postgres_phrase(query, configs)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT ({match_sql})::text, ({phrase_sql})::text", [*match_params, *phrase_params])
        return cursor.fetchone()


def _ranked(messages: QuerySet[Message], query: Query, tsquery: str | None, phrase: str | None) -> list[tuple]:
    """(message id, conversation id, created_at, relevance, phrase found) of the newest candidates."""
    newest = messages.order_by("-created_at", "-id")
    if connection.vendor == "postgresql":
        newest = newest.annotate(document=RawSQL('"inbox_message"."search_document"', [], output_field=TextField()))
        sql, params = newest.values("id", "conversation_id", "created_at", "document")[:CANDIDATES].query.sql_with_params()
        statement = (f"SELECT h.id, h.conversation_id, h.created_at, ts_rank(h.document, %s::tsquery), "
                     f"h.document @@ %s::tsquery FROM ({sql}) h")
        params = [tsquery, phrase, *params]
    else:
        sql, params = newest.values("id", "conversation_id", "created_at")[:CANDIDATES].query.sql_with_params()
        fts = index.FTS_TABLE
        phrase_match = f"h.id IN (SELECT rowid FROM {fts} WHERE {fts} MATCH %s)" if phrase else "0"
        statement = (f"SELECT h.id, h.conversation_id, h.created_at, -bm25({fts}, 10.0, 4.0, 2.0, 0.5), "
                     f"{phrase_match} FROM ({sql}) h JOIN {fts} ON {fts}.rowid = h.id WHERE {fts} MATCH %s")
        params = [*([phrase] if phrase else []), *params, fts5_match(query)]
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        return cursor.fetchall()


def _score(relevance: float, phrase: bool, created_at) -> float:
    if isinstance(created_at, str):  # SQLite's raw rows
        created_at = parse_datetime(created_at)
    return (math.log(max(relevance, 1e-9)) + (PHRASE_BONUS if phrase else 0.0)
            + created_at.timestamp() / (RECENCY_DAYS * 86400))


def _best_per_conversation(rows: list[tuple]) -> list[Match]:
    best: dict[int, Match] = {}
    for message_id, conversation_id, created_at, relevance, phrase in rows:
        match = Match(conversation_id, message_id, _score(relevance, bool(phrase), created_at))
        known = best.get(conversation_id)
        if known is None or (match.score, match.message_id) > (known.score, known.message_id):
            best[conversation_id] = match
    return sorted(best.values(), key=lambda m: (m.score, m.conversation_id), reverse=True)


def encode_cursor(match: Match) -> str:
    return base64.urlsafe_b64encode(json.dumps([match.score, match.conversation_id]).encode()).decode()


def decode_cursor(cursor: str) -> tuple[float, int]:
    try:
        score, conversation_id = json.loads(base64.urlsafe_b64decode(cursor.encode()))
        return float(score), int(conversation_id)
    except (ValueError, TypeError) as exc:
        raise BadCursor("Invalid cursor.") from exc


def _snippets(message_ids: list[int], query: Query, tsquery: str | None) -> dict[int, tuple[str, list[str]]]:
    """Each message's best passage with the matched words between START and STOP, as safe HTML
    (everything escaped, then only <mark> added), and those words."""
    if not message_ids:
        return {}
    placeholders = ", ".join(["%s"] * len(message_ids))
    if connection.vendor == "postgresql":
        text = ("concat_ws(' … ', nullif(subject, ''), nullif(text, ''), metadata->>'transcript', "
                f"left(metadata->>'quoted_text', {index.QUOTED_LIMIT}))")
        statement = (f"SELECT id, ts_headline('{index.configs()[-1]}', {text}, %s::tsquery, %s) "
                     f"FROM inbox_message WHERE id IN ({placeholders})")
        params = [tsquery, HEADLINE_OPTIONS, *message_ids]
    else:
        fts = index.FTS_TABLE
        statement = (f"SELECT rowid, snippet({fts}, -1, %s, %s, ' … ', 24) FROM {fts} "
                     f"WHERE {fts} MATCH %s AND rowid IN ({placeholders})")
        params = [START, STOP, fts5_match(query), *message_ids]
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        rows = cursor.fetchall()
    return {message_id: _marked(raw or "") for message_id, raw in rows}


def _marked(raw: str) -> tuple[str, list[str]]:
    words = []
    for part in raw.split(START)[1:]:
        word = part.split(STOP, 1)[0]
        if word and word not in words:
            words.append(word)
    safe = html.escape(" ".join(raw.split()), quote=True)
    return safe.replace(START, "<mark>").replace(STOP, "</mark>"), words


def search_conversations(user, query: Query, *, conversations: QuerySet | None = None,
                         since: datetime | None = None, until: datetime | None = None,
                         after: str | None = None, size: int = 20) -> Page:
    """Conversations whose messages match, best first, each with its best message's snippet.
    `conversations`: the list filters, a queryset of `visible_conversations(user)`."""
    if query.empty:
        return Page([], {}, {}, {}, None, 0, False)
    tsquery = phrase = None
    if connection.vendor == "postgresql":
        tsquery, phrase = _tsqueries(query)
    else:
        phrase = fts5_phrase(query)
    messages = _matching_messages(user, query, tsquery, conversations=conversations, since=since, until=until)
    rows = _ranked(messages, query, tsquery, phrase)
    matches = _best_per_conversation(rows)
    count = len(matches)
    if after is not None:
        position = decode_cursor(after)
        matches = [m for m in matches if (m.score, m.conversation_id) < position]
    page, rest = matches[:size], matches[size:]
    message_ids = [m.message_id for m in page]
    shown = {row["id"]: row for row in selectors.conversation_rows(user).filter(id__in=[m.conversation_id for m in page])}
    details = {m["id"]: m for m in Message.objects.filter(id__in=message_ids).values(
        "id", "channel", "kind", "direction", "created_at")}
    return Page(
        matches=page, snippets=_snippets(message_ids, query, tsquery), rows=shown, messages=details,
        next_cursor=encode_cursor(page[-1]) if rest else None, count=count, capped=len(rows) >= CANDIDATES,
    )


def count_conversations(user, query: Query, *, conversations: QuerySet | None = None,
                        since: datetime | None = None, until: datetime | None = None) -> tuple[int, bool]:
    """How many conversations a search finds (at most among `CANDIDATES` messages), and whether it
    found more messages than that."""
    if query.empty:
        conversations = conversations if conversations is not None else selectors.visible_conversations(user)
        found = conversations.values("pk")[: CANDIDATES + 1].count()
        return min(found, CANDIDATES), found > CANDIDATES
    tsquery = _tsqueries(query)[0] if connection.vendor == "postgresql" else None
    newest = _matching_messages(user, query, tsquery, conversations=conversations, since=since, until=until)
    ids = newest.order_by("-created_at", "-id").values("conversation_id")[:CANDIDATES]
    sql, params = ids.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(DISTINCT h.conversation_id), count(*) FROM ({sql}) h", params)
        found, messages = cursor.fetchone()
    return found, messages >= CANDIDATES


# ----------------------------------------------------------------------------- contacts
class Unaccent(Func):
    function = "heron_unaccent"  # search/index.py: immutable, so the trigram indexes can use it
    output_field = CharField()


def _closeness(q: str) -> Func:
    return Func(*(Func(Unaccent(Value(q)), Unaccent(F("name")), function=function, output_field=FloatField())
                  for function in ("similarity", "word_similarity")), function="greatest", output_field=FloatField())


def contacts_matching(q: str) -> Q:
    """Contacts whose name, email or phone (in any format) contains `q`; on PostgreSQL also names and
    addresses that look like it (trigram similarity: typos, missing accents), each condition one
    the trigram indexes of search's migration 0003 answer."""
    q = q.strip()
    try:
        phone = normalize_phone(q)
    except InvalidIdentity:
        phone = None
    if connection.vendor != "postgresql":
        identities = Identity.objects.filter(contact=OuterRef("pk"))
        match = Q(name__icontains=q) | Exists(identities.filter(value__icontains=q.lower()))
        return match | Exists(identities.filter(kind="phone", value=phone)) if phone else match
    like = "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    similar = "OR heron_unaccent(name) %% heron_unaccent(%s) OR heron_unaccent(%s) <%% heron_unaccent(name)"
    sql = (f"SELECT id FROM inbox_contact WHERE heron_unaccent(name) ILIKE heron_unaccent(%s) "
           f"{similar if len(q) >= 3 else ''} "
           "UNION SELECT contact_id FROM inbox_identity WHERE value ILIKE %s"
           f"{' OR value %% %s' if len(q) >= 3 else ''}{' OR (kind = %s AND value = %s)' if phone else ''}")
    params = [like, *([q, q] if len(q) >= 3 else []), like.lower(), *([q.lower()] if len(q) >= 3 else []),
              *(["phone", phone] if phone else [])]
    return Q(pk__in=RawSQL(sql, params))


def search_contacts(user, q: str, limit: int = CONTACTS_SHOWN) -> list[tuple[Contact, list[Identity]]]:
    """The contacts the reader may see that match, closest first, each with the identities that matched."""
    contacts = selectors.visible_contacts(user).filter(contacts_matching(q))
    if connection.vendor == "postgresql":
        contacts = contacts.annotate(closeness=_closeness(q.strip())).order_by("-closeness", "name", "id")
    else:
        contacts = contacts.order_by("name", "id")
    found = list(contacts.prefetch_related("identities")[:limit])
    return [(contact, _identities_matching(contact, q)) for contact in found]


def _identities_matching(contact: Contact, q: str) -> list[Identity]:
    needle = q.strip().lower()
    try:
        phone = normalize_phone(q)
    except InvalidIdentity:
        phone = None
    return [i for i in contact.identities.all() if needle in i.value.lower() or (phone and i.value == phone)]
