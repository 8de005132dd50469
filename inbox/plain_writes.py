"""INSERTs and UPDATEs as plain statements, for the rows every webhook writes.

Django builds and compiles an INSERT or UPDATE anew on every `save()`, which costs more CPU than
PostgreSQL takes to run it. These helpers write the columns a save would write, with the values it
would write (each field's `pre_save`, so `auto_now` and `auto_now_add` apply, then its
`get_db_prep_save`), in a statement built once per model and set of fields.

They send no model signals and store no files: they write only the `WRITTEN` models, which have
neither receivers nor file fields (`tests/test_plain_writes.py` checks both, and compares each write
with `save()`). inbox/loop_writes.py and the event INSERT (inbox/services/events.py) use them too.
"""

from __future__ import annotations

import json
from datetime import datetime
from functools import cache

from django.db import DEFAULT_DB_ALIAS, DatabaseError, IntegrityError, connection, connections, transaction
from django.db.models import Field, Model
from psycopg import Binary
from psycopg.types.json import Json, Jsonb

from inbox.models import Contact, Conversation, Event, Identity, Message, RawInboundEvent

WRITTEN = (Contact, Conversation, Event, Identity, Message, RawInboundEvent)


def insert(instance: Model) -> None:
    """`instance.save()` of a new row: every concrete column but an auto primary key; sets the key."""
    with connection.cursor() as cursor:
        cursor.execute(_insert_sql(type(instance)), _insert_values(instance))
        (pk,) = cursor.fetchone()
    inserted(instance, pk)


def _insert_values(instance: Model) -> list:
    return [field.get_db_prep_save(field.pre_save(instance, add=True), connection)
            for field in _insert_fields(type(instance))]


def insert_many_statement(instances: list[Model], *, lock: int | None = None) -> tuple[str, list]:
    """PostgreSQL: one INSERT of new rows of one model, returning their keys in the order given
    (with `lock`, drawn once that transaction-scoped advisory lock is held).

    The rows go as one JSON document, expanded by `json_to_recordset`: one string for the driver to
    send, where an array per column (as `bulk_create` sends them) is adapted element by element. The
    statement is the same text for any number of rows, so the server plans it once; RETURNING follows
    the document's order. Each value is the one `save()` would send, as JSON: a bytea column travels
    as hex, a json(b) column as the text the field's encoder made, a timestamp in ISO 8601.
    """
    model = type(instances[0])
    db = connections[DEFAULT_DB_ALIAS]  # not the `connection` proxy: a context-local lookup per use, on the loop
    fields = _insert_fields(model)
    rows = [{field.column: _json_value(field.get_db_prep_save(field.pre_save(instance, add=True), db))
             for field in fields} for instance in instances]
    return _insert_many_sql(model, locked=lock is not None), [*([lock] if lock is not None else []), json.dumps(rows)]


def _json_value(value):
    """A value as `get_db_prep_save` gives it, as the JSON `_insert_many_sql` reads it back."""
    if value is None or isinstance(value, str | int):  # bool and TextChoices included
        return value
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Json | Jsonb):
        return (value.dumps or json.dumps)(value.obj)
    if isinstance(value, Binary | bytes | memoryview):
        return bytes(getattr(value, "obj", value)).hex()
    raise TypeError(f"insert_many_statement cannot send a {type(value).__name__} as JSON")


def inserted(instance: Model, pk: int) -> None:
    """The instance is now the stored row `pk`, as after `save()`."""
    instance.pk = pk
    instance._state.adding = False
    instance._state.db = connection.alias


def update(instance: Model, field_names: tuple[str, ...]) -> None:
    """`instance.save(update_fields=field_names)` of an existing row."""
    with connection.cursor() as cursor:
        cursor.execute(_update_sql(type(instance), field_names), [*_update_values(instance, field_names), instance.pk])
        if cursor.rowcount != 1:  # what save(update_fields=...) says of a row that is gone
            raise DatabaseError("Save with update_fields did not affect any rows.")


