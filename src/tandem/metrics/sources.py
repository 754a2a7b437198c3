"""The inputs of metric computation as Arrow tables, and as ibis tables on the event store's DuckDB.

Relational inputs (contract terms, tickets, interactions) are read once from Django into Arrow;
events stay in DuckDB. On DuckDB they are loaded as TEMP tables on the process's own event-store
cursor (DuckDB allows one read-write connection per file, so no second connection is opened).
"""

from __future__ import annotations

import bisect
import datetime as dt
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal

import ibis
import pyarrow as pa

from tandem.metrics.engine import Sources

TS = pa.timestamp("us", tz="UTC")

TERMS_SCHEMA = pa.schema(
    [
        ("account_id", pa.int64()),
        ("start_ts", TS),
        ("end_ts", TS),
        ("seats", pa.float64()),
        ("mrr", pa.float64()),
    ]
)
TICKETS_SCHEMA = pa.schema([("account_id", pa.int64()), ("opened_at", TS), ("closed_at", TS)])
INTERACTIONS_SCHEMA = pa.schema([("account_id", pa.int64()), ("occurred_at", TS)])


def _midnight(day: dt.date | None) -> dt.datetime | None:
    return None if day is None else dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC)


class _Rates:
    """Exchange rate of a currency on a day (latest valid_from on or before it)."""

    def __init__(self) -> None:
        from tandem.subscriptions.models import ExchangeRate
        from tandem.subscriptions.selectors import reporting_currency

        self.reporting = reporting_currency()
        self._days: dict[str, list[dt.date]] = defaultdict(list)
        self._rates: dict[str, list[float]] = defaultdict(list)
        for currency, valid_from, rate in ExchangeRate.objects.order_by("currency", "valid_from").values_list(
            "currency", "valid_from", "rate"
        ):
            self._days[currency].append(valid_from)
            self._rates[currency].append(float(rate))

    def rate(self, currency: str, on: dt.date) -> float:
        if currency == self.reporting:
            return 1.0
        days = self._days.get(currency)
        if not days:
            return float("nan")
        i = bisect.bisect_right(days, on) - 1
        return self._rates[currency][max(i, 0)]


def terms_arrow() -> pa.Table:
    """One row per contract term: seats (plan line quantities) and MRR in the reporting currency.

    MRR is converted at the rate valid on the term's start, which is known on that day, so the
    value is point-in-time safe.
    """
    from tandem.subscriptions.models import ProductKind, Subscription, SubscriptionItem

    seats: dict[int, Decimal] = defaultdict(Decimal)
    for sub_id, qty in SubscriptionItem.objects.filter(product__kind=ProductKind.PLAN).values_list(
        "subscription_id", "quantity"
    ):
        seats[sub_id] += qty
    rates = _Rates()
    cols: dict[str, list] = {name: [] for name in TERMS_SCHEMA.names}
    for sub_id, account_id, start, end, currency, mrr in Subscription.objects.values_list(
        "id", "account_id", "start_date", "end_date", "currency", "mrr"
    ).iterator(chunk_size=5000):
        cols["account_id"].append(account_id)
        cols["start_ts"].append(_midnight(start))
        cols["end_ts"].append(_midnight(end))
        cols["seats"].append(float(seats.get(sub_id, 0)))
        cols["mrr"].append(float(mrr) * rates.rate(currency, start))
    return pa.table(cols, schema=TERMS_SCHEMA)


def tickets_arrow() -> pa.Table:
    from tandem.support.models import Ticket

    rows = list(Ticket.objects.values_list("account_id", "opened_at", "closed_at").iterator(chunk_size=20000))
    return pa.table(
        {
            "account_id": [r[0] for r in rows],
            "opened_at": [r[1] for r in rows],
            "closed_at": [r[2] for r in rows],
        },
        schema=TICKETS_SCHEMA,
    )


def interactions_arrow() -> pa.Table:
    from tandem.timeline.models import Interaction

    rows = list(Interaction.objects.values_list("account_id", "occurred_at").iterator(chunk_size=20000))
    return pa.table(
        {"account_id": [r[0] for r in rows], "occurred_at": [r[1] for r in rows]}, schema=INTERACTIONS_SCHEMA
    )


@contextmanager
def duckdb_sources() -> Iterator[Sources]:
    """Sources on the event store's DuckDB (the process's connection, a cursor of its own)."""
    from tandem.usage.eventstore import EventStore

    with EventStore.for_settings().cursor() as cur:
        cur.execute("SET TimeZone = 'UTC'")
        backend = ibis.duckdb.from_connection(cur)
        for name, table in (
            ("tandem_metric_terms", terms_arrow()),
            ("tandem_metric_tickets", tickets_arrow()),
            ("tandem_metric_interactions", interactions_arrow()),
        ):
            cur.register(f"{name}_arrow", table)
            cur.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS SELECT * FROM {name}_arrow")
            cur.unregister(f"{name}_arrow")
        yield Sources(
            events=backend.table("events"),
            terms=backend.table("tandem_metric_terms"),
            tickets=backend.table("tandem_metric_tickets"),
            interactions=backend.table("tandem_metric_interactions"),
        )
