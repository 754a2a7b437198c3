import datetime as dt

from tandem.usage.eventstore import Event, EventStore
from tandem.usage.selectors import MAX_FEATURES, usage_weekly

UTC = dt.UTC
TODAY = dt.date(2025, 6, 4)  # a Wednesday; its week starts Monday 2 June


def at(day: dt.date, hour: int = 12) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), tzinfo=UTC)


def test_usage_weekly_sums_events_per_feature_per_iso_week(event_store: EventStore):
    event_store.append(
        [
            Event(account_id=1, event="login", ts=at(dt.date(2025, 6, 2)), user_id="a"),
            Event(account_id=1, event="login", ts=at(dt.date(2025, 6, 4), 23), user_id="b"),
            Event(account_id=1, event="export", ts=at(dt.date(2025, 6, 3)), quantity=5, user_id="a"),
            Event(account_id=1, event="login", ts=at(dt.date(2025, 5, 26)), user_id="a"),
            # Outside the window: before the first week, tomorrow, another account.
            Event(account_id=1, event="login", ts=at(dt.date(2025, 5, 25)), user_id="a"),
            Event(account_id=1, event="login", ts=at(dt.date(2025, 6, 5)), user_id="a"),
            Event(account_id=2, event="login", ts=at(dt.date(2025, 6, 2)), user_id="z"),
        ]
    )

    usage = usage_weekly(account_id=1, weeks=2, today=TODAY)

    assert usage.weeks == [dt.date(2025, 5, 26), dt.date(2025, 6, 2)]
    assert usage.events_by_feature == {"export": [0.0, 5.0], "login": [1.0, 2.0]}
    assert usage.other_events == []
    assert usage.active_users == [1, 2]
    assert usage.is_empty is False


def test_weekly_active_users_counts_each_person_once_per_week(event_store: EventStore):
    # The same user on three days and a contact-only event: 2 people, not 4 daily actives.
    event_store.append(
        [
            Event(account_id=1, event="login", ts=at(dt.date(2025, 6, 2)), user_id="a"),
            Event(account_id=1, event="login", ts=at(dt.date(2025, 6, 3)), user_id="a"),
            Event(account_id=1, event="report", ts=at(dt.date(2025, 6, 4)), user_id="a"),
            Event(account_id=1, event="login", ts=at(dt.date(2025, 6, 4)), contact_id=7),
        ]
    )

    usage = usage_weekly(account_id=1, weeks=1, today=TODAY)

    assert usage.active_users == [2]


def test_features_beyond_the_limit_are_summed_as_other(event_store: EventStore):
    day = at(dt.date(2025, 6, 2))
    events = [
        Event(account_id=1, event=f"feature_{n:02d}", ts=day, quantity=100 - n, user_id="a")
        for n in range(MAX_FEATURES + 2)
    ]
    event_store.append(events)

    usage = usage_weekly(account_id=1, weeks=1, today=TODAY)

    assert list(usage.events_by_feature) == [f"feature_{n:02d}" for n in range(MAX_FEATURES)]
    assert usage.other_events == [float((100 - MAX_FEATURES) + (100 - MAX_FEATURES - 1))]


def test_no_events_is_empty(event_store: EventStore):
    usage = usage_weekly(account_id=1, weeks=26, today=TODAY)

    assert usage.is_empty is True
    assert len(usage.weeks) == 26
    assert usage.active_users == [0] * 26
