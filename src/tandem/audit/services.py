"""Audit entries for writes that bypass ``save()``: bulk inserts and queryset updates.

django-auditlog records every ``save()`` and ``delete()`` of a registered model by itself. Bulk
paths (rules opening thousands of CTAs, imports, queue updates) call these in the same
transaction, so the history has no holes and costs one multi-row INSERT per batch.

Entries go in as plain rows through :func:`tandem.core.bulk.insert_rows` (multi-row INSERT on
SQLite, COPY on PostgreSQL): building an ``AuditEntry`` per row and letting ``bulk_create``
prepare it costs several times more than the insert itself, which the rules benchmark showed.
Values are stored the way django-auditlog stores them with ``AUDITLOG_STORE_JSON_CHANGES``
(datetimes naive UTC, ids for foreign keys), so the history reads the same whatever wrote it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import orjson
from django.contrib.contenttypes.models import ContentType
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, models
from django.dispatch import Signal
from django.utils import timezone

from tandem.audit.context import current_scope, set_process_via
from tandem.audit.models import AuditEntry
from tandem.audit.registry import audited_field_names, is_audited
from tandem.core.bulk import db_value, insert_rows, max_query_params, table_columns

__all__ = [
    "AuditChange",
    "audit_bulk",
    "audit_bulk_created",
    "audit_bulk_update",
    "audit_rows_written",
    "changes_json",
    "json_value",
    "set_process_via",
]

_ENCODER = DjangoJSONEncoder()
# Sent after a bulk write's entries are inserted (in its transaction), with what identifies them:
# content_type_id, timestamp and object_ids. Single entries are ordinary saves of AuditEntry.
# The webhooks outbox listens; the audit app does not know who else wants to hear of changes.
bulk_entries_written = Signal()
UPDATE_CHUNK = 5000
ENTRY_FIELDS = (
    "content_type",
    "object_pk",
    "object_id",
    "object_repr",
    "action",
    "changes_text",
    "changes",
    "actor",
    "actor_email",
    "remote_addr",
    "timestamp",
    "additional_data",
    "via",
    "account_id",
)


def json_value(value: Any) -> Any:
    """A field value as django-auditlog's JSON changes hold it."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return _json_default(value)


def _json_default(value: Any) -> Any:
    """What orjson cannot write itself, or writes otherwise than django-auditlog (datetimes)."""
    if isinstance(value, models.Model):
        return value.pk
    if isinstance(value, dt.datetime):
        if timezone.is_aware(value):
            value = timezone.make_naive(value, dt.UTC)
        return _ENCODER.default(value)
    if isinstance(value, dt.date | dt.time | Decimal):
        return _ENCODER.default(value)
    return str(value)


def changes_json(changes: Mapping[str, tuple[Any, Any]] | None) -> str:
    """``{field: [before, after]}`` as the entry's JSON text, in one orjson call (the bulk hot path)."""
    if not changes:
        return "{}"
    return orjson.dumps(
        {name: [old, new] for name, (old, new) in changes.items()},
        default=_json_default,
        option=orjson.OPT_PASSTHROUGH_DATETIME,
    ).decode()


def _created_json(columns: Sequence[str], values: Sequence[Any]) -> str:
    """A creation entry's changes: each field set, from nothing (empty ones are left out, as they read the same)."""
    return orjson.dumps(
        {name: [None, value] for name, value in zip(columns, values, strict=True) if value is not None},
        default=_json_default,
        option=orjson.OPT_PASSTHROUGH_DATETIME,
    ).decode()


@dataclass(frozen=True)
class AuditChange:
    """One object's change for a bulk entry: its id, how it reads, its account and field changes."""

    object_id: int
    object_repr: str
    account_id: int | None = None
    changes: Mapping[str, tuple[Any, Any]] | None = None


def audit_bulk(*, model: type[models.Model], action: int, items: Iterable[AuditChange]) -> int:
    """Record one entry per changed object written by a bulk statement; returns how many.

    Runs in the caller's transaction, so the entries commit or roll back with the rows.
    """
    return _insert_entries(
        model=model,
        action=action,
        entries=((i.object_id, i.object_repr, i.account_id, changes_json(i.changes)) for i in items),
    )


