"""Carry a store written by an earlier Tandem (one DuckDB file, ``events.duckdb``) into the Delta table.

Run once by ``tandem migrate``: events, the catalogue, waiting events, the import ledger and the
inbox bookmark are copied, then the old file is renamed ``events.duckdb.migrated`` so it is never
read again. Copying is one Delta commit, so an interrupted migration leaves the table as it was
(and the next ``tandem migrate`` copies again).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
from django.db import transaction

from tandem.usage.eventstore import COLUMNS_SQL, EventStore

# UBIGINT hashes become the signed BIGINT with the same 64 bits (Delta Lake has no unsigned type).
SIGNED_KEY = (
    "CAST(CAST(dedupe_key AS HUGEINT) - CASE WHEN dedupe_key >= 9223372036854775808 "
    "THEN 18446744073709551616 ELSE 0 END AS BIGINT)"
)


def legacy_store_path(store: EventStore) -> Path:
    return store.path.parent / "events.duckdb"


def legacy_store_migrate(*, store: EventStore, legacy: Path | None = None) -> int | None:
    """Copy ``events.duckdb`` (next to the store) into the store; returns the events copied, None if none."""
    from tandem.ingest.inbox import Inbox
    from tandem.ingest.models import PendingEvent
    from tandem.usage.models import EventImport
    from tandem.usage.services import catalog_record

    legacy = legacy or legacy_store_path(store)
    if not legacy.is_file():
        return None
    con = duckdb.connect(str(legacy), read_only=True)
    try:
        con.execute("SET TimeZone = 'UTC'")
        tables = {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
        if "events" not in tables:
            return None
        columns = {r[0] for r in con.execute("DESCRIBE events").fetchall()}
        select = ", ".join(
            (SIGNED_KEY + " AS dedupe_key")
            if name == "dedupe_key" and name in columns
            else (name if name in columns else f"NULL AS {name}")
            for name in COLUMNS_SQL.split(", ")
        )
        bookmark = None
        if "ingest_state" in tables:
            row = con.execute("SELECT value FROM ingest_state WHERE key = 'inbox_last_id'").fetchone()
            bookmark = int(row[0]) if row else None
        app = (Inbox.for_settings().identity(), bookmark) if bookmark else None
        with store.writer_lock("ingest"), store.writer_lock("import"):
            copied = store.write_relation(con, f"SELECT {select} FROM events", app_transaction=app, split=True).rows
            with transaction.atomic():
                if "event_catalog" in tables:
                    catalog_record(rows=con.execute("SELECT * FROM event_catalog").fetchall())
                if "import_ledger" in tables:
                    for sha, path, imported_at, rows, added in con.execute("SELECT * FROM import_ledger").fetchall():
                        EventImport.objects.get_or_create(
                            sha256=sha,
                            defaults={"path": path, "imported_at": _aware(imported_at), "rows": rows, "added": added},
                        )
                if "pending_events" in tables:
                    pending = con.execute(
                        "SELECT source_id, message_id, " + SIGNED_KEY + " AS dedupe_key, user_id, anonymous_id, "
                        "group_id, event, ts, quantity, CAST(properties AS VARCHAR), received_at FROM pending_events"
                    ).fetchall()
                    PendingEvent.objects.bulk_create(
                        [
                            PendingEvent(
                                source_id=p[0],
                                message_id=p[1],
                                dedupe_key=p[2],
                                user_id=p[3],
                                anonymous_id=p[4],
                                group_id=p[5],
                                event=p[6],
                                ts=_aware(p[7]),
                                quantity=p[8],
                                properties=p[9],
                                received_at=_aware(p[10]) if p[10] else None,
                            )
                            for p in pending
                        ],
                        ignore_conflicts=True,
                    )
    finally:
        con.close()
    legacy.rename(legacy.with_name(legacy.name + ".migrated"))
    wal = legacy.with_name(legacy.name + ".wal")
    if wal.exists():
        wal.rename(wal.with_name(wal.name + ".migrated"))
    return copied


def _aware(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)
