"""Recording timeline events: called by the owning apps' write services, inside their transaction.

An app that changes something worth seeing on an account's timeline calls :func:`record` (one
event) or :func:`record_many` (bulk paths: the rules engine, imports, the daily pipeline, the demo)
from the service that made the change, so the entry is written in the same transaction and exists
only if the change does. Signals are not used: a bulk write or a queryset update would skip them.

``data`` is what the timeline shows, taken when it happened (a CTA's title, a stage before and
after, an amount and its currency). Amounts go under keys listed in :data:`VALUE_KEYS`, which the
timeline masks for readers who may not see contract values.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.models import Model

from tandem.core import bulk
from tandem.core.models import concrete_field
from tandem.timeline.models import EventKind, TimelineEvent

# Keys of ``data`` that hold contract values (ARR, MRR, an opportunity's amount).
VALUE_KEYS = frozenset({"arr", "arr_before", "mrr", "mrr_before", "amount", "amount_before"})


@dataclass(frozen=True)
class Event:
    """One event for :func:`record_many`."""

    account_id: int
    kind: EventKind
    occurred_at: dt.datetime
    actor_id: int | None = None
    contact_id: int | None = None
    target: Model | None = None
    data: Mapping[str, Any] = field(default_factory=dict)


def _jsonable(data: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in data.items():
        if isinstance(value, dt.date | dt.datetime):
            out[key] = value.isoformat()
        elif value is None or isinstance(value, bool | int | float | str | list):
            out[key] = value
        else:  # Decimal, enums, lazy strings: stored as text
            out[key] = str(value)
    return out


def _build(event: Event, types: dict[type[Model], ContentType]) -> TimelineEvent:
    target_type = target_id = None
    if event.target is not None:
        model = type(event.target)
        if model not in types:
            types[model] = ContentType.objects.get_for_model(model)
        target_type, target_id = types[model], event.target.pk
    return TimelineEvent(
        account_id=event.account_id,
        contact_id=event.contact_id,
        kind=event.kind,
        occurred_at=event.occurred_at,
        actor_id=event.actor_id,
        target_type=target_type,
        target_id=target_id,
        data=_jsonable(event.data),
    )


def record(
    *,
    account_id: int,
    kind: EventKind,
    occurred_at: dt.datetime,
    actor_id: int | None = None,
    contact_id: int | None = None,
    target: Model | None = None,
    data: Mapping[str, Any] | None = None,
) -> TimelineEvent:
    """Record one event on an account's timeline (and its contact's, when ``contact_id`` is given)."""
    event = Event(account_id, kind, occurred_at, actor_id, contact_id, target, data or {})
    row = _build(event, {})
    row.save()
    return row


_COLUMNS = ("account", "contact", "kind", "occurred_at", "actor", "target_type", "target_id", "data")


def record_many(events: Iterable[Event]) -> int:
    """Record many events in batches; returns how many were written.

    The bulk paths (imports, the demo, the daily pipeline) write tens of thousands at once, so the
    rows go in as prepared tuples, many per statement (``tandem.core.bulk.insert_rows``), not as
    model instances: under ten microseconds an event instead of the ~60 of ``bulk_create``.
    """
    types: dict[type[Model], int] = {}
    occurred = concrete_field(TimelineEvent, "occurred_at")
    moments: dict[dt.datetime, Any] = {}  # bulk paths share moments (the daily run's, a sync's): prepared once

    def when(moment: dt.datetime) -> Any:
        if moment not in moments:
            moments[moment] = occurred.get_db_prep_save(moment, connection)
        return moments[moment]

    def rows() -> Iterator[tuple[Any, ...]]:
        for event in events:
            target_type = target_id = None
            if event.target is not None:
                model = type(event.target)
                if model not in types:
                    types[model] = ContentType.objects.get_for_model(model).pk
                target_type, target_id = types[model], event.target.pk
            yield (
                event.account_id,
                event.contact_id,
                str(event.kind),
                when(event.occurred_at),
                event.actor_id,
                target_type,
                target_id,
                orjson.dumps(_jsonable(event.data)).decode(),  # JSON text: insert_rows takes it for JSON columns
            )

    prepared = list(rows())
    bulk.insert_rows(model=TimelineEvent, fields=_COLUMNS, rows=prepared)
    return len(prepared)


def already_recorded(target: Model, kind: EventKind) -> bool:
    """Whether an event of this kind already points at this object (keeps re-runs from doubling entries)."""
    return TimelineEvent.objects.filter(
        target_type=ContentType.objects.get_for_model(type(target)), target_id=target.pk, kind=kind
    ).exists()
