"""Read a CSV or Parquet file into rows of text cells, remembering where each row came from.

Everything becomes text here so one set of parsers serves both formats; Parquet's native
dates, numbers and booleans are written in the ISO / plain forms those parsers accept.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

from tandem.imports.report import ImportUsageError, RowError

FileFormat = Literal["csv", "parquet"]
DELIMITERS = (",", ";", "\t", "|")
CSV_ROW_NUMBERS = "line number in the file (the header is line 1)"
PARQUET_ROW_NUMBERS = "data row number (the first data row is 1; there is no header line)"


@dataclass
class Table:
    """The header and the data rows of a file: ``(row number, cells)``; empty cells are ''."""

    columns: list[str]
    rows: list[tuple[int, list[str]]]
    row_numbers: str
    errors: list[RowError] = field(default_factory=list)


def detect_format(path: Path, explicit: str | None) -> FileFormat:
    if explicit:
        fmt = explicit.lower()
        if fmt not in ("csv", "parquet"):
            raise ImportUsageError(f"unknown format '{explicit}'; use csv or parquet.")
        return "csv" if fmt == "csv" else "parquet"
    suffix = path.suffix.lower()
    if suffix in (".parquet", ".pq"):
        return "parquet"
    if suffix in (".csv", ".tsv", ".txt"):
        return "csv"
    with path.open("rb") as handle:
        return "parquet" if handle.read(4) == b"PAR1" else "csv"


def read_table(path: Path, *, fmt: str | None = None, delimiter: str | None = None) -> Table:
    if not path.exists():
        raise ImportUsageError(f"file not found: {path}")
    if not path.is_file():
        raise ImportUsageError(f"not a file: {path}")
    if detect_format(path, fmt) == "parquet":
        return read_parquet(path)
    return read_csv(path, delimiter=delimiter)


def _guess_delimiter(header_line: str) -> str:
    # Counting in the header is more predictable than csv.Sniffer, which guesses from data
    # and can pick a character that merely appears in values. Ties go to the comma.
    counts = {d: header_line.count(d) for d in DELIMITERS}
    best = max(DELIMITERS, key=lambda d: counts[d])
    return best if counts[best] else ","


def read_csv(path: Path, *, delimiter: str | None = None) -> Table:
    try:
        # utf-8-sig drops the byte-order mark Excel writes at the start of "CSV UTF-8" files.
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ImportUsageError(
            f"{path} is not UTF-8 text (invalid byte at offset {exc.start}); save it as CSV UTF-8 or use Parquet."
        ) from None
    if delimiter is not None:
        delimiter = {"\\t": "\t", "tab": "\t"}.get(delimiter, delimiter)
        if len(delimiter) != 1:
            raise ImportUsageError(f"the delimiter must be one character, not '{delimiter}'.")
    else:
        delimiter = _guess_delimiter(text.split("\n", 1)[0])

    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = next(reader, None)
        while header is not None and not any(cell.strip() for cell in header):
            header = next(reader, None)
        if header is None:
            raise ImportUsageError(f"{path} is empty; the first line must name the columns.")
        columns = [name.strip() for name in header]
        table = Table(columns=columns, rows=[], row_numbers=CSV_ROW_NUMBERS)
        width = len(columns)
        last_line = reader.line_num
        for cells in reader:
            # A quoted value can span lines; the row is numbered by the line it starts on.
            line, last_line = last_line + 1, reader.line_num
            if not any(cell.strip() for cell in cells):
                continue
            if len(cells) > width:
                if any(cell.strip() for cell in cells[width:]):
                    table.errors.append(
                        RowError(
                            line,
                            "",
                            "",
                            f"the row has {len(cells)} values but the header has {width} columns.",
                        )
                    )
                    continue
                cells = cells[:width]
            elif len(cells) < width:
                # Some exporters drop trailing empty cells; treat them as empty.
                cells = cells + [""] * (width - len(cells))
            table.rows.append((line, [cell.strip() for cell in cells]))
    except csv.Error as exc:
        raise ImportUsageError(f"{path} is not a readable CSV file: {exc}") from None
    _check_header(table.columns, path)
    return table


def _check_header(columns: list[str], path: Path) -> None:
    seen: set[str] = set()
    for name in columns:
        if name and name.lower() in seen:
            raise ImportUsageError(f"{path}: the column '{name}' appears twice in the header.")
        seen.add(name.lower())


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, float | int | Decimal):
        return str(value)
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace").strip()
    if isinstance(value, list | tuple):
        # A list<string> column (e.g. roles) joins the way the CSV form is written.
        return ";".join(_cell_text(item) for item in value)
    return str(value).strip()


def read_parquet(path: Path) -> Table:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        parquet = pq.ParquetFile(path)
        columns = [name.strip() for name in parquet.schema_arrow.names]
        table = Table(columns=columns, rows=[], row_numbers=PARQUET_ROW_NUMBERS)
        number = 0
        for batch in parquet.iter_batches(batch_size=20_000):
            data = [batch.column(i).to_pylist() for i in range(batch.num_columns)]
            for cells in zip(*data, strict=True):
                number += 1
                table.rows.append((number, [_cell_text(value) for value in cells]))
    except (pa.ArrowException, OSError) as exc:
        raise ImportUsageError(f"{path} is not a readable Parquet file: {exc}") from None
    _check_header(table.columns, path)
    return table