def _insert_entries(
    *, model: type[models.Model], action: int, entries: Iterable[tuple[int, str, int | None, str]]
) -> int:
    """Insert ``(object id, repr, account id, changes JSON)`` entries with the current scope's actor and path."""
    entries = list(entries)
    if not entries:
        return 0
    now = timezone.now()
    count = _insert_entries_at(model=model, action=action, entries=entries, now=now)
    bulk_entries_written.send(
        sender=AuditEntry,
        content_type_id=ContentType.objects.get_for_model(model).pk,
        timestamp=now,
        object_ids=[pk for pk, _text, _account, _changes in entries],
    )
    return count


def _insert_entries_at(
    *, model: type[models.Model], action: int, entries: list[tuple[int, str, int | None, str]], now: dt.datetime
) -> int:
    scope = current_scope()
    actor = scope.resolved_actor()
    content_type_id = ContentType.objects.get_for_model(model).pk
    actor_id = actor.pk if actor is not None else None
    actor_email = (actor.email or None) if actor is not None else None
    remote_addr = scope.remote_addr()
    extra = orjson.dumps(scope.extra).decode() if scope.extra else None
    stamp = db_value(AuditEntry, "timestamp", now)
    via = scope.via
    if connection.vendor == "sqlite":
        shared = [content_type_id, action, actor_id, actor_email, remote_addr, stamp, extra, via]
        return _insert_sqlite(
            shared, [(pk, text[:500], changes, account_id) for pk, text, account_id, changes in entries]
        )
    rows = [
        (
            content_type_id,
            str(pk),
            pk,
            text[:500],
            action,
            "",
            changes,
            actor_id,
            actor_email,
            remote_addr,
            stamp,
            extra,
            via,
            account_id,
        )
        for pk, text, account_id, changes in entries
    ]
    insert_rows(model=AuditEntry, fields=ENTRY_FIELDS, rows=rows)  # COPY on PostgreSQL
    return len(rows)


SQLITE_ROWS_PER_STATEMENT = 2000


