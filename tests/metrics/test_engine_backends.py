"""The same metric definitions give identical results on DuckDB, PostgreSQL and Spark."""

from __future__ import annotations

import datetime as dt
import os
import shutil

import duckdb
import ibis
import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from tandem.metrics.engine import MetricSpec, Sources, compute_metrics
from tandem.metrics.sources import (
    INTERACTIONS_SCHEMA,
    MILESTONES_SCHEMA,
    NPS_SCHEMA,
    TERMS_SCHEMA,
    TICKETS_SCHEMA,
)
from tandem.usage.eventstore import SCHEMA as EVENTS_SCHEMA

pytestmark = pytest.mark.slow
UTC = dt.UTC
AS_OF = [dt.date(2025, 3, 1), dt.date(2025, 3, 15)]

SPECS = [
    MetricSpec(key="events_28d", kind="event_count"),
    MetricSpec(key="logins_28d", kind="event_count", events=("login",)),
    MetricSpec(key="users_28d", kind="distinct_users"),
    MetricSpec(key="days_28d", kind="active_days", window_days=28),
    MetricSpec(key="quantity_14d", kind="property_sum", property="quantity", window_days=14),
    MetricSpec(key="logins_change", kind="change", base="logins_28d"),
    MetricSpec(key="login_share", kind="ratio", numerator="logins_28d", denominator="events_28d"),
    MetricSpec(key="users_per_seat", kind="per_seat", base="users_28d"),
    MetricSpec(key="tenure", kind="tenure_days"),
    MetricSpec(key="mrr", kind="mrr"),
    MetricSpec(key="seats", kind="seats"),
    MetricSpec(key="open_tickets", kind="open_tickets"),
    MetricSpec(key="ticket_rate", kind="ticket_rate", window_days=60),
    MetricSpec(key="since_touch", kind="days_since_interaction"),
    MetricSpec(key="nps", kind="latest_nps", window_days=365),
    MetricSpec(key="milestones", kind="milestone_completion", window_days=90),
]


def _fixture() -> dict[str, pa.Table]:
    rng = np.random.default_rng(7)
    n = 4000
    start = dt.datetime(2024, 12, 1, tzinfo=UTC)
    ts = [start + dt.timedelta(seconds=int(s)) for s in rng.integers(0, 110 * 86400, n)]
    events = pa.table(
        {
            "account_id": rng.integers(1, 9, n),
            "contact_id": pa.array([None if i % 3 else int(i % 11) for i in range(n)], pa.int64()),
            "user_id": pa.array([None if i % 3 == 0 else f"u{i % 13}" for i in range(n)], pa.string()),
            "event": rng.choice(["login", "report", "export"], n),
            "ts": pa.array(ts, pa.timestamp("us", tz="UTC")),
            "quantity": rng.integers(1, 4, n).astype(float),
            "properties": pa.nulls(n, pa.string()),
        },
        schema=EVENTS_SCHEMA,
    )

    def day(y: int, m: int, d: int) -> dt.datetime:
        return dt.datetime(y, m, d, tzinfo=UTC)

    terms = pa.table(
        {
            "account_id": [1, 2, 3, 4, 5, 6, 7, 8, 8],
            "start_ts": [
                day(2024, 1, 1),
                day(2024, 6, 1),
                day(2025, 1, 1),
                day(2024, 1, 1),
                day(2025, 3, 10),
                day(2024, 2, 1),
                day(2023, 1, 1),
                day(2024, 1, 1),
                day(2025, 1, 1),
            ],
            "end_ts": [
                None,
                day(2025, 6, 1),
                day(2026, 1, 1),
                day(2025, 3, 5),
                None,
                None,
                day(2026, 1, 1),
                day(2025, 1, 1),
                day(2026, 1, 1),
            ],
            "seats": [10.0, 25.0, 0.0, 7.0, 3.0, 12.0, 40.0, 20.0, 15.0],
            "mrr": [300.0, 900.5, 50.0, 210.0, 90.0, 360.0, 2000.0, 600.0, 450.0],
        },
        schema=TERMS_SCHEMA,
    )
    tickets = pa.table(
        {
            "account_id": [1, 1, 2, 6, 7, 7],
            "opened_at": [
                day(2025, 1, 5),
                day(2025, 2, 20),
                day(2025, 2, 1),
                day(2024, 11, 1),
                day(2025, 3, 2),
                day(2025, 1, 30),
            ],
            "closed_at": [day(2025, 1, 9), None, day(2025, 3, 8), day(2024, 11, 2), None, day(2025, 3, 20)],
        },
        schema=TICKETS_SCHEMA,
    )
    interactions = pa.table(
        {
            "account_id": [1, 2, 2, 7, 8],
            "occurred_at": [day(2025, 2, 27), day(2025, 1, 1), day(2025, 3, 12), day(2024, 12, 24), day(2025, 3, 20)],
        },
        schema=INTERACTIONS_SCHEMA,
    )
    nps = pa.table(
        {
            "account_id": [1, 1, 2, 2, 6, 7],
            "responded_at": [
                day(2025, 2, 10),
                day(2025, 3, 1),  # at the start of 1 March: not known yet on 1 March
                dt.datetime(2025, 1, 20, 12, tzinfo=UTC),
                dt.datetime(2025, 1, 20, 12, tzinfo=UTC),  # two answers at the same moment: averaged
                day(2023, 12, 1),  # older than the 365-day window
                day(2025, 3, 10),
            ],
            "score": [9.0, 3.0, 6.0, 10.0, 8.0, 0.0],
        },
        schema=NPS_SCHEMA,
    )
    milestones = pa.table(
        {
            "account_id": [1, 1, 1, 2, 7, 6],
            "due_ts": [
                day(2025, 2, 1),
                day(2025, 2, 20),
                day(2025, 3, 10),
                day(2025, 3, 1),
                day(2025, 2, 15),
                day(2024, 1, 1),
            ],
            "completed_at": [
                day(2025, 1, 30),
                None,
                dt.datetime(2025, 2, 25, 15, tzinfo=UTC),  # done before it was due
                day(2025, 3, 5),
                day(2025, 3, 2),  # late
                None,  # due long before the 90-day window
            ],
        },
        schema=MILESTONES_SCHEMA,
    )
    return {
        "events": events,
        "terms": terms,
        "tickets": tickets,
        "interactions": interactions,
        "nps": nps,
        "milestones": milestones,
    }


