"""Reads on product usage, from the event store."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field

from tandem.usage.eventstore import CatalogEntry, EventStore
from tandem.usage.models import EventCatalogEntry, EventImport

# A chart with more series than this is unreadable; the rest are summed into "other".
MAX_FEATURES = 8


@dataclass(frozen=True)
class UsageWeekly:
    """Weekly usage of one account: ``weeks`` are Monday dates, series are aligned with them."""

    weeks: list[dt.date]
    events_by_feature: dict[str, list[float]] = field(default_factory=dict)
    other_events: list[float] = field(default_factory=list)
    active_users: list[int] = field(default_factory=list)

    @property
    def is_empty(self) -> bool:
        return not self.events_by_feature and not any(self.active_users)


def usage_weekly(*, account_id: int, weeks: int = 26, today: dt.date, store: EventStore | None = None) -> UsageWeekly:
    """Events per feature and active users per ISO week, for the ``weeks`` weeks up to ``today``."""
    store = store or EventStore.for_settings()
    this_monday = today - dt.timedelta(days=today.weekday())
    week_starts = [this_monday - dt.timedelta(weeks=n) for n in range(weeks - 1, -1, -1)]
    start, end = week_starts[0], today + dt.timedelta(days=1)
    index = {week: i for i, week in enumerate(week_starts)}

    totals: dict[str, list[float]] = defaultdict(lambda: [0.0] * weeks)
    for row in store.daily_counts(account_id=account_id, start=start, end=end):
        week = row.day - dt.timedelta(days=row.day.weekday())
        totals[row.event][index[week]] += row.events

    ranked = sorted(totals, key=lambda name: (-sum(totals[name]), name))
    other = [0.0] * weeks
    for name in ranked[MAX_FEATURES:]:
        other = [a + b for a, b in zip(other, totals[name], strict=True)]

    return UsageWeekly(
        weeks=week_starts,
        events_by_feature={name: totals[name] for name in ranked[:MAX_FEATURES]},
        other_events=other if any(other) else [],
        active_users=_weekly_active_users(
            store=store, account_id=account_id, start=start, end=end, index=index, weeks=weeks
        ),
    )


def _weekly_active_users(
    *,
    store: EventStore,
    account_id: int,
    start: dt.date,
    end: dt.date,
    index: dict[dt.date, int],
    weeks: int,
) -> list[int]:
    rows = store.weekly_active_users(account_id=account_id, start=start, end=end).items()
    users = [0] * weeks
    for week, count in rows:
        if week in index:
            users[index[week]] = int(count)
    return users


def catalog_entries() -> list[CatalogEntry]:
    """Every event name and property key seen: events by volume, each followed by its properties."""
    entries = list(EventCatalogEntry.objects.order_by())
    volume = {e.event: e.volume for e in entries if e.property == ""}
    entries.sort(key=lambda e: (-volume.get(e.event, 0), e.event, e.property != "", -e.volume, e.property))
    return [
        CatalogEntry(
            event=e.event,
            property=e.property,
            first_seen=e.first_seen.astimezone(dt.UTC),
            last_seen=e.last_seen.astimezone(dt.UTC),
            volume=int(e.volume),
        )
        for e in entries
        if e.event in volume
    ]


def event_import_find(*, sha256: str) -> EventImport | None:
    """The ledger entry of a file already imported, by content hash."""
    return EventImport.objects.filter(sha256=sha256).first()


class UsageUnavailable(Exception):
    """The event store cannot be read right now (e.g. another process holds it)."""


def _end_of(today: dt.date) -> dt.datetime:
    return dt.datetime.combine(today + dt.timedelta(days=1), dt.time.min, tzinfo=dt.UTC)


def usage_windows(*, today: dt.date, days: int, store: EventStore | None = None) -> dict[int, tuple[float, float]]:
    """Event volume per account in the last ``days`` up to ``today`` and in the ``days`` before.

    One aggregate over the event store for every account (the rules' usage-drop trigger).
    Raises :class:`UsageUnavailable` when the store cannot be read.
    """
    end = _end_of(today)
    mid = end - dt.timedelta(days=days)
    start = mid - dt.timedelta(days=days)
    try:
        table = (store or EventStore.for_settings()).query_arrow(
            "SELECT account_id, sum(quantity) FILTER (WHERE ts >= ?) AS recent, "
            "sum(quantity) FILTER (WHERE ts < ?) AS before FROM events "
            "WHERE ts >= ? AND ts < ? GROUP BY account_id",
            [mid, mid, start, end],
        )
    except Exception as exc:  # duckdb.IOException when another process holds the store
        raise UsageUnavailable(str(exc)) from exc
    rows = table.to_pydict()
    return {
        int(a): (float(r or 0), float(b or 0))
        for a, r, b in zip(rows["account_id"], rows["recent"], rows["before"], strict=True)
    }


def active_users_by_account(*, today: dt.date, days: int, store: EventStore | None = None) -> dict[int, int]:
    """Distinct active users (tracked users, else contacts) per account in the last ``days`` up to ``today``.

    Raises :class:`UsageUnavailable` when the store cannot be read.
    """
    end = _end_of(today)
    try:
        table = (store or EventStore.for_settings()).query_arrow(
            "SELECT account_id, count(DISTINCT coalesce(user_id, CAST(contact_id AS VARCHAR))) AS users "
            "FROM events WHERE ts >= ? AND ts < ? GROUP BY account_id",
            [end - dt.timedelta(days=days), end],
        )
    except Exception as exc:
        raise UsageUnavailable(str(exc)) from exc
    rows = table.to_pydict()
    return {int(a): int(u) for a, u in zip(rows["account_id"], rows["users"], strict=True)}
