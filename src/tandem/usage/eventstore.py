"""The embedded product-usage event store (DuckDB).

One table, ``events``, append-only. Rows are appended in batches through Arrow, and the store is
sorted by (account_id, ts) on compaction so account x time-range scans touch few row groups.
Each batch appended here (tracking API, ``append_arrow``) is itself written in (account_id, ts)
order, so row-group zone maps prune account x time-range scans even before a compaction; bulk
imports (tandem.imports.events) keep their file's (usually time) order instead, since sorting
100 million rows would cost more than the rest of the import.

Rows from the tracking API and file imports carry a ``dedupe_key`` (a stable 64-bit hash of the
source and message id, or of the imported row); ``append_new`` inserts only rows whose key is
not stored yet, which is what makes retries and re-imports idempotent. ``event_catalog`` keeps
every event name and property key seen, with first/last event time and volume.

Concurrency: DuckDB allows one read-write process per file. Each Tandem process opens the file once
(``EventStore.for_settings()``) and hands each thread its own cursor; writers outside the web
process (the demo builder, bulk imports) run while the web server is stopped or use their own file.
Later ingestion work builds on this module, so its API stays small and typed.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

SCHEMA = pa.schema(
    [
        pa.field("account_id", pa.int64(), nullable=False),
        pa.field("contact_id", pa.int64()),
        pa.field("user_id", pa.string()),
        pa.field("event", pa.string(), nullable=False),
        pa.field("ts", pa.timestamp("us", tz="UTC"), nullable=False),
        pa.field("quantity", pa.float64(), nullable=False),
        pa.field("properties", pa.string()),
    ]
)

# Columns added for ingestion; optional for every writer (null when absent).
INGEST_FIELDS = [
    pa.field("source_id", pa.int64()),
    pa.field("message_id", pa.string()),
    pa.field("dedupe_key", pa.uint64()),
    pa.field("received_at", pa.timestamp("us", tz="UTC")),
]
STORED_SCHEMA = pa.schema([*SCHEMA, *INGEST_FIELDS])
COLUMNS_SQL = ", ".join(STORED_SCHEMA.names)

DDL = """
CREATE TABLE IF NOT EXISTS events (
    account_id BIGINT NOT NULL,
    contact_id BIGINT,
    user_id VARCHAR,
    event VARCHAR NOT NULL,
    ts TIMESTAMPTZ NOT NULL,
    quantity DOUBLE NOT NULL DEFAULT 1,
    properties JSON
);
ALTER TABLE events ADD COLUMN IF NOT EXISTS source_id BIGINT;
ALTER TABLE events ADD COLUMN IF NOT EXISTS message_id VARCHAR;
ALTER TABLE events ADD COLUMN IF NOT EXISTS dedupe_key UBIGINT;
ALTER TABLE events ADD COLUMN IF NOT EXISTS received_at TIMESTAMPTZ;
CREATE TABLE IF NOT EXISTS event_catalog (
    event VARCHAR NOT NULL,
    property VARCHAR NOT NULL,
    first_seen TIMESTAMPTZ NOT NULL,
    last_seen TIMESTAMPTZ NOT NULL,
    volume BIGINT NOT NULL,
    PRIMARY KEY (event, property)
);
"""

# Refresh the catalogue from the rows of the relation ``fresh``; property = '' is the event itself.
# One pass: rows are grouped by event and key set (few groups: an event's property keys rarely
# vary), then the key sets are unnested. json_keys of a non-object is an empty list.
CATALOG_SQL = """
INSERT INTO event_catalog
WITH seen AS (
    SELECT event, json_keys(properties) AS keys, min(ts) AS first_seen, max(ts) AS last_seen, count(*) AS volume
    FROM fresh GROUP BY ALL
)
SELECT event, '' AS property, min(first_seen), max(last_seen), sum(volume) FROM seen GROUP BY event
UNION ALL
SELECT event, property, min(first_seen), max(last_seen), sum(volume)
FROM (SELECT event, unnest(keys) AS property, first_seen, last_seen, volume FROM seen) GROUP BY ALL
ON CONFLICT (event, property) DO UPDATE SET
    first_seen = least(event_catalog.first_seen, excluded.first_seen),
    last_seen = greatest(event_catalog.last_seen, excluded.last_seen),
    volume = event_catalog.volume + excluded.volume
