"""The inputs of metric computation as Arrow tables, and as ibis tables on the analytics engine.

Relational inputs (contract terms, tickets, interactions, NPS responses, success milestones) are
read once from Django into Arrow. Events stay where they are: the Delta table's Parquet files.
The engine is a setting (``TANDEM_ANALYTICS_ENGINE``): on DuckDB (the default) the relational
inputs are TEMP tables on an event-store cursor whose ``events`` view is the table's latest
snapshot; on Spark the same snapshot's files are read with ``spark.read.parquet`` and the
relational inputs become Spark DataFrames. The metric definitions (ibis expressions in
tandem.metrics.engine) are the same on both, and so are the results (tests/metrics).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import ibis
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from django.conf import settings
from django.db import connections
from django.db.models import QuerySet, Sum

from tandem.core.errors import DomainError, FieldError
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
NPS_SCHEMA = pa.schema([("account_id", pa.int64()), ("responded_at", TS), ("score", pa.float64())])
MILESTONES_SCHEMA = pa.schema([("account_id", pa.int64()), ("due_ts", TS), ("completed_at", TS)])


def _rows(qs: QuerySet) -> list[tuple]:
    """The rows of a ``values_list`` queryset straight from the database driver.

    Skips Django's per-value converters (half the time at 100,000 terms): ``_column`` turns the
    driver's values (ISO strings on SQLite; date, datetime and Decimal objects on PostgreSQL) into
    typed Arrow columns in bulk.
    """
    sql, params = qs.query.sql_with_params()
    with connections[qs.db].cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _column(values: list[Any], type_: pa.DataType) -> pa.Array:
    array = pa.array(values)
    if pa.types.is_timestamp(type_) and pa.types.is_string(array.type):
        array = pc.cast(array, pa.timestamp("us"))  # 'YYYY-MM-DD[ HH:MM:SS[.ffffff]]', stored in UTC
    elif pa.types.is_floating(type_) and pa.types.is_string(array.type):
        array = pc.cast(array, pa.decimal128(38, 10))
    return pc.cast(array, type_)


def _table(rows: list[tuple], schema: pa.Schema) -> pa.Table:
    columns = list(zip(*rows, strict=True)) if rows else [() for _ in schema]
    return pa.Table.from_arrays(
        [_column(list(values), field.type) for values, field in zip(columns, schema, strict=True)], schema=schema
    )


def _mrr_rates(currencies: pa.Array, starts: pa.Array) -> np.ndarray:
    """Per term, the rate into the reporting currency valid on its start (the first known rate
    when the term starts earlier; NaN for a currency without rates)."""
    from tandem.subscriptions.models import ExchangeRate
    from tandem.subscriptions.selectors import reporting_currency

    reporting = reporting_currency()
    codes = np.asarray(currencies.to_pylist(), dtype=object)
    days = pc.cast(starts, pa.date32()).to_numpy(zero_copy_only=False).astype("datetime64[D]")
    rates = np.where(codes == reporting, 1.0, np.nan)
    table: dict[str, list[tuple[dt.date, float]]] = defaultdict(list)
    for currency, valid_from, rate in ExchangeRate.objects.order_by("currency", "valid_from").values_list(
        "currency", "valid_from", "rate"
    ):
        table[currency].append((valid_from, float(rate)))
    for currency, known in table.items():
        if currency == reporting:
            continue
        mask = codes == currency
        if not mask.any():
            continue
        valid_froms = np.array([d for d, _ in known], dtype="datetime64[D]")
        values = np.array([r for _, r in known])
        index = np.searchsorted(valid_froms, days[mask], side="right") - 1
        rates[mask] = values[np.clip(index, 0, None)]
    return rates


def terms_arrow() -> pa.Table:
    """One row per contract term: seats (plan line quantities) and MRR in the reporting currency.

    MRR is converted at the rate valid on the term's start, which is known on that day, so the
    value is point-in-time safe.
    """
    from tandem.subscriptions.models import ProductKind, Subscription, SubscriptionItem

    seats_rows = _rows(
        SubscriptionItem.objects.filter(product__kind=ProductKind.PLAN)
        .order_by()
        .values("subscription_id")
        .annotate(seats=Sum("quantity"))
        .values_list("subscription_id", "seats")
    )
    seats_by_sub = _table(seats_rows, pa.schema([("id", pa.int64()), ("seats", pa.float64())]))
    terms = _table(
        _rows(
            Subscription.objects.order_by().values_list("id", "account_id", "start_date", "end_date", "currency", "mrr")
        ),
        pa.schema(
            [
                ("id", pa.int64()),
                ("account_id", pa.int64()),
                ("start_ts", TS),
                ("end_ts", TS),
                ("currency", pa.string()),
                ("mrr", pa.float64()),
            ]
        ),
    )
    index = pc.index_in(terms.column("id"), value_set=seats_by_sub.column("id"))
    seats = pc.fill_null(pc.take(seats_by_sub.column("seats"), index), 0.0)
    rates = _mrr_rates(terms.column("currency"), terms.column("start_ts"))
    mrr = terms.column("mrr").to_numpy(zero_copy_only=False).astype(float) * rates
    return pa.Table.from_arrays(
        [terms.column("account_id"), terms.column("start_ts"), terms.column("end_ts"), seats, pa.array(mrr)],
        schema=TERMS_SCHEMA,
    )


def tickets_arrow() -> pa.Table:
    from tandem.support.models import Ticket

    return _table(_rows(Ticket.objects.order_by().values_list("account_id", "opened_at", "closed_at")), TICKETS_SCHEMA)


def interactions_arrow() -> pa.Table:
    from tandem.timeline.models import Interaction

    return _table(_rows(Interaction.objects.order_by().values_list("account_id", "occurred_at")), INTERACTIONS_SCHEMA)


def nps_arrow() -> pa.Table:
    """Every NPS response: account, when it was given and its 0-10 score."""
    from tandem.surveys.models import NpsResponse

    return _table(_rows(NpsResponse.objects.order_by().values_list("account_id", "responded_at", "score")), NPS_SCHEMA)


def milestones_arrow() -> pa.Table:
    """Every success milestone: account, due date (as midnight UTC) and completion time (null = open)."""
    from tandem.success.models import SuccessMilestone

    return _table(
        _rows(SuccessMilestone.objects.order_by().values_list("account_id", "due_date", "completed_at")),
        MILESTONES_SCHEMA,
    )


@contextmanager
def duckdb_sources() -> Iterator[Sources]:
    """Sources on DuckDB: an event-store cursor (the latest snapshot) with the relational inputs as TEMP tables."""
    from tandem.usage.eventstore import EventStore

    with EventStore.for_settings().cursor() as cur:
        backend = ibis.duckdb.from_connection(cur)
        for view, _name, build in RELATIONAL_INPUTS:
            cur.register(f"{view}_arrow", build())
            cur.execute(f"CREATE OR REPLACE TEMP TABLE {view} AS SELECT * FROM {view}_arrow")
            cur.unregister(f"{view}_arrow")
        yield Sources(
            events=backend.table("events"),
            **{name: backend.table(view) for view, name, _build in RELATIONAL_INPUTS},
        )


ENGINES = ("duckdb", "spark")
RELATIONAL_INPUTS = (
    ("tandem_metric_terms", "terms", terms_arrow),
    ("tandem_metric_tickets", "tickets", tickets_arrow),
    ("tandem_metric_interactions", "interactions", interactions_arrow),
    ("tandem_metric_nps", "nps", nps_arrow),
    ("tandem_metric_milestones", "milestones", milestones_arrow),
)


def analytics_engine() -> str:
    """The configured engine, checked: a typo must not silently fall back to another engine."""
    engine = str(getattr(settings, "TANDEM_ANALYTICS_ENGINE", "duckdb") or "duckdb").lower()
    if engine not in ENGINES:
        raise DomainError(
            f"Unknown analytics engine '{engine}'.",
            [FieldError("TANDEM_ANALYTICS_ENGINE", f"choose one of {', '.join(ENGINES)}")],
        )
    return engine


@contextmanager
def analytics_sources(engine: str | None = None) -> Iterator[Sources]:
    """Metric inputs on the configured engine (or ``engine``)."""
    chosen = engine or analytics_engine()
    if chosen == "spark":
        with spark_sources() as sources:
            yield sources
    else:
        with duckdb_sources() as sources:
            yield sources


_spark_session: Any = None


def spark_session() -> Any:
    """The process's Spark session (started once: a JVM takes seconds to start)."""
    global _spark_session
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise DomainError(
            "The Spark analytics engine needs PySpark.",
            [FieldError("TANDEM_ANALYTICS_ENGINE", "install it with pip install 'tandem[spark]' (and Java)")],
        ) from None
    if _spark_session is None:
        from tandem import config

        _spark_session = (
            SparkSession.builder.master(settings.TANDEM_SPARK_MASTER)
            .appName("tandem-metrics")
            .config("spark.sql.session.timeZone", "UTC")
            .config("spark.ui.enabled", "false")
            .config("spark.driver.memory", settings.TANDEM_SPARK_DRIVER_MEMORY)
            .config("spark.sql.warehouse.dir", str(config.tandem_home() / "spark-warehouse"))
            .config("spark.sql.shuffle.partitions", "8")
            .getOrCreate()
        )
    return _spark_session


def spark_stop() -> None:
    global _spark_session
    if _spark_session is not None:
        _spark_session.stop()
        _spark_session = None


@contextmanager
def spark_sources() -> Iterator[Sources]:
    """Sources on Spark: the event table's latest snapshot and the relational inputs as temp views."""
    from tandem.usage.eventstore import STORED_SCHEMA, EventStore

    spark = spark_session()
    files = EventStore.for_settings().parquet_files()
    events = spark.read.parquet(*files) if files else spark.createDataFrame(STORED_SCHEMA.empty_table())
    events.createOrReplaceTempView("events")
    for view, _name, build in RELATIONAL_INPUTS:
        spark.createDataFrame(build()).createOrReplaceTempView(view)  # Arrow keeps nullable ints
    backend = ibis.pyspark.connect(spark)
    try:
        yield Sources(
            events=backend.table("events"),
            **{name: backend.table(view) for view, name, _build in RELATIONAL_INPUTS},
        )
    finally:
        for view in ("events", *(v for v, _n, _b in RELATIONAL_INPUTS)):
            spark.catalog.dropTempView(view)
