"""Bulk import of usage events from CSV or Parquet into the DuckDB event store.

Unlike the relational imports, rows never pass through Python one by one: the file is read into
Arrow, mapped, validated, hashed and de-duplicated with SQL inside DuckDB, which is what makes
millions of rows a second possible. Same contract as the other imports: every row is validated
first and nothing is written when one is invalid (unless ``skip_invalid``).

Idempotence, twice over:

* a ledger (``import_ledger`` in the store) remembers the SHA-256 of every imported file, so
  importing the same bytes again is recognised at once and adds nothing;
* every row gets a ``dedupe_key``: a hash of its ``event_id`` column when the file has one,
  otherwise of its content (account, event, timestamp, user, quantity, properties) and its
  occurrence number among identical rows of the file. Overlapping exports (January-February,
  then February-March) therefore add only the new rows, while two genuinely identical events
  in one file are both kept.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path

import duckdb
import pyarrow as pa

from tandem.accounts.models import Account
from tandem.imports.mapping import resolve_columns
from tandem.imports.progress import NoProgress, Progress
from tandem.imports.readers import CSV_ROW_NUMBERS, PARQUET_ROW_NUMBERS, detect_format
from tandem.imports.report import ImportReport, ImportUsageError, RowError
from tandem.ingest.messages import EARLIEST, MAX_FUTURE
from tandem.usage.eventstore import EventStore

FIELDS = ["account_external_id", "timestamp", "event", "user_id", "quantity", "properties", "event_id"]
REQUIRED = ["account_external_id", "timestamp", "event"]
MAX_REPORTED_ERRORS = 1000
CHUNK_ROWS = 2_000_000

LEDGER_DDL = """
CREATE TABLE IF NOT EXISTS import_ledger (
    sha256 VARCHAR PRIMARY KEY,
    path VARCHAR NOT NULL,
    imported_at TIMESTAMPTZ NOT NULL,
    rows BIGINT NOT NULL,
    added BIGINT NOT NULL
)
"""


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _read(path: Path, fmt: str | None, delimiter: str | None) -> tuple[pa.Table, str]:
    if not path.exists():
        raise ImportUsageError(f"file not found: {path}")
    if not path.is_file():
        raise ImportUsageError(f"not a file: {path}")
    if detect_format(path, fmt) == "parquet":
        import pyarrow.parquet as pq

        try:
            return pq.read_table(path), PARQUET_ROW_NUMBERS
        except (pa.ArrowException, OSError) as exc:
            raise ImportUsageError(f"{path} is not a readable Parquet file: {exc}") from None
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
    return table, CSV_ROW_NUMBERS


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _text(expr: str) -> str:
    return f"NULLIF(trim(CAST({expr} AS VARCHAR)), '')"


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
    progress.stage(f"Reading {path.name}", None)
    table, row_numbers = _read(path, fmt, delimiter)
    header = [name.strip() for name in table.column_names]
    columns = resolve_columns(header=header, fields=FIELDS, required=REQUIRED, mapping=mapping or {})
    used = set(columns.index.values())
    extra = [name for i, name in enumerate(header) if i not in used and name]
    report = ImportReport(
        entity="events", path=str(path), row_numbers=row_numbers, rows=table.num_rows, dry_run=dry_run
    )
    if extra:
        report.notes.append("columns stored as event properties: " + ", ".join(extra))

    sha = file_sha256(path)
    with store.cursor() as cur:
        cur.execute(LEDGER_DDL)
        cur.execute("SET TimeZone = 'UTC'")
        seen = cur.execute(
            "SELECT CAST(imported_at AS VARCHAR), added FROM import_ledger WHERE sha256 = ?", [sha]
        ).fetchall()
        if seen:
            report.unchanged = table.num_rows
            report.notes.append(
                f"this file was already imported on {seen[0][0]} ({seen[0][1]} events added); nothing to do."
            )
            return report

        offset = 2 if row_numbers == CSV_ROW_NUMBERS else 1
        table = table.rename_columns([f"c{i}" for i in range(table.num_columns)])
        table = table.append_column("__row", pa.array(range(offset, offset + table.num_rows), pa.int64()))
        known = list(Account.objects.exclude(external_id=None).values_list("external_id", "id"))
        accounts = pa.table(
            {
                "external_id": pa.array([k for k, _ in known], pa.string()),
                "id": pa.array([v for _, v in known], pa.int64()),
            }
        )
        cur.register("src_file", table)
        cur.register("known_accounts", accounts)
        try:
            progress.stage("Validating events", table.num_rows)
            _stage(cur, columns.index, header, extra)
            errors, invalid = _validate(cur, columns, now)
            progress.advance(table.num_rows)
            report.errors = errors
            report.invalid_rows = invalid
            valid = table.num_rows - invalid
            if invalid and not skip_invalid:
                report.created = valid  # what would be offered; nothing is written
                return report
            report.skipped = invalid
            if dry_run:
                report.created = valid
                return report
            progress.stage("Writing events", valid)
            cur.execute("BEGIN")
            added = 0
            for start in range(offset, offset + table.num_rows, CHUNK_ROWS):
                cur.execute(
                    "CREATE OR REPLACE TEMP VIEW chunk AS SELECT account_id, NULL::BIGINT AS contact_id, user_id, "
                    "event, ts, quantity, properties, NULL::BIGINT AS source_id, event_id AS message_id, dedupe_key, "
                    "NULL::TIMESTAMPTZ AS received_at FROM staged "
                    f"WHERE ok AND __row >= {start} AND __row < {start + CHUNK_ROWS}"
                )
                added += store.append_new_relation(cur, "chunk")
                progress.advance(min(CHUNK_ROWS, valid))
            cur.execute(
                "INSERT INTO import_ledger VALUES (?, ?, ?, ?, ?)", [sha, str(path), now, table.num_rows, added]
            )
            cur.execute("COMMIT")
            report.created = added
            report.unchanged = valid - added
            report.written = True
        finally:
            cur.execute("DROP VIEW IF EXISTS chunk")
            cur.execute("DROP TABLE IF EXISTS staged")
            cur.unregister("src_file")
            cur.unregister("known_accounts")
    return report


def _stage(cur: duckdb.DuckDBPyConnection, index: dict[str, int], header: list[str], extra: list[str]) -> None:
    """Map the file's columns to fields, parse them, look accounts up and compute dedupe keys."""

    def col(field: str) -> str:
        return f"c{index[field]}" if field in index else "NULL"

    props = f"{_text(col('properties'))}" if "properties" in index else "NULL"
    if extra:
        pairs = ", ".join(f"'{name.replace(chr(39), chr(39) * 2)}', c{header.index(name)}" for name in extra)
        extra_json = f"json_object({pairs})"
        props = (
            f"CASE WHEN {props} IS NULL THEN CAST({extra_json} AS VARCHAR) ELSE {props} END"
            if "properties" in index
            else f"CAST({extra_json} AS VARCHAR)"
        )
    ts_col = col("timestamp")
    cur.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE parsed AS
        SELECT __row,
            {_text(col("account_external_id"))} AS account_external_id,
            {_text(ts_col)} AS ts_raw,
            TRY_CAST({ts_col} AS TIMESTAMPTZ) AS ts,
            {_text(col("event"))} AS event,
            {_text(col("user_id"))} AS user_id,
            {_text(col("quantity"))} AS quantity_raw,
            TRY_CAST({col("quantity")} AS DOUBLE) AS quantity_value,
            {props} AS properties,
            {_text(col("event_id"))} AS event_id
        FROM src_file
        """
    )
    cur.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE staged AS
        SELECT p.*, a.id AS account_id, coalesce(p.quantity_value, 1.0) AS quantity,
            p.account_external_id IS NOT NULL AND a.id IS NOT NULL AND p.ts IS NOT NULL
              AND p.ts >= TIMESTAMPTZ '{EARLIEST.isoformat()}' AND p.ts <= ?::TIMESTAMPTZ
              AND p.event IS NOT NULL AND (p.quantity_raw IS NULL OR p.quantity_value IS NOT NULL)
              AND (p.properties IS NULL OR json_type(try_cast(p.properties AS JSON)) = 'OBJECT') AS ok,
            CASE WHEN p.event_id IS NOT NULL THEN md5_number_lower('id' || chr(31) || p.event_id)
            ELSE md5_number_lower(concat_ws(chr(31), a.id, p.event, epoch_us(p.ts), coalesce(p.user_id, ''),
                coalesce(p.quantity_value, 1.0), coalesce(p.properties, ''),
                row_number() OVER (PARTITION BY a.id, p.event, p.ts, p.user_id, p.quantity_value, p.properties
                                   ORDER BY p.__row)))
            END AS dedupe_key
        FROM parsed p LEFT JOIN known_accounts a ON a.external_id = p.account_external_id
        """,
        [dt.datetime.now(dt.UTC) + MAX_FUTURE],
    )
    cur.execute("DROP TABLE parsed")