def _update_values(instance: Model, field_names) -> list:
    return [field.get_db_prep_save(field.pre_save(instance, add=False), connection)
            for field in (type(instance)._meta.get_field(name) for name in field_names)]


def insert_then_update(new: Model, existing: Model, field_names: tuple[str, ...]) -> None:
    """`insert(new)`, then `update(existing, field_names)`, in one round trip on PostgreSQL.

    A foreign key among `field_names` that points at `new` (an inbound message becoming its
    conversation's last message) gets the key the INSERT draws: both rows are written by one
    statement, the UPDATE taking the key from the INSERT's RETURNING.
    """
    model = type(existing)
    links = tuple(name for name in field_names if _points_at(existing, model._meta.get_field(name), new))
    if connection.vendor != "postgresql":  # no data-modifying WITH: two statements
        insert(new)
        for name in links:
            setattr(existing, name, new)  # now with its key
        update(existing, field_names)
        return
    values = _update_values(existing, [name for name in field_names if name not in links])
    with connection.cursor() as cursor:
        cursor.execute(_insert_then_update_sql(type(new), model, field_names, links),
                       [*_insert_values(new), *values, existing.pk])
        row = cursor.fetchone()
    if row is None:  # as `update`; the transaction rolls back
        raise DatabaseError("Save with update_fields did not affect any rows.")
    inserted(new, row[0])
    for name in links:
        setattr(existing, name, new)


def insert_unless_taken(child: Model, parent: Model, *, link: str, unique_on: tuple[str, ...]) -> bool:
    """`insert(parent)`, then `insert(child)` pointing at it through `link`, unless a row with the
    child's values of `unique_on` (a unique constraint's fields) is there already: then neither is
    written, and False.

    A new customer's contact and identity, in one round trip instead of four (a savepoint, two
    INSERTs, its release). On PostgreSQL one statement: the child takes the parent's next key, `ON
    CONFLICT DO NOTHING` on the child decides, and the parent is written only if the child was (the
    foreign key is checked at commit); a concurrent transaction writing the same child waits for ours
    to commit, then writes nothing. Elsewhere, the two INSERTs in a savepoint.
    """
    link_field = type(child)._meta.get_field(link)
    if connection.vendor != "postgresql":
        try:
            with transaction.atomic():
                insert(parent)
                setattr(child, link, parent)
                insert(child)
            return True
        except IntegrityError:
            return False
    child_values = _insert_values(child)
    del child_values[_insert_fields(type(child)).index(link_field)]  # the statement draws the parent's next key
    with connection.cursor() as cursor:
        cursor.execute(_insert_unless_taken_sql(type(child), type(parent), link_field, unique_on),
                       [*child_values, *_insert_values(parent)])
        row = cursor.fetchone()
    if row is None:
        return False
    child_pk, parent_pk = row
    inserted(parent, parent_pk)
    setattr(child, link, parent)
    inserted(child, child_pk)
    return True


@cache
def _insert_unless_taken_sql(child_model: type[Model], parent_model: type[Model], link_field: Field,
                             unique_on: tuple[str, ...]) -> str:
    child_fields, parent_fields = _insert_fields(child_model), _insert_fields(parent_model)
    parent_pk = parent_model._meta.pk.column
    child_values = ", ".join(
        f"nextval(pg_get_serial_sequence('\"{parent_model._meta.db_table}\"', '{parent_pk}'))"
        if field is link_field else "%s"
        for field in child_fields
    )
    conflict = ", ".join(f'"{child_model._meta.get_field(name).column}"' for name in unique_on)
    parent_columns = ", ".join(f'"{field.column}"' for field in parent_fields)
    parent_values = ", ".join(f"%s::{field.cast_db_type(connection)}" for field in parent_fields)
    return (
        f'WITH child AS (INSERT INTO "{child_model._meta.db_table}" '
        f'({", ".join(f'"{field.column}"' for field in child_fields)}) VALUES ({child_values}) '
        f'ON CONFLICT ({conflict}) DO NOTHING '
        f'RETURNING "{child_model._meta.pk.column}", "{link_field.column}"), '
        f'parent AS (INSERT INTO "{parent_model._meta.db_table}" ("{parent_pk}", {parent_columns}) '
        f'SELECT child."{link_field.column}", {parent_values} FROM child) '
        f'SELECT child."{child_model._meta.pk.column}", child."{link_field.column}" FROM child'
    )


