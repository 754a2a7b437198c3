"""Bulk import of usage events from CSV or Parquet into the event store (a Delta Lake table).

The import is a handful of set-based SQL statements inside DuckDB; rows never pass through
Python one by one. Parquet files are read by DuckDB itself (``read_parquet``, streamed, so a
100-million-row file needs no more memory than a few row groups); CSV files are read by Arrow
(delimiter guessing, every cell as text, line numbers) and registered with DuckDB. Then:

1. one scan maps the columns, parses them (typed Parquet columns are used as they are), looks
   accounts up and flags each row valid or not, counting the invalid ones;
2. only when some rows are invalid, a second query fetches the first ``MAX_REPORTED_ERRORS`` of
   them and Python words the reasons (row and column named); nothing is written then unless
   ``skip_invalid``;
3. DuckDB writes the valid rows that are not stored yet as Parquet files (``COPY ... TO``, files
   of about 128 MB) and delta-rs commits them in one Delta transaction; then the catalogue of
   event names and property keys (aggregated from the new files) and the ledger entry are
   recorded in the relational database. The whole import runs under the store's ``import``
   writer lock, so two imports (in any processes) never both add the same rows; the tracking
   API's ingestor and readers go on meanwhile.

Idempotence, twice over:

* a ledger (``tandem.usage.models.EventImport``) remembers the SHA-256 of every imported file, so
  importing the same bytes again is recognised at once and adds nothing;
* rows are compared with what the store already holds. A row with an ``event_id`` is stored once
  per id (its ``message_id``); a row without one is identified by its content (account, event,
  timestamp, user, quantity, properties), counted as a multiset: a file with three identical
  rows adds three events, and re-importing an overlapping export (January-February, then
  February-March) adds only what is not stored yet. The comparison reads only stored imported
  rows inside the file's time range (zone maps skip the rest), so the first import of a file
  into a store that has nothing in that range costs no lookup at all.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow as pa

from tandem.accounts.models import Account
from tandem.imports.mapping import ColumnMap, resolve_columns
from tandem.imports.progress import NoProgress, Progress
from tandem.imports.readers import CSV_ROW_NUMBERS, PARQUET_ROW_NUMBERS, detect_format
from tandem.imports.report import ImportReport, ImportUsageError, RowError
from tandem.ingest.messages import EARLIEST, MAX_FUTURE
from tandem.usage.eventstore import EventStore
from tandem.usage.selectors import event_import_find
from tandem.usage.services import event_import_record

FIELDS = ["account_external_id", "timestamp", "event", "user_id", "quantity", "properties", "event_id"]
REQUIRED = ["account_external_id", "timestamp", "event"]
MAX_REPORTED_ERRORS = 1000
EVENT_ID_WINDOW = "INTERVAL 7 DAY"  # a re-exported event whose time moved a little is still the same event
JSON_SPACE = "' ' || chr(9) || chr(10) || chr(13)"

TEXT_TYPES = ("VARCHAR", "JSON")
NUMBER_TYPES = ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "FLOAT", "DOUBLE", "UTINYINT", "USMALLINT",
                "UINTEGER", "UBIGINT")  # fmt: skip


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@dataclass(frozen=True)
class _Source:
    """The file as relation ``src_file`` (columns c0..cN and __row) with its header and column types."""

    header: list[str]
    types: list[str]
    rows: int
    row_numbers: str


def _check_file(path: Path) -> None:
    if not path.exists():
        raise ImportUsageError(f"file not found: {path}")
    if not path.is_file():
        raise ImportUsageError(f"not a file: {path}")


def _sql_string(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _open_parquet(cur: duckdb.DuckDBPyConnection, path: Path) -> _Source:
    scan = f"read_parquet({_sql_string(str(path))}, file_row_number = true)"
    try:
        described = cur.execute(f"DESCRIBE SELECT * FROM {scan}").fetchall()
        rows = int(cur.execute(f"SELECT count(*) FROM {scan}").fetchall()[0][0])
    except duckdb.Error as exc:
        raise ImportUsageError(f"{path} is not a readable Parquet file: {exc}") from None
    columns = [(name, kind) for name, kind, *_rest in described if name != "file_row_number"]
    select = ", ".join(f"{_quote(name)} AS c{i}" for i, (name, _kind) in enumerate(columns))
    cur.execute(f"CREATE OR REPLACE TEMP VIEW src_file AS SELECT {select}, file_row_number + 1 AS __row FROM {scan}")
    return _Source([n.strip() for n, _k in columns], [k for _n, k in columns], rows, PARQUET_ROW_NUMBERS)


def _open_csv(cur: duckdb.DuckDBPyConnection, path: Path, delimiter: str | None) -> _Source:
    import pyarrow.csv as pacsv

    try:
        with path.open("rb") as handle:
            first = handle.readline().decode("utf-8-sig", errors="replace")
        if delimiter is None:
            counts = {d: first.count(d) for d in (",", ";", "\t", "|")}
            delimiter = max(counts, key=lambda d: counts[d]) if any(counts.values()) else ","
        names = pacsv.open_csv(
            path,
            read_options=pacsv.ReadOptions(encoding="utf8"),
            parse_options=pacsv.ParseOptions(delimiter=delimiter),
        ).schema.names
        table = pacsv.read_csv(
            path,
            parse_options=pacsv.ParseOptions(delimiter=delimiter, newlines_in_values=True),
            convert_options=pacsv.ConvertOptions(
                column_types={name: pa.string() for name in names}, strings_can_be_null=False
            ),
        )
    except (pa.ArrowException, OSError, UnicodeDecodeError) as exc:
        raise ImportUsageError(f"{path} is not a readable CSV file: {exc}") from None
    header = [name.strip() for name in table.column_names]
    table = table.rename_columns([f"c{i}" for i in range(table.num_columns)])
    table = table.append_column("__row", pa.array(range(2, 2 + table.num_rows), pa.int64()))
    cur.register("src_file", table)
    return _Source(header, ["VARCHAR"] * len(header), table.num_rows, CSV_ROW_NUMBERS)


def import_events(
    *,
    path: Path,
    mapping: dict[str, str] | None = None,
    fmt: str | None = None,
    delimiter: str | None = None,
    skip_invalid: bool = False,
    dry_run: bool = False,
    progress: Progress | None = None,
    store: EventStore | None = None,
    now: dt.datetime | None = None,
) -> ImportReport:
    """Import one file of events; ``created`` counts events added, ``unchanged`` rows already stored."""
    progress = progress or NoProgress()
    store = store or EventStore.for_settings()
    now = now or dt.datetime.now(dt.UTC)
    _check_file(path)
    is_parquet = detect_format(path, fmt) == "parquet"
    progress.stage(f"Reading {path.name}", None)
    sha = file_sha256(path)
    with store.writer_lock("import"), store.cursor() as cur:
        source = _open_parquet(cur, path) if is_parquet else _open_csv(cur, path, delimiter)
        try:
            return _import(cur, store, path, source, mapping or {}, sha, skip_invalid, dry_run, progress, now)
        finally:
            for view in ("to_add", "staged", "src_file"):
                cur.execute(f"DROP VIEW IF EXISTS {view}")
            cur.execute("DROP TABLE IF EXISTS known_accounts")
            if not is_parquet:
                cur.unregister("src_file")


def _import(
    cur: duckdb.DuckDBPyConnection,
    store: EventStore,
    path: Path,
    source: _Source,
    mapping: dict[str, str],
    sha: str,
    skip_invalid: bool,
    dry_run: bool,
    progress: Progress,
    now: dt.datetime,
) -> ImportReport:
    columns = resolve_columns(header=source.header, fields=FIELDS, required=REQUIRED, mapping=mapping)
    used = set(columns.index.values())
    extra = [name for i, name in enumerate(source.header) if i not in used and name]
    report = ImportReport(
        entity="events", path=str(path), row_numbers=source.row_numbers, rows=source.rows, dry_run=dry_run
    )
    if extra:
        report.notes.append("columns stored as event properties: " + ", ".join(extra))
    known = list(Account.objects.exclude(external_id=None).values_list("external_id", "id"))
    # Passed as two lists (pa.array of Python objects would import pandas: a second of start-up).
    cur.execute(
        "CREATE OR REPLACE TEMP TABLE known_accounts AS "
        "SELECT unnest(?::VARCHAR[]) AS external_id, unnest(?::BIGINT[]) AS id",
        [[k for k, _ in known], [v for _, v in known]],
    )
    seen = event_import_find(sha256=sha)
    if seen is not None:
        report.unchanged = source.rows
        report.notes.append(
            f"this file was already imported on {seen.imported_at.isoformat()} ({seen.added} events added); "
            "nothing to do."
        )
        return report

    progress.stage("Validating events", source.rows)
    _stage(cur, source, columns.index, extra, now)
    invalid, lo, hi = cur.execute(
        "SELECT count(*) FILTER (WHERE NOT ok), CAST(min(ts) FILTER (WHERE ok) AS VARCHAR), "
        "CAST(max(ts) FILTER (WHERE ok) AS VARCHAR) FROM staged"
    ).fetchall()[0]
    progress.advance(source.rows)
    report.invalid_rows = int(invalid)
    report.errors = _errors(cur, columns, now) if invalid else []
    valid = source.rows - report.invalid_rows
    if invalid and not skip_invalid:
        report.created = valid  # what would be offered; nothing is written
        return report
    report.skipped = report.invalid_rows
    if dry_run or not valid:
        report.created = valid if dry_run else 0
        return report

    progress.stage("Writing events", valid)
    _select_new(cur, has_event_id="event_id" in columns.index, lo=lo, hi=hi)
    # Written in parallel in file order (exports are usually time-ordered), not re-sorted: sorting
    # 100 million rows would cost more than the rest of the import; `tandem ingest compact` sorts.
    cur.execute("SET preserve_insertion_order = false")
    try:
        written = store.write_relation(
            cur,
            "SELECT account_id, NULL AS contact_id, user_id, event, ts, quantity, properties, NULL AS source_id, "
            "event_id AS message_id, NULL AS dedupe_key, NULL AS received_at FROM to_add",
            sort=False,
            split=True,
        )
    finally:
        cur.execute("RESET preserve_insertion_order")
    added = written.rows
    progress.advance(valid)
    store.catalog_add_files(written.paths)
    event_import_record(sha256=sha, path=str(path), imported_at=now, rows=source.rows, added=added)
    report.created = added
    report.unchanged = valid - added
    report.written = True
    return report


def _field_sql(field: str, index: dict[str, int], types: list[str]) -> str:
    """The file column of ``field`` as text (empty and blank are NULL), or NULL when absent."""
    if field not in index:
        return "NULL::VARCHAR"
    column, kind = f"c{index[field]}", types[index[field]]
    if kind in TEXT_TYPES:
        return f"NULLIF(trim(CAST({column} AS VARCHAR)), '')"
    return f"CAST({column} AS VARCHAR)"


def _stage(
    cur: duckdb.DuckDBPyConnection, source: _Source, index: dict[str, int], extra: list[str], now: dt.datetime
) -> None:
    """The view ``staged``: the file's rows mapped to fields, parsed, with account ids and an ``ok`` flag.

    Typed Parquet columns are read as they are (a timestamp column is not parsed from text, a
    number column is not cast), which is what keeps a scan of 100 million rows cheap.
    """
    types = source.types

    def typed(field: str, target: str) -> tuple[str, str]:
        """(value, raw-value-is-present) for a field parsed to ``target``."""
        if field not in index:
            return f"NULL::{target}", "false"
        column, kind = f"c{index[field]}", types[index[field]]
        if kind in TEXT_TYPES:
            text = f"NULLIF(trim(CAST({column} AS VARCHAR)), '')"
            return f"TRY_CAST({text} AS {target})", f"({text} IS NOT NULL)"
        return f"TRY_CAST({column} AS {target})", f"({column} IS NOT NULL)"

    ts, ts_present = typed("timestamp", "TIMESTAMPTZ")
    quantity, quantity_present = typed("quantity", "DOUBLE")
    props = _field_sql("properties", index, types)
    if "properties" in index and types[index["properties"]] not in TEXT_TYPES:
        props = f"CAST(to_json(c{index['properties']}) AS VARCHAR)"
    if extra:
        pairs = ", ".join(f"{_sql_string(name)}, c{source.header.index(name)}" for name in extra)
        extra_json = f"CAST(json_object({pairs}) AS VARCHAR)"
        props = f"coalesce({props}, {extra_json})" if "properties" in index else extra_json
    limit = now + MAX_FUTURE
    cur.execute(
        f"""
        CREATE OR REPLACE TEMP VIEW staged AS
        WITH parsed AS (
            SELECT __row,
                {_field_sql("account_external_id", index, types)} AS account_external_id,
                {ts} AS ts, {ts_present} AS ts_present,
                {_field_sql("event", index, types)} AS event,
                {_field_sql("user_id", index, types)} AS user_id,
                {quantity} AS quantity_value, {quantity_present} AS quantity_present,
                {props} AS properties,
                {_field_sql("event_id", index, types)} AS event_id
            FROM src_file
        )
        SELECT p.*, a.id AS account_id, coalesce(p.quantity_value, 1.0) AS quantity,
            a.id IS NOT NULL AND p.ts IS NOT NULL
              AND p.ts >= TIMESTAMPTZ '{EARLIEST.isoformat()}' AND p.ts <= TIMESTAMPTZ '{limit.isoformat()}'
              AND p.event IS NOT NULL AND (p.quantity_value IS NOT NULL OR NOT p.quantity_present)
              AND (p.properties IS NULL OR (json_valid(p.properties)
                   AND starts_with(ltrim(p.properties, {JSON_SPACE}), '{{'))) AS ok
        FROM parsed p LEFT JOIN known_accounts a ON a.external_id = p.account_external_id
        """
    )


def _select_new(cur: duckdb.DuckDBPyConnection, *, has_event_id: bool, lo: str, hi: str) -> None:
    """The view ``to_add``: valid rows not stored yet (see the module docstring for the rules)."""
    stored = "events e WHERE e.source_id IS NULL AND e.ts BETWEEN ?::TIMESTAMPTZ AND ?::TIMESTAMPTZ"
    overlap = cur.execute(f"SELECT count(*) FROM (SELECT 1 FROM {stored} LIMIT 1)", [lo, hi]).fetchall()[0][0]
    by_id = ""
    if has_event_id:
        # First row of an id wins; an id already stored (imported within a week of this time) is skipped.
        by_id = f"""
            UNION ALL
            SELECT * FROM staged s WHERE ok AND event_id IS NOT NULL
              AND event_id NOT IN (
                SELECT e.message_id FROM events e WHERE e.source_id IS NULL AND e.message_id IS NOT NULL
                  AND e.ts BETWEEN TIMESTAMPTZ '{lo}' - {EVENT_ID_WINDOW}
                  AND TIMESTAMPTZ '{hi}' + {EVENT_ID_WINDOW})
            QUALIFY row_number() OVER (PARTITION BY event_id ORDER BY __row) = 1
        """
    content = "account_id, event, ts, user_id, quantity, properties"
    if not overlap:
        by_content = "SELECT * FROM staged WHERE ok AND event_id IS NULL"
    else:
        # Multiset difference: of n identical rows in the file, add n minus the number already stored.
        by_content = f"""
            WITH fresh AS (SELECT * FROM staged WHERE ok AND event_id IS NULL),
            held AS (
                SELECT account_id, event, ts, user_id, quantity, CAST(properties AS VARCHAR) AS properties,
                    count(*) AS held
                FROM events e WHERE e.source_id IS NULL AND e.message_id IS NULL
                  AND e.ts BETWEEN TIMESTAMPTZ '{lo}' AND TIMESTAMPTZ '{hi}'
                GROUP BY ALL
            ), matched AS (
                SELECT f.*, h.held FROM fresh f LEFT JOIN held h
                ON f.account_id = h.account_id AND f.event = h.event AND f.ts = h.ts
                  AND f.user_id IS NOT DISTINCT FROM h.user_id AND f.quantity = h.quantity
                  AND f.properties IS NOT DISTINCT FROM h.properties
            )
            SELECT * EXCLUDE (held) FROM matched WHERE held IS NULL
            UNION ALL
            SELECT * EXCLUDE (held) FROM matched WHERE held IS NOT NULL
            QUALIFY row_number() OVER (PARTITION BY {content} ORDER BY __row) > held
        """
    cur.execute(f"CREATE OR REPLACE TEMP VIEW to_add AS {by_content} {by_id}")


def _errors(cur: duckdb.DuckDBPyConnection, columns: ColumnMap, now: dt.datetime) -> list[RowError]:
    """Word the reasons of the first MAX_REPORTED_ERRORS invalid rows, naming the file's columns."""
    index = columns.index

    def raw(field: str) -> str:
        return f"CAST(c{index[field]} AS VARCHAR)" if field in index else "NULL::VARCHAR"

    rows = cur.execute(
        f"""
        SELECT s.__row, s.account_external_id, s.account_id, {raw("timestamp")}, s.ts_present,
            CAST(s.ts AS VARCHAR), s.event, {raw("quantity")}, s.quantity_present, s.quantity_value, s.properties,
            s.properties IS NOT NULL AND NOT coalesce(json_valid(s.properties)
                AND starts_with(ltrim(s.properties, {JSON_SPACE}), '{{'), false)
        FROM staged s JOIN src_file f ON f.__row = s.__row
        WHERE NOT s.ok ORDER BY s.__row LIMIT {MAX_REPORTED_ERRORS}
        """
    ).fetchall()
    limit = now + MAX_FUTURE
    errors: list[RowError] = []
    for number, ext, account_id, ts_raw, ts_present, ts_text, event, q_raw, q_present, q_value, props, bad in rows:
        if ext is None:
            errors.append(RowError(number, columns.column("account_external_id"), "", "a value is required."))
        elif account_id is None:
            errors.append(
                RowError(number, columns.column("account_external_id"), ext, f"no account with external_id '{ext}'.")
            )
        if not ts_present:
            errors.append(RowError(number, columns.column("timestamp"), "", "a value is required."))
        elif ts_text is None:
            errors.append(
                RowError(number, columns.column("timestamp"), ts_raw, f"'{ts_raw}' is not an ISO 8601 date and time.")
            )
        else:
            moment = dt.datetime.fromisoformat(ts_text.replace("+00", "+00:00"))
            if moment > limit:
                errors.append(
                    RowError(number, columns.column("timestamp"), ts_raw, "is more than one day in the future.")
                )
            elif moment < EARLIEST:
                errors.append(RowError(number, columns.column("timestamp"), ts_raw, "is before the year 2000."))
        if event is None:
            errors.append(RowError(number, columns.column("event"), "", "a value is required."))
        if q_present and q_value is None:
            errors.append(
                RowError(
                    number,
                    columns.column("quantity"),
                    (q_raw or "").strip(),
                    f"'{(q_raw or '').strip()}' is not a number.",
                )
            )
        if bad:
            errors.append(RowError(number, columns.column("properties"), (props or "")[:100], "is not a JSON object."))
    return errors
