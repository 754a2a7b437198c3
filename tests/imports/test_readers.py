from pathlib import Path

import pytest

from tandem.imports.readers import read_table
from tandem.imports.report import ImportUsageError, RowError


def test_csv_rows_are_numbered_by_the_line_they_start_on(tmp_path: Path):
    path = tmp_path / "a.csv"
    path.write_bytes('\ufeffexternal_id;name\r\na1;"Multi\r\nline"\r\n\r\na2;Beta\r\na3;Gamma;extra\r\na4\r\n'.encode())

    table = read_table(path)

    assert table.columns == ["external_id", "name"]
    assert table.rows == [(2, ["a1", "Multi\nline"]), (5, ["a2", "Beta"]), (7, ["a4", ""])]
    assert table.errors == [RowError(6, "", "", "the row has 3 values but the header has 2 columns.")]


def test_explicit_delimiter_and_format(tmp_path: Path):
    path = tmp_path / "data.txt"
    path.write_text("a|b\n1|2\n")

    assert read_table(path, delimiter="|").rows == [(2, ["1", "2"])]
    with pytest.raises(ImportUsageError, match="is not a readable Parquet file"):
        read_table(path, fmt="parquet")


def test_non_utf8_and_duplicate_headers_are_usage_errors(tmp_path: Path):
    latin = tmp_path / "latin.csv"
    latin.write_bytes("name\nCafé\n".encode("latin-1"))
    with pytest.raises(ImportUsageError, match="is not UTF-8 text"):
        read_table(latin)

    twice = tmp_path / "twice.csv"
    twice.write_text("name,Name\nx,y\n")
    with pytest.raises(ImportUsageError, match="the column 'Name' appears twice"):
        read_table(twice)