def _insert_sqlite(shared: list[Any], rows: list[tuple[int, str, str, int | None]]) -> int:
    """SQLite: the values every entry of the batch shares go in once per statement, not once per row.

    Binding parameters is most of the cost of a multi-row INSERT from Python (about a microsecond
    each); ``INSERT ... SELECT <shared values>, v.* FROM (VALUES (id, repr, changes, account), ...)``
    binds four per entry instead of fourteen.
    """
    if not rows:
        return 0
    qn = connection.ops.quote_name
    columns = ", ".join(qn(c) for c in table_columns(AuditEntry, ENTRY_FIELDS))
    # In ENTRY_FIELDS order; column1..4 are (object id, repr, changes, account id) of each row.
    select = "SELECT %s, CAST(column1 AS TEXT), column1, column2, %s, '', column3, %s, %s, %s, %s, %s, %s, column4"
    head = f"INSERT INTO {qn(AuditEntry._meta.db_table)} ({columns}) {select} FROM (VALUES "
    per_statement = max(1, min(SQLITE_ROWS_PER_STATEMENT, (max_query_params() - len(shared)) // 4))
    with connection.cursor() as cursor:
        for start in range(0, len(rows), per_statement):
            chunk = rows[start : start + per_statement]
            sql = head + ", ".join(["(%s, %s, %s, %s)"] * len(chunk)) + ")"
            cursor.execute(sql, [*shared, *(value for row in chunk for value in row)])
    return len(rows)


def _repr(model: type[models.Model], pk: Any) -> str:
    return f"{model._meta.verbose_name} #{pk}"


def audit_bulk_update(
    *,
    queryset: models.QuerySet[Any],
    values: Mapping[str, Any],
    account_field: str | None = "account_id",
) -> int:
    """``queryset.update(**values)`` with one audit entry per row that changed; returns rows updated.

    The rows' current values are read first (one query) so each entry has the real before value.
    Values must be plain values, not expressions (``F()``), whose result is not known here.
    """
    model = queryset.model
    names = list(values)
    columns = ["pk", *[model._meta.get_field(n).attname for n in names]]
    if account_field:
        columns.append(account_field)
    before = list(queryset.values_list(*columns))
    if not before:
        return 0
    updated = 0
    for start in range(0, len(before), UPDATE_CHUNK):  # bound the parameters of one statement
        chunk = before[start : start + UPDATE_CHUNK]
        updated += queryset.filter(pk__in=[row[0] for row in chunk]).update(**values)
    audited = audited_field_names(model)
    plain = {n: (v.pk if isinstance(v, models.Model) else v) for n, v in values.items()}
    items: list[AuditChange] = []
    for row in before:
        changes = {
            name: (row[1 + i], plain[name])
            for i, name in enumerate(names)
            if name in audited and row[1 + i] != plain[name]
        }
        if changes:
            items.append(
                AuditChange(
                    object_id=row[0],
                    object_repr=_repr(model, row[0]),
                    account_id=row[-1] if account_field else None,
                    changes=changes,
                )
            )
    audit_bulk(model=model, action=AuditEntry.Action.UPDATE, items=items)
    return updated


def audit_bulk_created(
    *,
    model: type[models.Model],
    rows: Iterable[tuple[int, str, int | None, Sequence[Any]]],
    columns: Sequence[str] = (),
) -> int:
    """Entries for rows a bulk INSERT created: ``(id, repr, account_id, values)`` per row.

    ``values`` are, in ``columns`` order, what the entry shows as each field's value after (empty
    ones are left out); the caller passes the fields a reader needs, not necessarily every column
    (see the rules engine). Plain tuples rather than a dict per row: this is the hot path of rule
    evaluation.
    """
    return _insert_entries(
        model=model,
        action=AuditEntry.Action.CREATE,
        entries=((pk, text, account_id, _created_json(columns, values)) for pk, text, account_id, values in rows),
    )


def audit_rows_written(
    *,
    model: type[models.Model],
    created: Sequence[models.Model] = (),
    updated: Sequence[tuple[Mapping[str, Any], models.Model]] = (),
    fields: Sequence[str] | None = None,
    describe: Callable[[Any], str] | None = None,
    account: Callable[[Any], int | None] | None = None,
) -> int:
    """Entries for model instances written with ``bulk_create`` or a raw UPDATE (imports, the demo).

    ``created`` are saved instances (their pk set); ``updated`` pairs each instance with its stored
    values before the write (by attname). Only audited fields are recorded, and ``fields`` (by
    attname), when given, restricts them to the columns the write set. ``describe`` names an
    instance for the entry (default ``str()``; pass one for models whose ``__str__`` reads a
    relation, which would cost a query per row); ``account`` likewise gives an instance's account
    id where the registry would read it through a relation.
    """
    if not is_audited(model):
        return 0
    from tandem.audit.registry import account_id_of

    audited = audited_field_names(model)
    concrete = [f for f in model._meta.concrete_fields if f.name in audited]
    if fields is not None:
        wanted = set(fields)
        concrete = [f for f in concrete if f.attname in wanted or f.name in wanted]
    attnames = [(f.name, f.attname) for f in concrete]
    name_of = describe or _safe_str
    account_of = account or account_id_of
    items: list[AuditChange] = []
    for instance in created:
        changes = {}
        for name, attname in attnames:
            value = getattr(instance, attname)
            if value is not None and value != "":
                changes[name] = (None, value)
        items.append(AuditChange(instance.pk, name_of(instance), account_of(instance), changes))
    count = audit_bulk(model=model, action=AuditEntry.Action.CREATE, items=items)
    items = []
    for stored, instance in updated:
        changes = {}
        for name, attname in attnames:
            old, new = stored.get(attname), getattr(instance, attname)
            if old != new and _comparable(old) != _comparable(new):
                changes[name] = (old, new)
        if changes:
            items.append(AuditChange(instance.pk, name_of(instance), account_of(instance), changes))
    return count + audit_bulk(model=model, action=AuditEntry.Action.UPDATE, items=items)


def _safe_str(instance: models.Model) -> str:
    try:
        return str(instance)
    except Exception:  # a __str__ that reads a relation not loaded in a bulk write
        return _repr(type(instance), instance.pk)


def _comparable(value: Any) -> Any:
    if isinstance(value, Decimal):
        return value.normalize()
    if isinstance(value, dt.datetime) and timezone.is_aware(value):
        return value.astimezone(dt.UTC)
    if value is not None and not isinstance(value, str | int | float | bool | dt.date):
        return str(value)  # e.g. django_countries' Country, compared by code
    return value
