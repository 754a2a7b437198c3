"""TANDEM_ANALYTICS_ENGINE: the daily metrics computed on Spark (local mode) equal DuckDB's, value for value.

Both engines read the same event table (the Delta table's Parquet files, written here through the
event store as the tracking API and imports write them) and the same relational inputs.
"""

from __future__ import annotations

import datetime as dt
import shutil
from decimal import Decimal

import numpy as np
import pandas as pd
import pytest

from tandem.core.errors import DomainError
from tandem.metrics import store
from tandem.metrics.services import metrics_compute, metrics_install_defaults
from tandem.metrics.sources import analytics_engine, spark_stop
from tandem.subscriptions.services import subscription_recompute_totals
from tandem.usage.eventstore import Event
from tests.factories import AccountFactory, SubscriptionFactory, SubscriptionItemFactory, TicketFactory

pytestmark = [pytest.mark.django_db, pytest.mark.slow]
UTC = dt.UTC
DAYS = [dt.date(2025, 3, 4), dt.date(2025, 3, 18)]


@pytest.fixture(autouse=True)
def clean_snapshots():
    store.delete_snapshots("metrics")
    yield
    store.delete_snapshots("metrics")


def _company(event_store) -> None:
    rng = np.random.default_rng(11)
    accounts = [AccountFactory(name=f"Engine {n}") for n in range(12)]
    for n, account in enumerate(accounts):
        sub = SubscriptionFactory(
            account=account, start_date=dt.date(2024, 1 + n % 12, 1), end_date=dt.date(2025, 3, 10 + n)
        )
        SubscriptionItemFactory(subscription=sub, quantity=Decimal(3 + n), unit_price=Decimal("40.00"))
        subscription_recompute_totals(subscription=sub)
        if n % 3 == 0:
            TicketFactory(account=account, opened_at=dt.datetime(2025, 2, 1 + n, tzinfo=UTC))
    start = dt.datetime(2024, 12, 1, tzinfo=UTC)
    events = [
        Event(
            account_id=accounts[int(rng.integers(0, 12))].pk,
            event=str(rng.choice(["login", "report_run", "export"])),
            user_id=f"u{int(rng.integers(0, 30))}",
            ts=start + dt.timedelta(seconds=int(rng.integers(0, 110 * 86400))),
            quantity=float(rng.integers(1, 4)),
        )
        for _ in range(3000)
    ]
    for chunk in range(0, len(events), 1000):  # several commits, several files
        event_store.append(events[chunk : chunk + 1000])


def _snapshots() -> pd.DataFrame:
    frame = store.read_snapshots("metrics").to_pandas()
    return frame.sort_values(list(frame.columns[:3])).reset_index(drop=True)


def test_spark_computes_the_same_daily_metrics_as_duckdb(event_store, settings, tmp_path):
    pytest.importorskip("pyspark")
    if shutil.which("java") is None:
        pytest.skip("Java is not installed")
    _company(event_store)
    metrics_install_defaults()

    settings.TANDEM_ANALYTICS_ENGINE = "duckdb"
    on_duckdb = metrics_compute(dates=DAYS)
    duck = _snapshots()
    store.delete_snapshots("metrics")

    settings.TANDEM_ANALYTICS_ENGINE = "spark"
    settings.TANDEM_SPARK_MASTER = "local[1]"
    settings.TANDEM_SPARK_DRIVER_MEMORY = "512m"
    try:
        on_spark = metrics_compute(dates=DAYS)
    finally:
        spark_stop()
    spark = _snapshots()

    assert on_spark.accounts == on_duckdb.accounts > 0
    assert len(duck) == len(spark) > 0
    pd.testing.assert_frame_equal(spark, duck, check_dtype=False, rtol=1e-9)


def test_an_unknown_engine_is_refused_by_name(settings):
    settings.TANDEM_ANALYTICS_ENGINE = "presto"
    with pytest.raises(DomainError) as caught:
        analytics_engine()
    assert caught.value.errors[0].field == "TANDEM_ANALYTICS_ENGINE"
