"""The product-usage event store: a Delta Lake table of Parquet files, read by DuckDB in-process.

Why Delta Lake (docs/architecture.md has the measurements): every Tandem process (``tandem
serve``, any number of ``tandem worker`` and every CLI command, on one host or on several hosts
sharing storage) reads and appends at the same time. A DuckDB database file allows one process
at a time; a Delta table allows any number of readers and writers, each commit being one atomic
entry in ``_delta_log`` written by delta-rs (``deltalake``). Spark, Trino, ClickHouse, Snowflake
and BigQuery read the same table at scale.

* **Reads**: each process keeps one in-memory DuckDB database. A cursor gets a temporary view
  ``events`` over the Parquet files of the table's latest snapshot (``read_parquet``), optionally
  pruned to the files whose statistics can hold one account or time range. A query sees one
  snapshot from start to end: files are only ever removed from the table logically (by
  compaction), and deleted from disk by ``vacuum`` after ``VACUUM_RETENTION``, so a reader is
  never broken mid-query.
* **Writes**: DuckDB writes the new rows as Parquet files (sorted by account and time, zstd),
  and delta-rs commits them in one transaction, with Delta's application transaction
  (``txn`` action) when the writer needs an atomic bookmark (the tracking inbox). Writers that
  must check what is stored before they append (deduplication) take a named writer lock
  (``writer_lock``): a file lock on one host, a PostgreSQL advisory lock when the relational
  database is PostgreSQL (several hosts).
* **Compaction** rewrites small files sorted by ``(account_id, ts)`` and commits the new files
  and the removal of the old ones together, concurrently with appends.

The event catalogue (event names and property keys) lives in the relational database
(``tandem.usage.models.EventCatalogEntry``) and is updated after every append.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import logging
import os
import shutil
import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from deltalake import CommitProperties, DeltaTable, Transaction
from deltalake.exceptions import CommitFailedError, TableNotFoundError
from deltalake.transaction import AddAction, RemoveAction

log = logging.getLogger(__name__)

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

# Columns added for ingestion; optional for every writer (null when absent). ``dedupe_key`` is a
# signed 64-bit hash: Delta Lake has no unsigned integer type.
INGEST_FIELDS = [
    pa.field("source_id", pa.int64()),
    pa.field("message_id", pa.string()),
    pa.field("dedupe_key", pa.int64()),
    pa.field("received_at", pa.timestamp("us", tz="UTC")),
]
STORED_SCHEMA = pa.schema([*SCHEMA, *INGEST_FIELDS])
COLUMNS_SQL = ", ".join(STORED_SCHEMA.names)
EMPTY_EVENTS_SQL = (
    "SELECT NULL::BIGINT AS account_id, NULL::BIGINT AS contact_id, NULL::VARCHAR AS user_id, "
    "NULL::VARCHAR AS event, NULL::TIMESTAMPTZ AS ts, NULL::DOUBLE AS quantity, NULL::VARCHAR AS properties, "
    "NULL::BIGINT AS source_id, NULL::VARCHAR AS message_id, NULL::BIGINT AS dedupe_key, "
    "NULL::TIMESTAMPTZ AS received_at WHERE false"
)
# The same column list and types for every Parquet file, whoever writes it.
CONFORM_SQL = (
    "CAST(account_id AS BIGINT) AS account_id, CAST(contact_id AS BIGINT) AS contact_id, "
    "CAST(user_id AS VARCHAR) AS user_id, CAST(event AS VARCHAR) AS event, CAST(ts AS TIMESTAMPTZ) AS ts, "
    "CAST(coalesce(quantity, 1.0) AS DOUBLE) AS quantity, CAST(properties AS VARCHAR) AS properties, "
    "CAST(source_id AS BIGINT) AS source_id, CAST(message_id AS VARCHAR) AS message_id, "
    "CAST(dedupe_key AS BIGINT) AS dedupe_key, CAST(received_at AS TIMESTAMPTZ) AS received_at"
)

TABLE_CONFIGURATION = {
    # Log entries older than this are removed when delta-rs writes a checkpoint (every 100
    # commits), so the tracking API's steady commits (about one a second) never pile up in
    # _delta_log, whose listing every reader pays. Readers need data files, not old log entries.
    "delta.logRetentionDuration": "interval 1 hours",
    "delta.deletedFileRetentionDuration": "interval 1 hours",
}
VACUUM_RETENTION_HOURS = 1  # longer than any query; a removed file is deleted from disk after this
TARGET_FILE_BYTES = 128 * 1024 * 1024
ROW_GROUP_ROWS = 122_880
SMALL_FILE_BYTES = 8 * 1024 * 1024
COMPACT_WHEN_SMALL_FILES = 32  # appends trigger a compaction of small files beyond this many
COMMIT_RETRIES = 20
PRIVATE_DIR = "_tandem"  # Delta readers and vacuum ignore names that start with an underscore
READ_MAX_AGE = 1.0  # pages and charts may read a snapshot refreshed up to a second ago

# Refresh the catalogue from the rows of the relation ``fresh``; property = '' is the event itself.
# One pass: rows are grouped by event and key set (few groups: an event's property keys rarely
# vary), then the key sets are unnested. json_keys of a non-object is an empty list.
CATALOG_SQL = """
WITH seen AS (
    SELECT event, json_keys(properties) AS keys, min(ts) AS first_seen, max(ts) AS last_seen, count(*) AS volume
    FROM fresh GROUP BY ALL
)
SELECT event, '' AS property, min(first_seen), max(last_seen), sum(volume) FROM seen GROUP BY event
UNION ALL
SELECT event, property, min(first_seen), max(last_seen), sum(volume)
FROM (SELECT event, unnest(keys) AS property, first_seen, last_seen, volume FROM seen) GROUP BY ALL
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