"""


@dataclass(frozen=True)
class Event:
    account_id: int
    event: str
    ts: dt.datetime
    quantity: float = 1.0
    contact_id: int | None = None
    user_id: str | None = None
    properties: str | None = None  # a JSON document


@dataclass(frozen=True)
class CatalogEntry:
    """An event name (``property`` == '') or one property key of an event, as seen so far."""

    event: str
    property: str
    first_seen: dt.datetime
    last_seen: dt.datetime
    volume: int


@dataclass(frozen=True)
class DailyCount:
    day: dt.date
    event: str
    events: float
    users: int


class EventStore:
    """A DuckDB file holding usage events, safe to share between threads of one process."""

    _instances: dict[Path, EventStore] = {}
    _instances_lock = threading.Lock()

    def __init__(self, path: Path | str, *, read_only: bool = False) -> None:
        self.path = Path(path)
        self.read_only = read_only
        self._conn: duckdb.DuckDBPyConnection | None = None
        self._lock = threading.Lock()

    @classmethod
    def for_settings(cls) -> EventStore:
        """The process-wide store at settings.TANDEM_EVENTS_PATH."""
        from django.conf import settings

        path = Path(settings.TANDEM_EVENTS_PATH)
        with cls._instances_lock:
            store = cls._instances.get(path)
            if store is None:
                store = cls._instances[path] = cls(path)
            return store

    @classmethod
    def close_all(cls) -> None:
        with cls._instances_lock:
            for store in cls._instances.values():
                store.close()
            cls._instances.clear()

    def _connection(self) -> duckdb.DuckDBPyConnection:
        with self._lock:
            if self._conn is None:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                self._conn = duckdb.connect(str(self.path), read_only=self.read_only)
                if not self.read_only:
                    self._conn.execute(DDL)
            return self._conn

    @contextmanager
    def cursor(self) -> Iterator[duckdb.DuckDBPyConnection]:
        cur = self._connection().cursor()
        try:
            yield cur
        finally:
            cur.close()

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    # --- writes -------------------------------------------------------------------------------

    def append_arrow(self, table: pa.Table) -> int:
        """Append an Arrow table with the columns of SCHEMA (missing optional columns are null)."""
        table = _conform(table)
        with self.cursor() as cur:
            cur.register("incoming", table)
            cur.execute("BEGIN")
            cur.execute("CREATE OR REPLACE TEMP TABLE fresh AS SELECT * FROM incoming")
            self._insert_fresh(cur)
            cur.execute("COMMIT")
            cur.unregister("incoming")
        return table.num_rows

    def append_new(self, table: pa.Table, *, cursor: duckdb.DuckDBPyConnection | None = None) -> int:
        """Append the rows whose ``dedupe_key`` is not stored yet; return how many were added.

        Rows without a key are always added. Within ``table`` the first row of a key wins. The
        anti-join only reads stored rows within DEDUPE_WINDOW (7 days) of the batch's time range,
        so zone maps keep it cheap on a large store; a retried call whose clock-skew-corrected
        timestamp moved a little is still recognised. Pass ``cursor`` to run inside the caller's transaction.
        """
        table = _conform(table)
        if cursor is not None:
            return self._append_new(cursor, table)
        with self.cursor() as cur:
            cur.execute("BEGIN")
            added = self._append_new(cur, table)
            cur.execute("COMMIT")
            return added

    def _append_new(self, cur: duckdb.DuckDBPyConnection, table: pa.Table) -> int:
        if table.num_rows == 0:
            return 0
        cur.register("incoming", table)
        try:
            return self.append_new_relation(cur, "incoming")
        finally:
            cur.unregister("incoming")

    def append_new_relation(self, cur: duckdb.DuckDBPyConnection, relation: str) -> int:
        """``append_new`` for rows already in a relation of ``cur`` with the STORED_SCHEMA columns.

        Lets bulk imports stage, validate and hash millions of rows in DuckDB without a round
        trip through Python. Runs in the caller's transaction.
        """
        cur.execute(
            f"""
                CREATE OR REPLACE TEMP TABLE fresh AS
                WITH keyed AS (
                    SELECT {COLUMNS_SQL} FROM {relation} WHERE dedupe_key IS NOT NULL
                    QUALIFY row_number() OVER (PARTITION BY dedupe_key) = 1
                ), bounds AS (SELECT min(ts) AS lo, max(ts) AS hi FROM keyed)
                SELECT k.* FROM keyed k
                WHERE k.dedupe_key NOT IN (
                    SELECT e.dedupe_key FROM events e, bounds
                    WHERE e.ts BETWEEN bounds.lo - INTERVAL 7 DAY AND bounds.hi + INTERVAL 7 DAY
                    AND e.dedupe_key IS NOT NULL
                )
                UNION ALL
                SELECT {COLUMNS_SQL} FROM {relation} WHERE dedupe_key IS NULL
                """
        )
        return self._insert_fresh(cur)

    def _insert_fresh(self, cur: duckdb.DuckDBPyConnection) -> int:
        """Insert the temp table ``fresh`` sorted by account and time and catalogue its rows."""
        added = int(cur.execute("SELECT count(*) FROM fresh").fetchall()[0][0])
        if added:
            cur.execute(
                f"INSERT INTO events ({COLUMNS_SQL}) SELECT account_id, contact_id, user_id, event, ts, quantity, "
                "CAST(properties AS JSON), source_id, message_id, dedupe_key, received_at "
                "FROM fresh ORDER BY account_id, ts"
            )
            cur.execute(CATALOG_SQL)
        cur.execute("DROP TABLE fresh")
        return added

    def append(self, events: Sequence[Event]) -> int:
        if not events:
            return 0
        columns: dict[str, list[Any]] = {name: [] for name in SCHEMA.names}
        for e in events:
            columns["account_id"].append(e.account_id)
            columns["contact_id"].append(e.contact_id)
            columns["user_id"].append(e.user_id)
            columns["event"].append(e.event)
            columns["ts"].append(_as_utc(e.ts))
            columns["quantity"].append(float(e.quantity))
            columns["properties"].append(e.properties)
        return self.append_arrow(pa.table(columns, schema=SCHEMA))

    def compact(self) -> None:
        """Rewrite the table sorted by account and time so range scans stay cheap."""
        with self.cursor() as cur:
            cur.execute("BEGIN")
            cur.execute("CREATE TABLE events_sorted AS SELECT * FROM events ORDER BY account_id, ts")
            cur.execute("DROP TABLE events")
            cur.execute("ALTER TABLE events_sorted RENAME TO events")
            cur.execute("COMMIT")
            cur.execute("CHECKPOINT")

    def delete_all(self) -> None:
        with self.cursor() as cur:
            cur.execute("DELETE FROM events")
            cur.execute("DELETE FROM event_catalog")
            cur.execute("CHECKPOINT")

    # --- reads --------------------------------------------------------------------------------

    def count(self, *, account_id: int | None = None) -> int:
        with self.cursor() as cur:
            if account_id is None:
                row = cur.execute("SELECT count(*) FROM events").fetchone()
            else:
                row = cur.execute("SELECT count(*) FROM events WHERE account_id = ?", [account_id]).fetchone()
        return int(row[0]) if row else 0

    def event_names(self) -> list[str]:
        with self.cursor() as cur:
            return [r[0] for r in cur.execute("SELECT DISTINCT event FROM events ORDER BY event").fetchall()]

    def daily_counts(
        self, *, account_id: int, start: dt.date, end: dt.date, events: Sequence[str] | None = None
    ) -> list[DailyCount]:
        """Per-day, per-event totals and distinct users for one account, ``start`` <= day < ``end``."""
        sql = (
            "SELECT CAST(timezone('UTC', ts) AS DATE) AS day, event, sum(quantity), "
            "count(DISTINCT coalesce(user_id, CAST(contact_id AS VARCHAR))) "
            "FROM events WHERE account_id = ? AND ts >= ? AND ts < ?"
        )
        params: list[Any] = [account_id, _day_start(start), _day_start(end)]
        if events:
            sql += " AND event IN (SELECT unnest(?))"
            params.append(list(events))
        sql += " GROUP BY ALL ORDER BY day, event"
        with self.cursor() as cur:
            rows = cur.execute(sql, params).fetchall()
        return [DailyCount(day=r[0], event=r[1], events=float(r[2]), users=int(r[3])) for r in rows]

    def weekly_active_users(self, *, account_id: int, start: dt.date, end: dt.date) -> dict[dt.date, int]:
        """Distinct users per ISO week (keyed by the week's Monday) for one account, start <= day < end.

        Counted here rather than summed from daily counts: someone active on three days of a week
        is one weekly active user, not three.
        """
        sql = (
            "SELECT CAST(date_trunc('week', timezone('UTC', ts)) AS DATE) AS week, "
            "count(DISTINCT coalesce(user_id, CAST(contact_id AS VARCHAR))) "
            "FROM events WHERE account_id = ? AND ts >= ? AND ts < ? GROUP BY ALL"
        )
        with self.cursor() as cur:
            rows = cur.execute(sql, [account_id, _day_start(start), _day_start(end)]).fetchall()
        return {week: int(users) for week, users in rows}

    def catalog(self) -> list[CatalogEntry]:
        """Every event name and property key seen, events by volume, their properties after them."""
        with self.cursor() as cur:
            rows = cur.execute(
                "SELECT c.event, c.property, timezone('UTC', c.first_seen), timezone('UTC', c.last_seen), c.volume "
                "FROM event_catalog c "
                "JOIN event_catalog e ON e.event = c.event AND e.property = '' "
                "ORDER BY e.volume DESC, c.event, c.property <> '', c.volume DESC, c.property"
            ).fetchall()
        return [
            CatalogEntry(
                event=r[0],
                property=r[1],
                first_seen=r[2].replace(tzinfo=dt.UTC),
                last_seen=r[3].replace(tzinfo=dt.UTC),
                volume=int(r[4]),
            )
            for r in rows
        ]

    def rebuild_catalog(self) -> None:
        """Recompute the catalogue from every stored event (for stores written before it existed)."""
        with self.cursor() as cur:
            cur.execute("BEGIN")
            cur.execute("DELETE FROM event_catalog")
            cur.execute("CREATE OR REPLACE TEMP TABLE fresh AS SELECT event, ts, properties FROM events")
            cur.execute(CATALOG_SQL)
            cur.execute("DROP TABLE fresh")
            cur.execute("COMMIT")

    def disk_bytes(self) -> int:
        """Size of the store on disk (the DuckDB file and its write-ahead log)."""
        wal = self.path.with_name(self.path.name + ".wal")
        return sum(p.stat().st_size for p in (self.path, wal) if p.exists())

    def query_arrow(self, sql: str, params: Sequence[Any] | None = None) -> pa.Table:
        """Run a read query (for analytics modules built on top of the store)."""
        with self.cursor() as cur:
            return cur.sql(sql, params=list(params or [])).to_arrow_table()


def _as_utc(value: dt.datetime) -> dt.datetime:
    if value.tzinfo is None:
        return value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC)


def _day_start(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC)


def _conform(table: pa.Table) -> pa.Table:
    columns = []
    for field in STORED_SCHEMA:
        if field.name in table.column_names:
            columns.append(table.column(field.name).cast(field.type))
        elif field.nullable:
            columns.append(pa.nulls(table.num_rows, type=field.type))
        elif field.name == "quantity":
            columns.append(pa.array([1.0] * table.num_rows, type=pa.float64()))
        else:
            raise ValueError(f"events need a '{field.name}' column")
    return pa.Table.from_arrays(columns, schema=STORED_SCHEMA)