def _validate(cur: duckdb.DuckDBPyConnection, columns, now: dt.datetime) -> tuple[list[RowError], int]:
    invalid = int(cur.execute("SELECT count(*) FROM staged WHERE NOT ok").fetchall()[0][0])
    if not invalid:
        return [], 0
    rows = cur.execute(
        f"""
        SELECT __row, account_external_id, account_id, ts_raw, event, quantity_raw, quantity_value, properties
        FROM staged WHERE NOT ok ORDER BY __row LIMIT {MAX_REPORTED_ERRORS}
        """
    ).fetchall()
    check = cur.execute(
        "SELECT __row, properties IS NOT NULL AND coalesce(json_type(try_cast(properties AS JSON)), '') <> 'OBJECT', "
        "CAST(ts AS VARCHAR) FROM staged WHERE NOT ok ORDER BY __row LIMIT ?",
        [MAX_REPORTED_ERRORS],
    ).fetchall()
    bad_props = {r[0]: r[1] for r in check}
    ts_text = {r[0]: r[2] for r in check}
    limit = now + MAX_FUTURE
    errors: list[RowError] = []
    for number, ext, account_id, ts_raw, event, q_raw, q_value, props in rows:
        if ext is None:
            errors.append(RowError(number, columns.column("account_external_id"), "", "a value is required."))
        elif account_id is None:
            errors.append(
                RowError(number, columns.column("account_external_id"), ext, f"no account with external_id '{ext}'.")
            )
        if ts_raw is None:
            errors.append(RowError(number, columns.column("timestamp"), "", "a value is required."))
        elif ts_text[number] is None:
            errors.append(
                RowError(number, columns.column("timestamp"), ts_raw, f"'{ts_raw}' is not an ISO 8601 date and time.")
            )
        else:
            moment = dt.datetime.fromisoformat(ts_text[number].replace("+00", "+00:00"))
            if moment > limit:
                errors.append(
                    RowError(number, columns.column("timestamp"), ts_raw, "is more than one day in the future.")
                )
            elif moment < EARLIEST:
                errors.append(RowError(number, columns.column("timestamp"), ts_raw, "is before the year 2000."))
        if event is None:
            errors.append(RowError(number, columns.column("event"), "", "a value is required."))
        if q_raw is not None and q_value is None:
            errors.append(RowError(number, columns.column("quantity"), q_raw, f"'{q_raw}' is not a number."))
        if bad_props.get(number):
            errors.append(RowError(number, columns.column("properties"), (props or "")[:100], "is not a JSON object."))
    return errors, invalid