@dataclass(frozen=True)
class DataFile:
    """One Parquet file of a snapshot with the statistics used to prune scans."""

    uri: str
    path: str  # relative to the table root, as in the Delta log
    size: int
    rows: int
    min_account: int | None
    max_account: int | None
    min_ts: dt.datetime | None
    max_ts: dt.datetime | None


@dataclass(frozen=True)
class Snapshot:
    """One version of the table: what every query of a cursor reads."""

    version: int
    files: tuple[DataFile, ...]

    def select(
        self,
        *,
        account_ids: Sequence[int] | None = None,
        start: dt.datetime | None = None,
        end: dt.datetime | None = None,
    ) -> list[DataFile]:
        """Files whose statistics can hold rows of these accounts within [start, end]."""
        chosen = []
        for f in self.files:
            if (
                account_ids is not None
                and f.min_account is not None
                and f.max_account is not None
                and not any(f.min_account <= a <= f.max_account for a in account_ids)
            ):
                continue
            if start is not None and f.max_ts is not None and f.max_ts < start:
                continue
            if end is not None and f.min_ts is not None and f.min_ts > end:
                continue
            chosen.append(f)
        return chosen


@dataclass(frozen=True)
class WriteResult:
    rows: int
    files: int
    version: int | None
    paths: tuple[str, ...] = ()