TABLES = _fixture()
NAMES = {
    "events": "events",
    "terms": "m_terms",
    "tickets": "m_tickets",
    "interactions": "m_interactions",
    "nps": "m_nps",
    "milestones": "m_milestones",
}


def _run(backend) -> pd.DataFrame:
    sources = Sources(**{k: backend.table(v) for k, v in NAMES.items()})
    frames = []
    for day in AS_OF:
        df = compute_metrics(sources, SPECS, as_of=day).to_pandas()
        df.insert(0, "as_of", day)
        frames.append(df)
    out = pd.concat(frames).sort_values(["as_of", "account_id"]).reset_index(drop=True)
    return out.astype({c: float for c in out.columns if c not in ("as_of", "account_id")})


@pytest.fixture(scope="module")
def duckdb_result() -> pd.DataFrame:
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    for key, name in NAMES.items():
        con.register(f"{name}_src", TABLES[key])
        con.execute(f"CREATE TABLE {name} AS SELECT * FROM {name}_src")
    return _run(ibis.duckdb.from_connection(con))


def test_duckdb_values_are_point_in_time_correct(duckdb_result: pd.DataFrame):
    first = duckdb_result.loc[duckdb_result["as_of"] == AS_OF[0]].set_index("account_id")
    # Account 4's term ended 2025-03-05: a customer on 1 March, not on 15 March.
    assert 4 in first.index
    assert 4 not in set(duckdb_result.loc[duckdb_result["as_of"] == AS_OF[1], "account_id"])
    # Account 5 starts on 10 March: not a customer on 1 March.
    assert 5 not in first.index
    # Account 8: only the 2025 term is active on 1 March.
    assert first.loc[8, "seats"] == 15.0 and first.loc[8, "mrr"] == 450.0
    assert first.loc[8, "tenure"] == (dt.date(2025, 3, 1) - dt.date(2024, 1, 1)).days
    # Ticket 2 of account 1 is open on 1 March; account 7's ticket opened 2 March is not counted yet.
    assert first.loc[1, "open_tickets"] == 1.0
    assert first.loc[7, "open_tickets"] == 1.0  # the one opened 30 January, closed 20 March
    assert first.loc[2, "since_touch"] == (dt.date(2025, 3, 1) - dt.date(2025, 1, 1)).days
    assert np.isnan(first.loc[3, "users_per_seat"])  # zero seats: undefined, not infinite
    second = duckdb_result.loc[duckdb_result["as_of"] == AS_OF[1]].set_index("account_id")
    # Latest NPS before D: account 1's answer of 1 March 00:00 counts from 15 March on, not on 1 March.
    assert first.loc[1, "nps"] == 9.0 and second.loc[1, "nps"] == 3.0
    assert first.loc[2, "nps"] == 8.0  # two answers at the same moment: their mean
    assert np.isnan(first.loc[6, "nps"])  # only an answer older than the window
    assert np.isnan(first.loc[7, "nps"]) and second.loc[7, "nps"] == 0.0
    # Milestones: completed / (due before D or completed before D) within the window.
    assert first.loc[1, "milestones"] == pytest.approx(2 / 3)  # one open and overdue, one done early
    assert np.isnan(first.loc[2, "milestones"]) and second.loc[2, "milestones"] == 1.0  # due on D: not due yet
    assert first.loc[7, "milestones"] == 0.0 and second.loc[7, "milestones"] == 1.0  # done late, on 2 March
    assert np.isnan(first.loc[6, "milestones"])
    # Event counts match a direct count of the fixture.
    events = TABLES["events"].to_pandas()
    end = pd.Timestamp("2025-03-01", tz="UTC")
    window = events[(events.ts >= end - pd.Timedelta(days=28)) & (events.ts < end)]
    expected = window.groupby("account_id").size()
    for account_id, count in expected.items():
        if account_id in first.index:
            assert first.loc[account_id, "events_28d"] == count


