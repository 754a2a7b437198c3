import datetime as dt

import pyarrow as pa

from tandem.usage.eventstore import Event, EventStore

UTC = dt.UTC


def test_append_and_daily_counts(event_store: EventStore):
    day = dt.datetime(2025, 3, 1, 10, tzinfo=UTC)
    event_store.append(
        [
            Event(account_id=1, event="login", ts=day, user_id="u1"),
            Event(account_id=1, event="login", ts=day + dt.timedelta(hours=1), user_id="u2"),
            Event(account_id=1, event="report_run", ts=day, quantity=3, user_id="u1"),
            Event(account_id=1, event="login", ts=day + dt.timedelta(days=1), user_id="u1"),
            Event(account_id=2, event="login", ts=day, user_id="x"),
        ]
    )

    counts = event_store.daily_counts(account_id=1, start=dt.date(2025, 3, 1), end=dt.date(2025, 3, 2))

    assert [(c.day, c.event, c.events, c.users) for c in counts] == [
        (dt.date(2025, 3, 1), "login", 2.0, 2),
        (dt.date(2025, 3, 1), "report_run", 3.0, 1),
    ]
    assert event_store.count() == 5
    assert event_store.count(account_id=2) == 1
    assert event_store.event_names() == ["login", "report_run"]


def test_append_arrow_fills_optional_columns_and_compact_keeps_rows(event_store: EventStore):
    table = pa.table(
        {
            "account_id": [3, 3],
            "event": ["export", "export"],
            "ts": pa.array([dt.datetime(2025, 1, 2, tzinfo=UTC), dt.datetime(2025, 1, 1, tzinfo=UTC)]),
        }
    )
    assert event_store.append_arrow(table) == 2
    event_store.compact()
    assert event_store.count(account_id=3) == 2
    counts = event_store.daily_counts(
        account_id=3, start=dt.date(2025, 1, 1), end=dt.date(2025, 1, 3), events=["export"]
    )
    assert [c.events for c in counts] == [1.0, 1.0]


def test_query_arrow_returns_an_arrow_table(event_store: EventStore):
    event_store.append([Event(account_id=9, event="login", ts=dt.datetime(2025, 1, 1, tzinfo=UTC))])
    table = event_store.query_arrow("SELECT account_id, count(*) AS n FROM events GROUP BY ALL")
    assert table.to_pylist() == [{"account_id": 9, "n": 1}]


def test_weekly_active_users_counts_each_user_once_per_week(event_store: EventStore):
    monday = dt.datetime(2025, 3, 3, 9, tzinfo=UTC)
    event_store.append(
        [
            Event(account_id=1, event="login", ts=monday, user_id="a"),
            Event(account_id=1, event="login", ts=monday + dt.timedelta(days=2), user_id="a"),
            Event(account_id=1, event="login", ts=monday + dt.timedelta(days=3), user_id="b"),
            Event(account_id=1, event="login", ts=monday + dt.timedelta(days=7), user_id="a"),
            Event(account_id=2, event="login", ts=monday, user_id="z"),
        ]
    )
    assert event_store.weekly_active_users(account_id=1, start=dt.date(2025, 3, 1), end=dt.date(2025, 3, 31)) == {
        dt.date(2025, 3, 3): 2,
        dt.date(2025, 3, 10): 1,
    }


def _events(account_id: int, n: int, day: int = 1) -> list[Event]:
    start = dt.datetime(2025, 4, day, tzinfo=UTC)
    return [Event(account_id=account_id, event="login", ts=start + dt.timedelta(minutes=i)) for i in range(n)]


def test_a_query_keeps_its_snapshot_while_compaction_and_vacuum_run(event_store: EventStore):
    for account in range(5):
        event_store.append(_events(account, 10))
    assert len(event_store.snapshot().files) == 5
    with event_store.cursor() as reader:
        assert event_store.compact() == 5
        assert event_store.vacuum() == 0  # removed files are kept for the retention period
        # The reader's snapshot still names the five old files, and they are still there.
        assert reader.execute("SELECT count(*) FROM events").fetchone()[0] == 50
    after = event_store.snapshot()
    assert len(after.files) == 1 and after.files[0].rows == 50
    rows = event_store.query_arrow("SELECT account_id FROM events").column(0).to_pylist()
    assert rows == sorted(rows)  # compaction sorts by account and time


def test_appends_committed_during_a_compaction_are_kept(event_store: EventStore, monkeypatch):
    other_process = EventStore(event_store.path)  # another process's handle on the same table
    for account in range(3):
        event_store.append(_events(account, 4))
    original = EventStore.write_relation_files

    def write_then_race(self, cur, select_sql):
        written = original(self, cur, select_sql)
        other_process.append(_events(9, 6, day=2))  # commits while the compaction's files are unwritten
        return written

    monkeypatch.setattr(EventStore, "write_relation_files", write_then_race)
    assert event_store.compact() == 3
    assert event_store.count() == 18
    assert event_store.count(account_id=9) == 6
    assert len(event_store.snapshot().files) == 2


def test_file_pruning_reads_only_files_that_can_hold_the_account(event_store: EventStore):
    event_store.append(_events(1, 5))
    event_store.append(_events(2, 5))
    snapshot = event_store.snapshot()
    assert [f.min_account for f in snapshot.select(account_ids=[2])] == [2]
    assert snapshot.select(start=dt.datetime(2026, 1, 1, tzinfo=UTC)) == []
    assert event_store.count(account_id=2) == 5


def test_an_append_records_the_bookmark_in_the_same_commit(event_store: EventStore):
    table = pa.table(
        {
            "account_id": [1, 1],
            "event": ["login", "login"],
            "ts": pa.array([dt.datetime(2025, 1, 1, tzinfo=UTC)] * 2),
            "dedupe_key": pa.array([5, 5], pa.int64()),
        }
    )
    assert event_store.append_new(table, app_transaction=("inbox-a", 7)) == 1
    assert event_store.transaction_version("inbox-a") == 7
    assert event_store.append_new(table, app_transaction=("inbox-a", 9)) == 0  # a replay adds nothing
    assert event_store.transaction_version("inbox-a") == 9
    assert event_store.count() == 1


def test_many_small_appends_are_compacted_as_they_come(event_store: EventStore, monkeypatch):
    from tandem.usage import eventstore

    monkeypatch.setattr(eventstore, "COMPACT_WHEN_SMALL_FILES", 8)
    for n in range(20):
        event_store.append(_events(n, 3))
    files = event_store.snapshot().files
    assert len(files) <= 9
    assert event_store.count() == 60