class EventStore:
    """The Delta table at ``path``, safe to share between the threads of a process."""

    _instances: dict[Path, EventStore] = {}
    _instances_lock = threading.Lock()

    def __init__(self, path: Path | str, *, read_only: bool = False) -> None:
        self.path = Path(path).expanduser().absolute()
        self.read_only = read_only
        self._db: duckdb.DuckDBPyConnection | None = None
        self._table: DeltaTable | None = None
        self._snapshot: Snapshot | None = None
        self._refreshed = 0.0
        self._lock = threading.RLock()
        self._file_locks: dict[str, Any] = {}

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

    # --- the table and its snapshots ----------------------------------------------------------

    def _delta(self) -> DeltaTable:
        with self._lock:
            if self._table is None:
                self._table = self._open_or_create()
            return self._table

    def _open_or_create(self) -> DeltaTable:
        uri = str(self.path)
        if DeltaTable.is_deltatable(uri):
            return DeltaTable(uri)
        if self.read_only:
            raise TableNotFoundError(f"no event store at {uri}")
        self.path.mkdir(parents=True, exist_ok=True)
        with self.writer_lock("create"):
            if not DeltaTable.is_deltatable(uri):
                DeltaTable.create(uri, schema=STORED_SCHEMA, name="events", configuration=TABLE_CONFIGURATION)
        return DeltaTable(uri)

    def exists(self) -> bool:
        return DeltaTable.is_deltatable(str(self.path))

    def snapshot(self, *, max_age: float = 0.0) -> Snapshot:
        """The latest committed version (cheap when nothing changed: one listing of the log).

        ``max_age`` lets pages reuse a snapshot refreshed that many seconds ago; writers that
        check what is stored always ask for the latest.
        """
        with self._lock:
            if self._snapshot is not None and max_age > 0 and time.monotonic() - self._refreshed < max_age:
                return self._snapshot
            table = self._delta()
            table.update_incremental()
            self._refreshed = time.monotonic()
            version = table.version()
            if self._snapshot is None or self._snapshot.version != version:
                self._snapshot = Snapshot(version=version, files=tuple(_data_files(table)))
            return self._snapshot

    def transaction_version(self, app_id: str) -> int | None:
        """The bookmark last committed with the events by ``app_id`` (Delta's ``txn`` action)."""
        with self._lock:
            table = self._delta()
            table.update_incremental()
            return table.transaction_version(app_id)

    def _database(self) -> duckdb.DuckDBPyConnection:
        with self._lock:
            if self._db is None:
                spill = self.path / PRIVATE_DIR / "spill" / f"{os.getpid()}"
                self._db = duckdb.connect(":memory:", config={"temp_directory": str(spill)})
                self._db.execute("SET TimeZone = 'UTC'")
                self._db.execute("SET parquet_metadata_cache = true")
            return self._db

    @contextmanager
    def cursor(
        self,
        *,
        account_ids: Sequence[int] | None = None,
        start: dt.datetime | None = None,
        end: dt.datetime | None = None,
        snapshot: Snapshot | None = None,
        max_age: float = 0.0,
    ) -> Iterator[duckdb.DuckDBPyConnection]:
        """A DuckDB cursor whose view ``events`` is one snapshot of the table.

        ``account_ids``, ``start`` and ``end`` only prune whole files (by their statistics): the
        view may still hold other rows, so queries keep their own WHERE clauses.
        """
        snapshot = snapshot or self.snapshot(max_age=max_age)
        cur = self._database().cursor()
        try:
            cur.execute("SET TimeZone = 'UTC'")
            files = snapshot.select(account_ids=account_ids, start=start, end=end)
            cur.execute(f"CREATE OR REPLACE TEMP VIEW events AS {_scan_sql(files)}")
            yield cur
        finally:
            cur.close()

    def close(self) -> None:
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None
            self._table = None
            self._snapshot = None

    def parquet_files(self) -> list[str]:
        """The absolute paths of the latest snapshot's Parquet files (for Spark and other engines)."""
        return [f.uri for f in self.snapshot().files]

    # --- locks --------------------------------------------------------------------------------

    @contextmanager
    def writer_lock(self, name: str, *, blocking: bool = True) -> Iterator[bool]:
        """Serialise writers of one kind (``ingest``, ``import``, ``compact``) across processes.

        Yields False (without the lock) when ``blocking`` is false and another process holds it.
        On PostgreSQL the lock is an advisory lock, so writers on several hosts are serialised too;
        otherwise a file lock next to the table (the filelock package).
        """
        from django.db import connection

        if connection.vendor == "postgresql":
            key = int.from_bytes(
                hashlib.blake2b(f"{self.path}:{name}".encode(), digest_size=8).digest(), "big", signed=True
            )
            with connection.cursor() as cur:
                if blocking:
                    cur.execute("SELECT pg_advisory_lock(%s)", [key])
                    got = True
                else:
                    cur.execute("SELECT pg_try_advisory_lock(%s)", [key])
                    got = bool(cur.fetchone()[0])
            try:
                yield got
            finally:
                if got:
                    with connection.cursor() as cur:
                        cur.execute("SELECT pg_advisory_unlock(%s)", [key])
            return
        from filelock import FileLock, Timeout

        with self._lock:
            lock = self._file_locks.get(name)
            if lock is None:
                lock_dir = self.path / PRIVATE_DIR / "locks"
                lock_dir.mkdir(parents=True, exist_ok=True)
                # One object per lock and thread-local state: re-entrant in a thread, exclusive
                # between threads and processes.
                lock = self._file_locks[name] = FileLock(str(lock_dir / f"{name}.lock"), thread_local=True)
        try:
            lock.acquire(timeout=-1 if blocking else 0)
        except Timeout:
            yield False
            return
        try:
            yield True
        finally:
            lock.release()

    # --- writes -------------------------------------------------------------------------------

    def write_relation(
        self,
        cur: duckdb.DuckDBPyConnection,
        select_sql: str,
        *,
        params: Sequence[Any] | None = None,
        app_transaction: tuple[str, int] | None = None,
        sort: bool = True,
        split: bool = False,
    ) -> WriteResult:
        """Write the rows of ``select_sql`` (STORED_SCHEMA columns) as new files and commit them.

        ``app_transaction`` (app id, version) is committed in the same Delta transaction: the
        tracking inbox's bookmark. ``split`` writes files of about TARGET_FILE_BYTES (large
        imports); otherwise one file. Returns the rows written; nothing is committed for none.
        """
        if self.read_only:
            raise PermissionError("the event store was opened read-only")
        table = self._delta()
        order = " ORDER BY account_id, ts" if sort else ""
        body = f"SELECT {CONFORM_SQL} FROM ({select_sql}){order}"
        batch = uuid.uuid4().hex
        options = f"FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE {ROW_GROUP_ROWS}"
        if split:
            target = self.path / f"batch-{batch}"
            copy = (
                f"COPY ({body}) TO {_sql_string(str(target))} ({options}, FILE_SIZE_BYTES {TARGET_FILE_BYTES}, "
                "FILENAME_PATTERN 'part-{i}', RETURN_FILES true)"
            )
        else:
            target = self.path / f"part-{batch}.zstd.parquet"
            copy = f"COPY ({body}) TO {_sql_string(str(target))} ({options}, RETURN_FILES true)"
        rows, written = cur.execute(copy, list(params or [])).fetchall()[0]
        files = [Path(p) for p in written]
        if not rows:
            for f in files:
                f.unlink(missing_ok=True)
            if split:
                shutil.rmtree(target, ignore_errors=True)
            if app_transaction is not None:
                self._commit([], app_transaction=app_transaction)
            return WriteResult(rows=0, files=0, version=None)
        actions: list[AddAction | RemoveAction] = [self._add_action(f) for f in files if f.exists()]
        version = self._commit(actions, app_transaction=app_transaction)
        self._maybe_compact_small_files(table)
        return WriteResult(
            rows=int(rows), files=len(actions), version=version, paths=tuple(str(f) for f in files if f.exists())
        )

    def _add_action(self, file: Path) -> AddAction:
        return AddAction(
            file.relative_to(self.path).as_posix(),
            file.stat().st_size,
            {},
            int(time.time() * 1000),
            True,
            _file_stats(file),
        )

    def _commit(
        self,
        actions: list[AddAction | RemoveAction],
        *,
        app_transaction: tuple[str, int] | None = None,
        operation: str | None = None,
    ) -> int:
        """One Delta transaction; delta-rs retries appends that raced with other commits."""
        properties = CommitProperties(
            custom_metadata={"tandem.operation": operation} if operation else None,
            app_transactions=[Transaction(app_transaction[0], app_transaction[1])] if app_transaction else None,
            max_commit_retries=COMMIT_RETRIES,
        )
        with self._lock:
            # No refresh first: delta-rs checks the commit against whatever was committed since the
            # version it holds, and appends and compactions of other files do not conflict.
            self._delta().create_write_transaction(
                actions, mode="append", schema=STORED_SCHEMA, commit_properties=properties
            )
            return self.snapshot().version

    def append_arrow(self, table: pa.Table) -> int:
        """Append an Arrow table with the columns of SCHEMA (missing optional columns are null)."""
        table = _conform(table)
        if table.num_rows == 0:
            return 0
        with self._scratch() as cur:
            cur.register("incoming", table)
            rows = self.write_relation(cur, "SELECT * FROM incoming").rows
            cur.unregister("incoming")
        self.catalog_add_arrow(table)
        return rows

    def append_new(self, table: pa.Table, *, app_transaction: tuple[str, int] | None = None) -> int:
        """Append the rows whose ``dedupe_key`` is not stored yet; return how many were added.

        Rows without a key are always added. Within ``table`` the first row of a key wins. The
        anti-join only reads stored rows within 7 days of the batch's time range (files outside
        it are pruned by their statistics). Callers that may race hold ``writer_lock("ingest")``.
        """
        table = _conform(table)
        if table.num_rows == 0:
            if app_transaction is not None:
                self._commit([], app_transaction=app_transaction)
            return 0
        ts = table.column("ts")
        lo = pc.min(ts).as_py() - dt.timedelta(days=7)
        hi = pc.max(ts).as_py() + dt.timedelta(days=7)
        with self.cursor(start=lo, end=hi) as cur:
            cur.register("incoming", table)
            try:
                cur.execute(f"CREATE OR REPLACE TEMP TABLE fresh AS {self.new_rows_sql('incoming')}", [lo, hi])
                written = self.write_relation(cur, "SELECT * FROM fresh", app_transaction=app_transaction)
                if written.rows:
                    self._catalog_from(cur, "fresh")
                cur.execute("DROP TABLE fresh")
            finally:
                cur.unregister("incoming")
        return written.rows

    @staticmethod
    def new_rows_sql(relation: str) -> str:
        """Rows of ``relation`` whose dedupe key is not in ``events`` between the two parameters."""
        return f"""
            WITH keyed AS (
                SELECT {COLUMNS_SQL} FROM {relation} WHERE dedupe_key IS NOT NULL
                QUALIFY row_number() OVER (PARTITION BY dedupe_key) = 1
            )
            SELECT k.* FROM keyed k
            WHERE k.dedupe_key NOT IN (
                SELECT e.dedupe_key FROM events e
                WHERE e.ts BETWEEN $1 AND $2 AND e.dedupe_key IS NOT NULL
            )
            UNION ALL
            SELECT {COLUMNS_SQL} FROM {relation} WHERE dedupe_key IS NULL
        """.replace("$1", "?").replace("$2", "?")

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

    def compact(self, *, small_only: bool = False) -> int:
        """Rewrite files sorted by (account_id, ts) in files of about TARGET_FILE_BYTES.

        The new files and the removal of the old ones are one commit (``dataChange`` false), so
        appends committed meanwhile are kept and readers of older snapshots keep their files until
        ``vacuum``. ``small_only`` rewrites only files under SMALL_FILE_BYTES (what appends leave).
        Returns how many files were replaced.
        """
        with self.writer_lock("compact", blocking=not small_only) as got:
            if not got:
                return 0
            snapshot = self.snapshot()
            old = [f for f in snapshot.files if not small_only or f.size < SMALL_FILE_BYTES]
            if len(old) < 2:
                return 0
            with self._scratch() as cur:
                cur.execute(f"CREATE OR REPLACE TEMP VIEW old_files AS {_scan_sql(old)}")
                written = self.write_relation_files(cur, "SELECT * FROM old_files")
            now = int(time.time() * 1000)
            actions: list[AddAction | RemoveAction] = [*written]
            actions += [RemoveAction(f.path, False, now, f.size) for f in old]
            try:
                self._commit(actions, operation="compact")
            except CommitFailedError:
                # Another writer removed one of these files first (a delete); try again later.
                for a in written:
                    (self.path / a.path).unlink(missing_ok=True)
                log.warning("compaction of the event store lost a race with another writer; skipped")
                return 0
            return len(old)

    def write_relation_files(self, cur: duckdb.DuckDBPyConnection, select_sql: str) -> list[AddAction]:
        """Write sorted files for ``select_sql`` without committing them (``dataChange`` false)."""
        target = self.path / f"batch-{uuid.uuid4().hex}"
        _rows, written = cur.execute(
            f"COPY (SELECT {CONFORM_SQL} FROM ({select_sql}) ORDER BY account_id, ts) TO {_sql_string(str(target))} "
            f"(FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE {ROW_GROUP_ROWS}, FILE_SIZE_BYTES {TARGET_FILE_BYTES}, "
            "FILENAME_PATTERN 'part-{i}', RETURN_FILES true)"
        ).fetchall()[0]
        actions = []
        for name in written:
            action = self._add_action(Path(name))
            actions.append(AddAction(action.path, action.size, {}, action.modification_time, False, action.stats))
        return actions

    def _maybe_compact_small_files(self, table: DeltaTable) -> None:
        small = sum(1 for f in self.snapshot().files if f.size < SMALL_FILE_BYTES)
        if small > COMPACT_WHEN_SMALL_FILES:
            try:
                self.compact(small_only=True)
            except Exception:  # an append must not fail because tidying up did
                log.exception("compacting small event files failed")

    def vacuum(self, *, retention_hours: int = VACUUM_RETENTION_HOURS) -> int:
        """Delete files removed from the table more than ``retention_hours`` ago; returns how many."""
        with self._lock:
            table = self._delta()
            table.update_incremental()
            deleted = table.vacuum(retention_hours=retention_hours, dry_run=False, enforce_retention_duration=False)
        for entry in self.path.glob("batch-*"):
            if entry.is_dir() and not any(entry.iterdir()):
                with contextlib.suppress(OSError):
                    entry.rmdir()
        return len(deleted)

    def delete(self, *, account_ids: Sequence[int] | None = None) -> None:
        """Delete every event, or those of ``account_ids`` (a commit of its own; for the demo)."""
        with self._lock:
            table = self._delta()
            table.update_incremental()
            if account_ids is None:
                now = int(time.time() * 1000)
                actions: list[AddAction | RemoveAction] = [
                    RemoveAction(f.path, True, now, f.size) for f in self.snapshot().files
                ]
                if actions:
                    self._commit(actions, operation="delete")
            elif account_ids:
                table.delete(f"account_id IN ({', '.join(str(int(a)) for a in account_ids)})")
            self._snapshot = None

    def delete_all(self) -> None:
        self.delete()
        self.catalog_clear()

    @contextmanager
    def _scratch(self) -> Iterator[duckdb.DuckDBPyConnection]:
        cur = self._database().cursor()
        try:
            cur.execute("SET TimeZone = 'UTC'")
            yield cur
        finally:
            cur.close()

    # --- the catalogue (relational) -----------------------------------------------------------

    def _catalog_from(self, cur: duckdb.DuckDBPyConnection, relation: str) -> None:
        rows = cur.execute(CATALOG_SQL.replace("FROM fresh", f"FROM {relation}")).fetchall()
        from tandem.usage.services import catalog_record

        catalog_record(rows=rows)

    def catalog_add_arrow(self, table: pa.Table) -> None:
        with self._scratch() as cur:
            cur.register("fresh_arrow", table)
            self._catalog_from(cur, "fresh_arrow")
            cur.unregister("fresh_arrow")

    def catalog_add_files(self, files: Sequence[str]) -> None:
        """Add the rows of just-written files to the catalogue (bulk imports)."""
        if not files:
            return
        with self._scratch() as cur:
            cur.execute(f"CREATE OR REPLACE TEMP VIEW fresh_files AS SELECT * FROM read_parquet({_sql_list(files)})")
            self._catalog_from(cur, "fresh_files")

    def catalog_clear(self) -> None:
        from tandem.usage.models import EventCatalogEntry

        EventCatalogEntry.objects.all().delete()

    def catalog(self) -> list[CatalogEntry]:
        """Every event name and property key seen, events by volume, their properties after them."""
        from tandem.usage.selectors import catalog_entries

        return catalog_entries()

    def rebuild_catalog(self) -> None:
        """Recompute the catalogue from every stored event."""
        from django.db import transaction

        with transaction.atomic():
            self.catalog_clear()
            with self.cursor() as cur:
                self._catalog_from(cur, "events")

    # --- reads --------------------------------------------------------------------------------

    def count(self, *, account_id: int | None = None) -> int:
        if account_id is None:
            return sum(f.rows for f in self.snapshot().files)
        with self.cursor(account_ids=[account_id]) as cur:
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
        with self.cursor(
            account_ids=[account_id], start=_day_start(start), end=_day_start(end), max_age=READ_MAX_AGE
        ) as cur:
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
        with self.cursor(
            account_ids=[account_id], start=_day_start(start), end=_day_start(end), max_age=READ_MAX_AGE
        ) as cur:
            rows = cur.execute(sql, [account_id, _day_start(start), _day_start(end)]).fetchall()
        return {week: int(users) for week, users in rows}

    def disk_bytes(self) -> int:
        """Size of the latest snapshot's data files."""
        return sum(f.size for f in self.snapshot().files)

    def query_arrow(self, sql: str, params: Sequence[Any] | None = None) -> pa.Table:
        """Run a read query over ``events`` (for analytics modules built on top of the store)."""
        with self.cursor() as cur:
            return cur.sql(sql, params=list(params or [])).to_arrow_table()