def _points_at(instance: Model, field: Field, target: Model) -> bool:
    return field.is_relation and field.is_cached(instance) and field.get_cached_value(instance) is target


def _written(model: type[Model]) -> type[Model]:
    if model not in WRITTEN:
        raise TypeError(f"{model.__name__} is not written in plain SQL: its signals would be skipped")
    return model


@cache
def _insert_fields(model: type[Model]) -> list[Field]:
    return [field for field in _written(model)._meta.concrete_fields if field is not model._meta.auto_field]


@cache
def _insert_sql(model: type[Model]) -> str:
    columns = ", ".join(f'"{field.column}"' for field in _insert_fields(model))
    placeholders = ", ".join(["%s"] * len(_insert_fields(model)))
    return (
        f'INSERT INTO "{model._meta.db_table}" ({columns}) VALUES ({placeholders}) '
        f'RETURNING "{model._meta.pk.column}"'
    )


@cache
def _insert_many_sql(model: type[Model], *, locked: bool) -> str:
    fields = _insert_fields(model)
    read = [_read_from_json(field) for field in fields]
    columns = ", ".join(f'"{field.column}"' for field in fields)
    values = ", ".join(value for _, value in read)
    record = ", ".join(f'"{field.column}" {json_type}' for field, (json_type, _) in zip(fields, read, strict=True))
    return (
        ("WITH locked AS (SELECT pg_advisory_xact_lock(%s)) " if locked else "")
        + f'INSERT INTO "{model._meta.db_table}" ({columns}) SELECT {values} '
        f"FROM {'locked, ' if locked else ''}json_to_recordset(%s::json) AS given({record}) "
        f'RETURNING "{model._meta.pk.column}"'
    )


def _read_from_json(field: Field) -> tuple[str, str]:
    """The type a column is read from the JSON as (text where `_json_value` sent a string for it),
    and the expression that turns it into the column's value."""
    db_type = field.cast_db_type(connection)
    column = f'given."{field.column}"'
    if db_type == "bytea":
        return "text", f"decode({column}, 'hex')"
    if db_type in ("jsonb", "json"):
        return "text", f"{column}::{db_type}"
    return db_type, column


@cache
def _update_sql(model: type[Model], field_names: tuple[str, ...]) -> str:
    assignments = ", ".join(f'"{_written(model)._meta.get_field(name).column}" = %s' for name in field_names)
    return f'UPDATE "{model._meta.db_table}" SET {assignments} WHERE "{model._meta.pk.column}" = %s'


@cache
def _insert_then_update_sql(new_model: type[Model], model: type[Model], field_names: tuple[str, ...],
                            links: tuple[str, ...]) -> str:
    new_pk = f'"{new_model._meta.pk.column}"'
    assignments = ", ".join(
        f'"{model._meta.get_field(name).column}" = (SELECT {new_pk} FROM new_row)' if name in links
        else f'"{model._meta.get_field(name).column}" = %s'
        for name in field_names
    )
    return (
        f"WITH new_row AS ({_insert_sql(new_model)}) "
        f'UPDATE "{_written(model)._meta.db_table}" SET {assignments} WHERE "{model._meta.pk.column}" = %s '
        f"RETURNING (SELECT {new_pk} FROM new_row)"
    )
