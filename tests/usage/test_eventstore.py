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