def _data_files(table: DeltaTable) -> Iterator[DataFile]:
    actions = pa.table(table.get_add_actions(flatten=True)).to_pylist()
    root = table.table_uri.removeprefix("file://")
    for a in actions:
        yield DataFile(
            uri=os.path.join(root, a["path"]),
            path=a["path"],
            size=int(a["size_bytes"]),
            rows=int(a.get("num_records") or 0),
            min_account=a.get("min.account_id"),
            max_account=a.get("max.account_id"),
            min_ts=_aware(a.get("min.ts")),
            max_ts=_aware(a.get("max.ts")),
        )


def _aware(value: Any) -> dt.datetime | None:
    if value is None:
        return None
    if value.tzinfo is None:
        return value.replace(tzinfo=dt.UTC)
    return value


def _file_stats(file: Path) -> str:
    """Delta file statistics (numRecords, min/max of account and time, null counts) from the footer."""
    meta = pq.read_metadata(file)
    names = [meta.schema.column(i).name for i in range(meta.num_columns)]
    mins: dict[str, Any] = {}
    maxes: dict[str, Any] = {}
    nulls: dict[str, int] = dict.fromkeys(names, 0)
    for g in range(meta.num_row_groups):
        group = meta.row_group(g)
        for i, name in enumerate(names):
            stats = group.column(i).statistics
            if stats is None:
                continue
            nulls[name] += int(stats.null_count or 0)
            if name in ("account_id", "ts") and stats.has_min_max:
                lo, hi = stats.min, stats.max
                mins[name] = lo if name not in mins else min(mins[name], lo)
                maxes[name] = hi if name not in maxes else max(maxes[name], hi)
    return json.dumps(
        {
            "numRecords": meta.num_rows,
            "minValues": {k: _stat_value(v) for k, v in mins.items()},
            "maxValues": {k: _stat_value(v) for k, v in maxes.items()},
            "nullCount": nulls,
        }
    )


def _stat_value(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return value


def _scan_sql(files: Sequence[DataFile]) -> str:
    if not files:
        return EMPTY_EVENTS_SQL
    return f"SELECT {COLUMNS_SQL} FROM read_parquet({_sql_list([f.uri for f in files])})"


def _sql_string(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _sql_list(items: Sequence[str]) -> str:
    return "[" + ", ".join(_sql_string(i) for i in items) + "]"


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
            column = table.column(field.name)
            if field.name == "dedupe_key" and pa.types.is_unsigned_integer(column.type):
                column = pc.cast(column, pa.int64(), safe=False)  # same 64 bits, signed
            columns.append(column.cast(field.type))
        elif field.nullable:
            columns.append(pa.nulls(table.num_rows, type=field.type))
        elif field.name == "quantity":
            columns.append(pa.array([1.0] * table.num_rows, type=pa.float64()))
        else:
            raise ValueError(f"events need a '{field.name}' column")
    return pa.Table.from_arrays(columns, schema=STORED_SCHEMA)
