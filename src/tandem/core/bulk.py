"""Set-based inserts of plain rows, for the hot paths that write tens of thousands of rows at once.

Two shapes. ``insert_rows``: many rows per statement, ids back with ``RETURNING``, conflicts skipped
(rule evaluation opening CTAs, tasks, notifications, jobs). ``executemany_rows``: a stream of rows
sent with ``executemany`` in large batches, nothing returned (daily rebuilds of current metric values
and health scores).

Django's ``bulk_create`` prepares every value of every model instance through its field and
compiles a statement per batch, and with ``ignore_conflicts`` it cannot say which rows went in.
Rule evaluation opens tens of thousands of CTAs, tasks, notifications and jobs at once, so the hot
paths build rows as tuples of values already adapted for the database (``db_value``) and insert
them here. SQLite (3.35 and later) gets ``INSERT ... VALUES (...), (...) [ON CONFLICT DO NOTHING]
[RETURNING ...]`` with up to 1,000 rows per statement. PostgreSQL gets the rows by ``COPY`` into a
staging table and one ``INSERT ... SELECT`` from it: a long parameterised statement is parsed on
every call, and arrays of parameters are built in Python, both of which cost more than the insert.
Rows skipped by ``ON CONFLICT`` are not returned, so a caller learns exactly the rows its own
statement inserted. JSON columns take JSON text.

Daily rebuilds of derived tables (current metric values, current health scores) go through
``executemany_rows``: creating a model instance per row and letting ``bulk_create`` render it costs
about 50-90 microseconds a row; preparing each value once and sending the rows with ``executemany``
costs a few, on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from itertools import islice
from typing import Any

import orjson
from django.conf import settings
from django.db import connection, models, transaction

from tandem.core.models import column_name, concrete_field

ROWS_PER_STATEMENT = 1000
# Keys per IN (...) lookup: SQLite allows 999 bound parameters per statement in older builds.
IN_CHUNK = 900
EXECUTEMANY_BATCH = 20_000


def db_value(model: type[models.Model], field_name: str, value: Any) -> Any:
    """``value`` converted for the current database the way the ORM would save it (dates, JSON, ...)."""
    return concrete_field(model, field_name).get_db_prep_save(value, connection)


def _max_params() -> int:
    """Bound parameters one statement may carry. Django says 999 for SQLite; 3.32 and later allow 32,766."""
    if connection.vendor == "sqlite":
        import sqlite3

        connection.ensure_connection()
        return connection.connection.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)
    return connection.features.max_query_params or 65535


max_query_params = _max_params


def table_columns(model: type[models.Model], field_names: Sequence[str]) -> list[str]:
    return [column_name(model, name) for name in field_names]


def insert_rows(
    *,
    model: type[models.Model],
    fields: Sequence[str],
    rows: Sequence[Sequence[Any]],
    returning: Sequence[str] = (),
    ignore_conflicts: bool = False,
) -> list[tuple[Any, ...]]:
    """Insert ``rows`` (tuples of db-ready values in ``fields`` order); returns the ``returning`` columns.

    With ``ignore_conflicts`` a row that breaks any unique constraint (including partial ones) is
    skipped and absent from the result.
    """
    if not rows:
        return []
    if connection.vendor == "postgresql":
        return _insert_copy(
            model=model, fields=fields, rows=rows, returning=returning, ignore_conflicts=ignore_conflicts
        )
    return _insert_values(model=model, fields=fields, rows=rows, returning=returning, ignore_conflicts=ignore_conflicts)


def _insert_values(
    *,
    model: type[models.Model],
    fields: Sequence[str],
    rows: Sequence[Sequence[Any]],
    returning: Sequence[str],
    ignore_conflicts: bool,
) -> list[tuple[Any, ...]]:
    """``INSERT ... VALUES (...), (...) [RETURNING ...]``, many rows per statement (any database)."""
    qn = connection.ops.quote_name
    columns = table_columns(model, fields)
    max_params = _max_params()
    per_statement = max(1, min(ROWS_PER_STATEMENT, max_params // len(columns)))
    row_sql = "(" + ", ".join(["%s"] * len(columns)) + ")"
    head = f"INSERT INTO {qn(model._meta.db_table)} ({', '.join(qn(c) for c in columns)}) VALUES "
    tail = " ON CONFLICT DO NOTHING" if ignore_conflicts else ""
    if returning:
        tail += " RETURNING " + ", ".join(qn(c) for c in table_columns(model, returning))
    out: list[tuple[Any, ...]] = []
    with connection.cursor() as cursor:
        full_sql = None
        for start in range(0, len(rows), per_statement):
            chunk = rows[start : start + per_statement]
            if len(chunk) == per_statement and full_sql is not None:
                sql = full_sql
            else:
                sql = head + ", ".join([row_sql] * len(chunk)) + tail
                if len(chunk) == per_statement:
                    full_sql = sql
            cursor.execute(sql, [value for row in chunk for value in row])
            if returning:
                out.extend(tuple(r) for r in cursor.fetchall())
    return out


def _insert_copy(
    *,
    model: type[models.Model],
    fields: Sequence[str],
    rows: Sequence[Sequence[Any]],
    returning: Sequence[str],
    ignore_conflicts: bool,
) -> list[tuple[Any, ...]]:
    """PostgreSQL: COPY the rows into a session-local staging table, then one INSERT ... SELECT.

    COPY streams rows through psycopg's C writer; the INSERT keeps ON CONFLICT and RETURNING, which
    COPY alone cannot do. The staging table holds only these columns, without constraints, and is
    emptied before each use; its name depends on the column list, as callers insert different ones.
    """
    qn = connection.ops.quote_name
    table = model._meta.db_table
    columns = table_columns(model, fields)
    column_list = ", ".join(qn(c) for c in columns)
    digest = hashlib.blake2s(",".join(columns).encode(), digest_size=4).hexdigest()
    staging = qn(f"_bulk_{table}_{digest}")
    sql = f"INSERT INTO {qn(table)} ({column_list}) SELECT {column_list} FROM {staging}"
    if ignore_conflicts:
        sql += " ON CONFLICT DO NOTHING"
    if returning:
        sql += " RETURNING " + ", ".join(qn(c) for c in table_columns(model, returning))
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TEMP TABLE IF NOT EXISTS {staging} AS SELECT {column_list} FROM {qn(table)} WITH NO DATA"
        )
        cursor.execute(f"TRUNCATE {staging}")
        with cursor.cursor.copy(f"COPY {staging} ({column_list}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        cursor.execute(sql)
        return [tuple(r) for r in cursor.fetchall()] if returning else []


def insert_instances(model: type[models.Model], instances: Sequence[models.Model]) -> bool:
    """INSERT new, unsaved instances and set their ids, as ``bulk_create`` would; False if it cannot.

    ``bulk_create`` costs about 60 microseconds a row in Python (a compiled placeholder and a
    prepared parameter per value, through several layers); here each value goes once through its
    field's ``pre_save`` (``auto_now_add``) and ``get_db_prep_save`` into a plain multi-row INSERT
    with ``RETURNING`` the ids in row order (as ``bulk_create`` relies on too). Instances that
    need what only ``bulk_create`` does (a pk already set, database defaults, generated columns,
    expressions as values, multi-table inheritance) make it return False having written nothing,
    and the caller uses ``bulk_create``.
    """
    from django.db.models.expressions import DatabaseDefault
    from django.db.models.fields import AutoFieldMixin

    meta = model._meta
    if not instances:
        return True
    if meta.parents or any(f.generated or f.has_db_default() for f in meta.concrete_fields):
        return False
    if any(obj.pk is not None for obj in instances):
        return False
    fields = [f for f in meta.concrete_fields if not isinstance(f, AutoFieldMixin)]
    if len(fields) == len(meta.concrete_fields) or any(hasattr(f, "get_placeholder") for f in fields):
        return False  # no auto-increment id to return, or a field with its own SQL placeholder
    prepare = [_value_preparer(f) for f in fields]
    rows: list[tuple[Any, ...]] = []
    for obj in instances:
        # A related object's new id, as bulk_create does (Django's private API, not in the stubs).
        obj._prepare_related_fields_for_save(operation_name="bulk_create")  # type: ignore[attr-defined]
        values = [f.pre_save(obj, True) for f in fields]
        if any(hasattr(v, "resolve_expression") or isinstance(v, DatabaseDefault) for v in values):
            return False
        rows.append(tuple(p(v) for p, v in zip(prepare, values, strict=True)))
    with transaction.atomic(savepoint=False):
        ids = _insert_values(
            model=model, fields=[f.name for f in fields], rows=rows, returning=[meta.pk.name], ignore_conflicts=False
        )
    for obj, (pk,) in zip(instances, ids, strict=True):
        obj.pk = pk
        obj._state.adding = False
        obj._state.db = connection.alias
    return True


# Fields whose get_db_prep_save() returns a value of these exact types unchanged, on every backend
# (CharField.to_python of a str, int() of an int, an id for a foreign key to an integer key, ...).
_PASS_THROUGH: dict[type[models.Field[Any, Any]], tuple[type, ...]] = {
    **{cls: (str, type(None)) for cls in (models.CharField, models.TextField, models.EmailField, models.URLField)},
    **{
        cls: (int, type(None))
        for cls in (
            models.IntegerField,
            models.BigIntegerField,
            models.SmallIntegerField,
            models.PositiveIntegerField,
            models.PositiveSmallIntegerField,
            models.PositiveBigIntegerField,
        )
    },
    models.BooleanField: (bool, type(None)),
    models.FloatField: (float, type(None)),
}


def _value_preparer(field: models.Field[Any, Any]) -> Callable[[Any], Any]:
    """``field.get_db_prep_save(value, connection)``, skipping the call where it would change nothing.

    That call is most of the cost of inserting rows from Python (several layers per value, about
    15 microseconds for an aware datetime on SQLite); the common cases are answered here first.
    """
    prep = field.get_db_prep_save
    plain = _PASS_THROUGH.get(type(field))
    if plain is None and isinstance(field, models.ForeignKey | models.OneToOneField):
        target = field.target_field
        if isinstance(target, models.AutoField | models.BigAutoField | models.SmallAutoField):
            plain = (int, type(None))
    if plain is not None:
        return lambda value: value if type(value) in plain else prep(value, connection)
    if type(field) is models.DateTimeField and connection.vendor == "sqlite" and settings.USE_TZ:
        # SQLite's adapter: an aware datetime as naive text in the connection's time zone.
        tz = connection.timezone

        def datetime_value(value: Any) -> Any:
            if type(value) is dt.datetime and value.utcoffset() is not None:
                return str(value.astimezone(tz).replace(tzinfo=None))
            return prep(value, connection)

        return datetime_value
    return lambda value: prep(value, connection)


def executemany_rows(model: type[models.Model], fields: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
    """INSERT ``rows`` (already prepared values, in the order of ``fields``) into ``model``'s table.

    Runs in the caller's transaction. Returns the number of rows written.
    """
    meta = model._meta
    quote = connection.ops.quote_name
    columns = ", ".join(quote(column_name(model, f)) for f in fields)
    placeholders = ", ".join(["%s"] * len(fields))
    sql = f"INSERT INTO {quote(meta.db_table)} ({columns}) VALUES ({placeholders})"
    written = 0
    iterator = iter(rows)
    with connection.cursor() as cursor:
        while batch := list(islice(iterator, EXECUTEMANY_BATCH)):
            cursor.executemany(sql, batch)
            written += len(batch)
    return written


def json_adapter() -> Callable[[Any], Any]:
    """A function turning a JSON-able value into a parameter for a JSON column of this database.

    orjson instead of json.dumps (5-10x faster; the text is compact, which both databases read back
    the same); on PostgreSQL wrapped as ``Jsonb``, as Django's JSONField does.
    """

    def dumps(value: Any) -> str:
        return orjson.dumps(value).decode()

    if connection.vendor == "postgresql":
        from psycopg.types.json import Jsonb

        return lambda value: Jsonb(value, dumps=dumps)
    return dumps


def fetch_in_chunks(
    queryset: models.QuerySet[Any], lookup: str, keys: Iterable[Any], *fields: str
) -> Iterator[dict[str, Any]]:
    """``queryset.filter(<lookup>__in=keys).values(*fields)`` in parameter-safe chunks."""
    key_list = list(dict.fromkeys(keys))
    for start in range(0, len(key_list), IN_CHUNK):
        chunk = key_list[start : start + IN_CHUNK]
        yield from queryset.filter(**{f"{lookup}__in": chunk}).values(*fields)


def update_rows(model: type[models.Model], instances: Sequence[models.Model], fields: Sequence[str]) -> None:
    """One parameterised UPDATE per row through executemany.

    QuerySet.bulk_update builds a CASE WHEN expression per field per batch, which costs about
    half a millisecond a row in Python; executemany of a single prepared statement is ~20x
    cheaper and still converts every value with the field's own get_db_prep_save().
    """
    if not instances:
        return
    meta = model._meta
    columns = [concrete_field(model, name) for name in fields]
    quote = connection.ops.quote_name
    assignments = ", ".join(f"{quote(column_name(model, name))} = %s" for name in fields)
    sql = f"UPDATE {quote(meta.db_table)} SET {assignments} WHERE {quote(column_name(model, meta.pk.name))} = %s"
    params = [
        [c.get_db_prep_save(getattr(obj, c.attname), connection) for c in columns] + [obj.pk] for obj in instances
    ]
    with connection.cursor() as cursor:
        cursor.executemany(sql, params)