def test_window_bounds_and_days_are_exact_below_a_second():
    """Events a fraction of a second either side of a window bound or of midnight land on the right side."""
    d = dt.datetime(2025, 3, 1, tzinfo=UTC)
    us = dt.timedelta(microseconds=300_000)
    stamps = [
        d - us,  # in the window (the last moment before D)
        d - dt.timedelta(days=2) + us,  # 27 Feb, just after midnight
        d - dt.timedelta(days=2) - us,  # 26 Feb, just before midnight: another day
        d - dt.timedelta(days=28) + us,  # the first moment of the 28-day window
        d - dt.timedelta(days=28) - us,  # just before it: the previous window
        d,  # on D: never counted
    ]
    n = len(stamps)
    events = pa.table(
        {
            "account_id": [1] * n,
            "contact_id": pa.nulls(n, pa.int64()),
            "user_id": ["u1"] * n,
            "event": ["login"] * n,
            "ts": pa.array(stamps, pa.timestamp("us", tz="UTC")),
            "quantity": [1.0] * n,
            "properties": pa.nulls(n, pa.string()),
        },
        schema=EVENTS_SCHEMA,
    )
    tables = {**TABLES, "events": events}
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    for key in NAMES:
        con.register(f"t_{key}_src", tables[key])
        con.execute(f"CREATE TABLE t_{key} AS SELECT * FROM t_{key}_src")
    backend = ibis.duckdb.from_connection(con)
    sources = Sources(**{k: backend.table(f"t_{k}") for k in NAMES})
    specs = [
        MetricSpec(key="events_28d", kind="event_count"),
        MetricSpec(key="days_28d", kind="active_days"),
        MetricSpec(key="change", kind="change", base="events_28d"),
    ]
    row = compute_metrics(sources, specs, as_of=d.date()).to_pandas().set_index("account_id").loc[1]
    assert row["events_28d"] == 4.0
    assert row["days_28d"] == 4.0  # 28 Feb, 27 Feb, 26 Feb, 1 Feb
    assert row["change"] == 3.0  # 4 now against 1 in the previous 28 days


def test_postgres_gives_identical_results(duckdb_result: pd.DataFrame):
    psycopg = pytest.importorskip("psycopg")
    url = os.environ.get("TANDEM_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")
    try:
        with psycopg.connect(url, connect_timeout=3, autocommit=True) as conn:
            conn.execute("DROP SCHEMA IF EXISTS tandem_metrics_equiv CASCADE")
            conn.execute("CREATE SCHEMA tandem_metrics_equiv")
    except psycopg.OperationalError:
        pytest.skip("PostgreSQL is not reachable on 127.0.0.1:5432")
    backend = ibis.postgres.connect(
        host="127.0.0.1", port=5432, user="postgres", database="test", schema="tandem_metrics_equiv"
    )
    try:
        backend.raw_sql("SET TIME ZONE 'UTC'")
        for key, name in NAMES.items():
            backend.create_table(name, TABLES[key], database="tandem_metrics_equiv")
        result = _run(backend)
    finally:
        backend.raw_sql("DROP SCHEMA IF EXISTS tandem_metrics_equiv CASCADE")
        backend.disconnect()
    pd.testing.assert_frame_equal(result, duckdb_result, check_dtype=False, rtol=1e-9)


def test_spark_gives_identical_results(duckdb_result: pd.DataFrame, tmp_path):
    pytest.importorskip("pyspark")
    if shutil.which("java") is None:
        pytest.skip("Java is not installed")
    from pyspark.sql import SparkSession

    spark = (
        SparkSession.builder.master("local[1]")
        .appName("tandem-metrics-test")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.shuffle.partitions", "1")
        .config("spark.ui.enabled", "false")
        .config("spark.driver.memory", "512m")
        .config("spark.sql.warehouse.dir", str(tmp_path / "warehouse"))
        .getOrCreate()
    )
    try:
        for key, name in NAMES.items():
            spark.createDataFrame(TABLES[key]).createOrReplaceTempView(name)  # Arrow keeps nullable ints
        backend = ibis.pyspark.connect(spark)
        result = _run(backend)
    finally:
        spark.stop()
    pd.testing.assert_frame_equal(result, duckdb_result, check_dtype=False, rtol=1e-9)
