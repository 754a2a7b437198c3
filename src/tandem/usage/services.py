"""Writes beside the event store: the event catalogue and the import ledger."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from django.db import connection, transaction

from tandem.usage.models import EventCatalogEntry, EventImport

# Portable upsert (SQLite 3.24+ and PostgreSQL): volumes add up, first/last seen widen.
_UPSERT = """
INSERT INTO {table} (event, property, first_seen, last_seen, volume) VALUES {values}
ON CONFLICT (event, property) DO UPDATE SET
    first_seen = CASE WHEN excluded.first_seen < {table}.first_seen
        THEN excluded.first_seen ELSE {table}.first_seen END,
    last_seen = CASE WHEN excluded.last_seen > {table}.last_seen THEN excluded.last_seen ELSE {table}.last_seen END,
    volume = {table}.volume + excluded.volume
"""
_CHUNK = 200


def catalog_record(*, rows: Sequence[tuple[str, str, dt.datetime, dt.datetime, int]]) -> int:
    """Add (event, property, first seen, last seen, volume) rows to the catalogue; returns how many."""
    if not rows:
        return 0
    table = connection.ops.quote_name(EventCatalogEntry._meta.db_table)
    with transaction.atomic(), connection.cursor() as cursor:
        for start in range(0, len(rows), _CHUNK):
            chunk = rows[start : start + _CHUNK]
            params: list[Any] = []
            for event, prop, first, last, volume in chunk:
                params += [event[:200], (prop or "")[:200], _aware(first), _aware(last), int(volume)]
            values = ", ".join(["(%s, %s, %s, %s, %s)"] * len(chunk))
            cursor.execute(_UPSERT.format(table=table, values=values), params)
    return len(rows)


def event_import_record(*, sha256: str, path: str, imported_at: dt.datetime, rows: int, added: int) -> EventImport:
    """Remember an imported file (the ledger that makes re-importing the same bytes a no-op)."""
    entry, _created = EventImport.objects.update_or_create(
        sha256=sha256, defaults={"path": path, "imported_at": imported_at, "rows": rows, "added": added}
    )
    return entry


def _aware(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)
