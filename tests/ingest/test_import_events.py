"""`tandem import events`: CSV and Parquet, mapping, validation report, idempotence."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from tandem.accounts.models import Account
from tandem.cli.app import app
from tandem.imports.events import import_events
from tandem.usage.eventstore import EventStore
from tests.factories import as_fixture

pytestmark = pytest.mark.django_db


@pytest.fixture
def accounts():
    with as_fixture():
        return {a.external_id: a.pk for a in (Account.objects.create(name=n, external_id=n) for n in ("A1", "A2"))}


def write_csv(tmp_path: Path, text: str, name: str = "events.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_csv_import_maps_columns_keeps_identical_rows_and_is_idempotent(tmp_path, accounts, event_store: EventStore):
    path = write_csv(
        tmp_path,
        "Customer,When,Event Name,user_id,quantity,plan\n"
        "A1,2025-03-01T10:00:00Z,Login,u1,,pro\n"
        "A1,2025-03-01T10:00:00Z,Login,u1,,pro\n"
        "A2,2025-03-02T10:00:00+02:00,Export,u2,3,free\n",
    )
    mapping = {"Customer": "account_external_id", "When": "timestamp", "Event Name": "event"}
    report = import_events(path=path, mapping=mapping)
    assert (report.ok, report.created, report.unchanged) == (True, 3, 0)
    rows = event_store.query_arrow(
        "SELECT account_id, event, CAST(ts AS VARCHAR) AS ts, user_id, quantity, properties FROM events "
        "ORDER BY ts, account_id"
    ).to_pylist()
    assert rows == [
        {
            "account_id": accounts["A1"],
            "event": "Login",
            "ts": "2025-03-01 10:00:00+00",
            "user_id": "u1",
            "quantity": 1.0,
            "properties": '{"plan":"pro"}',
        },
        {
            "account_id": accounts["A1"],
            "event": "Login",
            "ts": "2025-03-01 10:00:00+00",
            "user_id": "u1",
            "quantity": 1.0,
            "properties": '{"plan":"pro"}',
        },
        {
            "account_id": accounts["A2"],
            "event": "Export",
            "ts": "2025-03-02 08:00:00+00",
            "user_id": "u2",
            "quantity": 3.0,
            "properties": '{"plan":"free"}',
        },
    ]
    again = import_events(path=path, mapping=mapping)
    assert (again.created, again.unchanged, event_store.count()) == (0, 3, 3)
    # An overlapping export with the same rows plus one new adds only the new row.
    overlap = write_csv(tmp_path, path.read_text() + "A2,2025-03-03T00:00:00Z,Export,u2,1,free\n", "later.csv")
    third = import_events(path=overlap, mapping=mapping)
    assert (third.created, third.unchanged, event_store.count()) == (1, 3, 4)


def test_parquet_import_with_properties_json_and_event_id(tmp_path, accounts, event_store):
    path = tmp_path / "events.parquet"
    pq.write_table(
        pa.table(
            {
                "account_external_id": ["A1", "A1"],
                "timestamp": pa.array([dt.datetime(2025, 1, 1, tzinfo=dt.UTC), dt.datetime(2025, 1, 2, tzinfo=dt.UTC)]),
                "event": ["Seat Added", "Seat Added"],
                "quantity": [2.0, 5.0],
                "properties": ['{"by": "admin"}', None],
                "event_id": ["e1", "e2"],
            }
        ),
        path,
    )
    assert import_events(path=path).created == 2
    assert [(e.event, e.property, e.volume) for e in event_store.catalog()] == [
        ("Seat Added", "", 2),
        ("Seat Added", "by", 1),
    ]
    assert (
        event_store.daily_counts(account_id=accounts["A1"], start=dt.date(2025, 1, 1), end=dt.date(2025, 1, 3))[
            1
        ].events
        == 5.0
    )


def test_invalid_rows_are_reported_and_nothing_is_written(tmp_path, accounts, event_store):
    path = write_csv(
        tmp_path,
        "account_external_id,timestamp,event,quantity,properties\n"
        "A1,2025-03-01T10:00:00Z,Login,,\n"
        "NOPE,2025-03-01T10:00:00Z,Login,,\n"
        "A1,soon,Login,,\n"
        "A1,2999-01-01T00:00:00Z,Login,,\n"
        "A1,1990-01-01T00:00:00Z,Login,,\n"
        "A1,2025-03-01T10:00:00Z,,x,[1]\n",
    )
    report = import_events(path=path)
    assert [(e.row, e.column, e.problem) for e in report.errors] == [
        (3, "account_external_id", "no account with external_id 'NOPE'."),
        (4, "timestamp", "'soon' is not an ISO 8601 date and time."),
        (5, "timestamp", "is more than one day in the future."),
        (6, "timestamp", "is before the year 2000."),
        (7, "event", "a value is required."),
        (7, "quantity", "'x' is not a number."),
        (7, "properties", "is not a JSON object."),
    ]
    assert (report.invalid_rows, report.written, event_store.count()) == (5, False, 0)
    skipped = import_events(path=path, skip_invalid=True)
    assert (skipped.created, skipped.skipped, event_store.count()) == (1, 5, 1)


def test_cli_imports_several_files_and_exits_1_on_invalid_rows(tmp_path, accounts, event_store):
    good = write_csv(tmp_path, "account_external_id,timestamp,event\nA1,2025-03-01T10:00:00Z,Login\n", "good.csv")
    bad = write_csv(tmp_path, "account_external_id,timestamp,event\nA9,2025-03-01T10:00:00Z,Login\n", "bad.csv")
    result = CliRunner().invoke(app, ["import", "events", str(good), str(bad)])
    assert result.exit_code == 1, result.output
    output = " ".join(result.output.split())
    assert "Added 1 events" in output and "no account with external_id 'A9'" in output
    missing = CliRunner().invoke(app, ["import", "events", str(tmp_path / "missing.csv")])
    assert missing.exit_code == 2


def test_sources_cli_create_list_rotate_revoke(db):
    from tandem.ingest.models import Source
    from tandem.ingest.services import source_authenticate

    runner = CliRunner()
    created = runner.invoke(app, ["sources", "create", "Billing"])
    key = created.output.strip()
    assert created.exit_code == 0 and key.startswith("tdmw_")
    assert source_authenticate(key=key).name == "Billing"
    assert "Billing" in runner.invoke(app, ["sources", "list"]).output
    rotated = runner.invoke(app, ["sources", "rotate", "Billing"]).output.strip()
    assert source_authenticate(key=key) is None and source_authenticate(key=rotated).name == "Billing"
    assert runner.invoke(app, ["sources", "revoke", "Billing"]).exit_code == 0
    assert source_authenticate(key=rotated) is None and Source.objects.get().revoked_at is not None
    assert runner.invoke(app, ["sources", "create", "Billing"]).exit_code == 2


def test_identical_rows_are_a_multiset_against_the_store(tmp_path, accounts, event_store):
    row = "A1,2025-03-01T10:00:00Z,Login,u1\n"
    header = "account_external_id,timestamp,event,user_id\n"
    assert import_events(path=write_csv(tmp_path, header + row, "one.csv")).created == 1
    # Three identical rows where one is stored already: two are new.
    three = import_events(path=write_csv(tmp_path, header + row * 3 + "A2,2025-03-01T10:00:00Z,Login,u1\n", "3.csv"))
    assert (three.created, three.unchanged, event_store.count()) == (3, 1, 4)
    assert [(e.event, e.volume) for e in event_store.catalog()] == [("Login", 4)]


def test_event_ids_are_stored_once_across_files_and_within_one(tmp_path, accounts, event_store):
    header = "account_external_id,timestamp,event,event_id\n"
    first = write_csv(tmp_path, header + "A1,2025-03-01T10:00:00Z,Login,e1\nA1,2025-03-01T11:00:00Z,Login,e1\n")
    assert import_events(path=first).created == 1
    # e1 re-exported with a corrected time (within a week) is the same event; e2 is new.
    later = write_csv(
        tmp_path, header + "A1,2025-03-02T10:00:00Z,Login,e1\nA1,2025-03-02T10:00:00Z,Login,e2\n", "b.csv"
    )
    report = import_events(path=later)
    assert (report.created, report.unchanged) == (1, 1)
    rows = event_store.query_arrow("SELECT message_id, CAST(ts AS VARCHAR) AS ts FROM events ORDER BY 1").to_pylist()
    assert rows == [
        {"message_id": "e1", "ts": "2025-03-01 10:00:00+00"},
        {"message_id": "e2", "ts": "2025-03-02 10:00:00+00"},
    ]


def test_typed_parquet_columns_are_validated_without_text_parsing(tmp_path, accounts, event_store):
    path = tmp_path / "typed.parquet"
    pq.write_table(
        pa.table(
            {
                "account_external_id": ["A1", "A1", None],
                "timestamp": pa.array(
                    [dt.datetime(2025, 1, 1, tzinfo=dt.UTC), None, dt.datetime(1999, 1, 1, tzinfo=dt.UTC)]
                ),
                "event": ["Seat Added", "Seat Added", "Seat Added"],
                "quantity": pa.array([2, 3, 4], pa.int32()),
                "properties": ['  {"by": "admin"}', '{"by": "x"}', "[1]"],
            }
        ),
        path,
    )
    report = import_events(path=path)
    assert [(e.row, e.column, e.problem) for e in report.errors] == [
        (2, "timestamp", "a value is required."),
        (3, "account_external_id", "a value is required."),
        (3, "timestamp", "is before the year 2000."),
        (3, "properties", "is not a JSON object."),
    ]
    assert (report.invalid_rows, event_store.count()) == (2, 0)
    skipped = import_events(path=path, skip_invalid=True)
    assert (skipped.created, skipped.skipped) == (1, 2)
    assert event_store.query_arrow("SELECT quantity, properties FROM events").to_pylist() == [
        {"quantity": 2.0, "properties": '{"by": "admin"}'}
    ]
