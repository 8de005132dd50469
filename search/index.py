"""The search index rule, in one place: what of a message is searchable and with what weight.

The database keeps it, in the same transaction as the message, whoever writes the row (the ORM,
`inbox.plain_writes`, a bulk UPDATE, a merge): on PostgreSQL a trigger fills the column
`inbox_message.search_document` (a `tsvector`), on SQLite triggers keep the FTS5 table
`search_message_fts`. The column is not a model field, so no read of a message carries it.

| weight | PostgreSQL | SQLite column | what |
|---|---|---|---|
| A (1.0) | subject | `subject` | email subject |
| B (0.4) | body | `body` | the message's text (an email's new text), a voicemail's transcript |
| C (0.2) | extra | `extra` | attachment file names |
| D (0.1) | quoted | `quoted` | an email's quoted history (`metadata.quoted_text`) |

Words are indexed twice on PostgreSQL, as written (`heron_simple`: any language, stop words
kept) and stemmed (`heron_stem`, from `HERON_SEARCH_LANGUAGE`), both without accents (`unaccent`).
Changing the language needs `manage.py rebuild_search_index`. docs/search.md says why.

Migrations install the rule as this module writes it now (`install`): a change here needs a new
migration that calls `install` again, and `rebuild_search_index` if documents change.
"""

from __future__ import annotations

import re

from django.conf import settings
from django.db.backends.base.base import BaseDatabaseWrapper

SIMPLE_CONFIG = "heron_simple"
STEM_CONFIG = "heron_stem"
FTS_TABLE = "search_message_fts"
# Characters of a field that are indexed: the rest of a huge email stays findable by its start.
BODY_LIMIT, QUOTED_LIMIT = 100_000, 20_000


def language() -> str | None:
    """The snowball language words are stemmed in, or None (`simple`: no stemming)."""
    value = settings.HERON_SEARCH_LANGUAGE.strip().lower()
    if value in ("", "simple"):
        return None
    if not re.fullmatch(r"[a-z]+", value):
        raise ValueError(f"HERON_SEARCH_LANGUAGE must be a PostgreSQL text search configuration name, not {value!r}")
    return value


def configs() -> tuple[str, ...]:
    """The text search configurations a document and a query are built with."""
    return (SIMPLE_CONFIG, STEM_CONFIG) if language() else (SIMPLE_CONFIG,)


def _postgres_document(subject: str, body: str, extra: str, quoted: str) -> str:
    parts = []
    for weight, value in (("A", subject), ("B", body), ("C", extra), ("D", quoted)):
        for config in configs():
            parts.append(f"setweight(to_tsvector('{config}', coalesce({value}, '')), '{weight}')")
    return " || ".join(parts)


