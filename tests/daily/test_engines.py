"""The daily pipeline with TANDEM_ANALYTICS_ENGINE=spark leaves exactly what it leaves on DuckDB.

Both runs read the same event table (the Delta table's Parquet files) and the same relational data;
every value each step writes (metric snapshot and current values, health scores, churn risk,
renewals, CTAs, tasks, emails, digests) is compared.
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import numpy as np
import pytest

from tandem.accounts.models import Account
from tandem.daily.services import daily_pipeline_run
from tandem.metrics.sources import spark_stop
from tandem.usage.eventstore import Event, EventStore
from tests.daily.test_services import TODAY, state
from tests.daily.world import build_world

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.slow,
    pytest.mark.audit_via("fixture"),  # services called directly: the test is their interface
]


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("TANDEM_HOME", str(tmp_path))
    return tmp_path


def _usage(store: EventStore) -> None:
    rng = np.random.default_rng(5)
    ids = list(Account.objects.values_list("pk", flat=True))
    start = dt.datetime.combine(TODAY - dt.timedelta(days=70), dt.time(), tzinfo=dt.UTC)
    events = [
        Event(
            account_id=int(rng.choice(ids)),
            event=str(rng.choice(["Login", "Report Run", "Export"])),
            user_id=f"u{int(rng.integers(0, 25))}",
            ts=start + dt.timedelta(seconds=int(rng.integers(0, 72 * 86400))),  # some after TODAY: never counted
            quantity=float(rng.integers(1, 5)),
        )
        for _ in range(4000)
    ]
    for chunk in range(0, len(events), 800):  # several commits, several files
        store.append(events[chunk : chunk + 800])


def test_the_daily_pipeline_on_spark_equals_duckdb(home: Path, event_store: EventStore, settings) -> None:
    pytest.importorskip("pyspark")
    if shutil.which("java") is None:
        pytest.skip("Java is not installed")
    build_world(today=TODAY)
    _usage(event_store)

    settings.TANDEM_ANALYTICS_ENGINE = "duckdb"
    daily_pipeline_run(acting_user=None, today=TODAY)
    on_duckdb = state()

    settings.TANDEM_ANALYTICS_ENGINE = "spark"
    settings.TANDEM_SPARK_MASTER = "local[1]"
    settings.TANDEM_SPARK_DRIVER_MEMORY = "512m"
    try:
        result = daily_pipeline_run(
            acting_user=None, today=TODAY
        )  # rewrites every step's output, now from Spark's metrics
    finally:
        spark_stop()
    on_spark = state()

    assert result.metrics.result.accounts == 2
    assert len(on_duckdb["metric_snapshot"]) > 0 and on_duckdb["health"] and on_duckdb["risk"]
    events = [r for r in on_duckdb["metric_snapshot"] if r["metric"] == "events_28d"]
    assert events and all(r["value"] > 0 for r in events)  # the usage metrics really came from the store
    for key in on_duckdb:
        if key == "metric_snapshot":
            assert len(on_spark[key]) == len(on_duckdb[key])
            for spark_row, duck_row in zip(on_spark[key], on_duckdb[key], strict=True):
                assert spark_row.keys() == duck_row.keys()
                for column, value in duck_row.items():
                    assert spark_row[column] == pytest.approx(value, rel=1e-9, nan_ok=True), (column, duck_row)
        else:
            assert on_spark[key] == on_duckdb[key], key