def postgres_install() -> list[str]:
    """Statements that (re)create the configurations, functions and triggers; idempotent."""
    stem = language()
    statements = [
        "CREATE EXTENSION IF NOT EXISTS unaccent",
        "CREATE EXTENSION IF NOT EXISTS pg_trgm",
        # unaccent() is STABLE (its dictionary could change); trigram indexes need an IMMUTABLE function.
        "CREATE OR REPLACE FUNCTION heron_unaccent(text) RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT "
        "SET search_path FROM CURRENT AS $$ SELECT unaccent('unaccent', $1) $$",
        f"DROP TEXT SEARCH CONFIGURATION IF EXISTS {SIMPLE_CONFIG}",
        f"CREATE TEXT SEARCH CONFIGURATION {SIMPLE_CONFIG} (COPY = pg_catalog.simple)",
        f"ALTER TEXT SEARCH CONFIGURATION {SIMPLE_CONFIG} ALTER MAPPING FOR hword, hword_part, word "
        "WITH unaccent, simple",
        f"DROP TEXT SEARCH CONFIGURATION IF EXISTS {STEM_CONFIG}",
    ]
    if stem:
        statements += [
            f"CREATE TEXT SEARCH CONFIGURATION {STEM_CONFIG} (COPY = pg_catalog.{stem})",
            f"ALTER TEXT SEARCH CONFIGURATION {STEM_CONFIG} ALTER MAPPING FOR hword, hword_part, word "
            f"WITH unaccent, {stem}_stem",
        ]
    document = _postgres_document("subject", "body", "extra", "quoted")
    statements += [
        "ALTER TABLE inbox_message ADD COLUMN IF NOT EXISTS search_document tsvector",
        "CREATE OR REPLACE FUNCTION heron_search_document(subject text, body text, extra text, quoted text) "
        f"RETURNS tsvector LANGUAGE sql STABLE PARALLEL SAFE AS $$ SELECT {document} $$",
        # Attachments are written after their message: an INSERT has none, an UPDATE reads them; a
        # file name is also split into its words ("label-7431.pdf" is one token to the parser).
        "CREATE OR REPLACE FUNCTION heron_message_search_document() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        "NEW.search_document := heron_search_document(NEW.subject, "
        f"left(concat_ws(' ', NEW.text, NEW.metadata->>'transcript'), {BODY_LIMIT}), "
        "CASE WHEN TG_OP = 'UPDATE' THEN (SELECT string_agg(filename || ' ' || "
        "regexp_replace(filename, '[^[:alnum:]]+', ' ', 'g'), ' ') FROM inbox_attachment WHERE message_id = NEW.id) END, "
        f"left(NEW.metadata->>'quoted_text', {QUOTED_LIMIT})); RETURN NEW; END $$",
        "DROP TRIGGER IF EXISTS heron_message_search_insert ON inbox_message",
        "CREATE TRIGGER heron_message_search_insert BEFORE INSERT ON inbox_message "
        "FOR EACH ROW EXECUTE FUNCTION heron_message_search_document()",
        # Only when a searched field changed (a delivery status update does not re-index), or the
        # document was cleared (an attachment changed, or `rebuild_search_index`).
        "DROP TRIGGER IF EXISTS heron_message_search_update ON inbox_message",
        "CREATE TRIGGER heron_message_search_update BEFORE UPDATE ON inbox_message FOR EACH ROW WHEN ("
        "NEW.search_document IS NULL OR OLD.subject IS DISTINCT FROM NEW.subject "
        "OR OLD.text IS DISTINCT FROM NEW.text "
        "OR OLD.metadata->>'transcript' IS DISTINCT FROM NEW.metadata->>'transcript' "
        "OR OLD.metadata->>'quoted_text' IS DISTINCT FROM NEW.metadata->>'quoted_text') "
        "EXECUTE FUNCTION heron_message_search_document()",
        "CREATE OR REPLACE FUNCTION heron_attachment_search_document() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        "UPDATE inbox_message SET search_document = NULL "
        "WHERE id = CASE WHEN TG_OP = 'DELETE' THEN OLD.message_id ELSE NEW.message_id END; "
        "RETURN NULL; END $$",
        "DROP TRIGGER IF EXISTS heron_attachment_search ON inbox_attachment",
        "CREATE TRIGGER heron_attachment_search AFTER INSERT OR DELETE OR UPDATE OF filename ON inbox_attachment "
        "FOR EACH ROW EXECUTE FUNCTION heron_attachment_search_document()",
    ]
    return statements


# Each SQLite statement is run on its own (a trigger body holds semicolons).
_SQLITE_ROW = (
    "{row}.subject, substr({row}.text || ' ' || coalesce(json_extract({row}.metadata, '$.transcript'), ''), 1, "
    f"{BODY_LIMIT}), "
    "coalesce((SELECT group_concat(filename, ' ') FROM inbox_attachment WHERE message_id = {row}.id), ''), "
    f"substr(coalesce(json_extract({{row}}.metadata, '$.quoted_text'), ''), 1, {QUOTED_LIMIT})"
)


def _sqlite_write(row: str) -> str:
    return (f"INSERT INTO {FTS_TABLE} (rowid, subject, body, extra, quoted) "
            f"SELECT {row}.id, {_SQLITE_ROW.format(row=row)}")


def sqlite_install() -> list[str]:
    """The FTS5 table (Porter stemming, accents removed) and the triggers that keep it; idempotent."""
    return [
        f"CREATE VIRTUAL TABLE IF NOT EXISTS {FTS_TABLE} USING fts5(subject, body, extra, quoted, "
        "tokenize = 'porter unicode61 remove_diacritics 2')",
        "DROP TRIGGER IF EXISTS heron_message_search_insert",
        f"CREATE TRIGGER heron_message_search_insert AFTER INSERT ON inbox_message BEGIN {_sqlite_write('new')}; END",
        "DROP TRIGGER IF EXISTS heron_message_search_update",
        "CREATE TRIGGER heron_message_search_update AFTER UPDATE OF subject, text, metadata ON inbox_message BEGIN "
        f"DELETE FROM {FTS_TABLE} WHERE rowid = old.id; {_sqlite_write('new')}; END",
        "DROP TRIGGER IF EXISTS heron_message_search_delete",
        f"CREATE TRIGGER heron_message_search_delete AFTER DELETE ON inbox_message BEGIN "
        f"DELETE FROM {FTS_TABLE} WHERE rowid = old.id; END",
        *[
            statement
            for event, row in (("INSERT", "new"), ("DELETE", "old"), ("UPDATE OF filename", "new"))
            for statement in (
                f"DROP TRIGGER IF EXISTS heron_attachment_search_{event.split()[0].lower()}",
                f"CREATE TRIGGER heron_attachment_search_{event.split()[0].lower()} AFTER {event} ON inbox_attachment "
                f"BEGIN DELETE FROM {FTS_TABLE} WHERE rowid = {row}.message_id; "
                f"{_sqlite_write('inbox_message')} FROM inbox_message WHERE inbox_message.id = {row}.message_id; END",
            )
        ],
    ]


def install(connection: BaseDatabaseWrapper) -> None:
    """Create or replace the index machinery for `connection`'s database."""
    statements = postgres_install() if connection.vendor == "postgresql" else sqlite_install()
    with connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)


def reindex_batch(connection: BaseDatabaseWrapper, after_id: int, size: int, *, only_missing: bool) -> int | None:
    """(Re)index the messages with ids in (after_id, after_id + size]; the last id looked at, or
    None when none is left. One short statement: writers wait at most for this batch's rows."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT max(id) FROM inbox_message")
        (last,) = cursor.fetchone()
        if last is None or after_id >= last:
            return None
        upper = after_id + size
        if connection.vendor == "postgresql":
            # Clearing the document makes the update trigger compute it, attachments included.
            missing = " AND search_document IS NULL" if only_missing else ""
            cursor.execute(f"UPDATE inbox_message SET search_document = NULL WHERE id > %s AND id <= %s{missing}",
                           [after_id, upper])
        else:
            cursor.execute(f"DELETE FROM {FTS_TABLE} WHERE rowid > %s AND rowid <= %s", [after_id, upper])
            cursor.execute(f"{_sqlite_write('inbox_message')} FROM inbox_message WHERE id > %s AND id <= %s",
                           [after_id, upper])
    return upper
