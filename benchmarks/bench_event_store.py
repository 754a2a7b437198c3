"""Which event store lets every process read and append at once: the measurement behind the choice.

Compares, on the same generated events, in one run:

* a DuckDB database file (the previous store): bulk load, small appends, an account's daily counts,
  a full-scan aggregate, and whether a second process can open it while the first has it open;
* Delta Lake through deltalake, as Tandem's EventStore writes it (DuckDB COPY + delta-rs commits):
  the same operations, and two writer processes appending at the same time;
* Apache Iceberg through pyiceberg with its SQL catalog (SQLite here), when pyiceberg is installed:
  bulk load and small appends (its per-commit cost is what the tracking API would pay).

    python benchmarks/bench_event_store.py [--events 2000000] [--appends 100]

Results and the decision: docs/architecture.md ("The event store").
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb
import pyarrow as pa

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))


def generate(con: duckdb.DuckDBPyConnection, n: int) -> pa.Table:
    return con.sql(
        f"""SELECT (i % 100000)::BIGINT AS account_id, NULL::BIGINT AS contact_id, 'u' || (i % 700000) AS user_id,
        'event_' || (i % 20) AS event, TIMESTAMPTZ '2026-01-01' + to_seconds(i * 3) AS ts, 1.0::DOUBLE AS quantity,
        NULL::VARCHAR AS properties, NULL::BIGINT AS source_id, NULL::VARCHAR AS message_id,
        NULL::BIGINT AS dedupe_key, NULL::TIMESTAMPTZ AS received_at FROM range({n}) t(i)"""
    ).to_arrow_table()


AGGREGATE = (
    "SELECT account_id, event, count(*), count(DISTINCT user_id) FROM events "
    "WHERE ts >= TIMESTAMPTZ '2026-01-05' GROUP BY ALL"
)
ACCOUNT = (
    "SELECT CAST(ts AS DATE) AS day, event, count(*) FROM events WHERE account_id = 4242 "
    "AND ts >= TIMESTAMPTZ '2026-01-02' GROUP BY ALL"
)


def timed(fn) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def bench_duckdb_file(home: Path, table: pa.Table, small: pa.Table, appends: int) -> dict[str, object]:
    path = home / "events.duckdb"
    con = duckdb.connect(str(path))
    con.register("incoming", table)
    out: dict[str, object] = {}
    out["bulk"] = timed(lambda: con.execute("CREATE TABLE events AS SELECT * FROM incoming ORDER BY account_id, ts"))
    con.register("small", small)
    out["append"] = timed(lambda: [con.execute("INSERT INTO events SELECT * FROM small") for _ in range(appends)])
    out["append"] = float(out["append"]) / appends  # type: ignore[arg-type]
    con.execute("CHECKPOINT")
    out["account"] = min(timed(lambda: con.execute(ACCOUNT).fetchall()) for _ in range(5))
    out["aggregate"] = min(timed(lambda: con.execute(AGGREGATE).fetchall()) for _ in range(3))
    probe = subprocess.run(
        [sys.executable, "-c", f"import duckdb; duckdb.connect({str(path)!r}, read_only=True)"],
        capture_output=True,
        text=True,
    )
    out["second_process"] = "opens" if probe.returncode == 0 else probe.stderr.strip().splitlines()[-1][:90]
    con.close()
    return out


def _django(home: Path) -> None:
    os.environ["TANDEM_HOME"] = str(home)
    os.environ["TANDEM_EVENTS_PATH"] = str(home / "events")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tandem.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def bench_delta(home: Path, table: pa.Table, small: pa.Table, appends: int) -> dict[str, object]:
    _django(home)
    from tandem.usage.eventstore import EventStore

    store = EventStore(home / "events")
    out: dict[str, object] = {}
    out["bulk"] = timed(lambda: store.append_arrow(table))
    out["append"] = timed(lambda: [store.append_arrow(small) for _ in range(appends)]) / appends
    out["compact"] = timed(store.compact)
    with store.cursor(account_ids=[4242]) as cur:
        out["account"] = min(timed(lambda: cur.execute(ACCOUNT).fetchall()) for _ in range(5))
    out["account_with_snapshot"] = min(
        timed(lambda: store.daily_counts(account_id=4242, start=dt.date(2026, 1, 2), end=dt.date(2026, 3, 1)))
        for _ in range(5)
    )
    with store.cursor() as cur:
        out["aggregate"] = min(timed(lambda: cur.execute(AGGREGATE).fetchall()) for _ in range(3))
    before = store.count()
    code = (
        "import sys; sys.path.insert(0, {src!r}); import os, django; django.setup(); "
        "import pyarrow.parquet as pq; from tandem.usage.eventstore import EventStore; "
        "s = EventStore({path!r}); t = pq.read_table({small!r}); [s.append_arrow(t) for _ in range(20)]"
    )
    small_file = home / "small.parquet"
    import pyarrow.parquet as pq

    pq.write_table(small, small_file)
    env = {**os.environ}
    started = time.perf_counter()
    writers = [
        subprocess.Popen(
            [
                sys.executable,
                "-c",
                code.format(src=str(ROOT / "src"), path=str(home / "events"), small=str(small_file)),
            ],
            env=env,
        )
        for _ in range(2)
    ]
    codes = [w.wait() for w in writers]
    out["two_writer_processes"] = (
        f"exit {codes}, {store.count() - before:,} rows added of {2 * 20 * small.num_rows:,} "
        f"in {time.perf_counter() - started:.1f} s"
    )
    return out


def bench_iceberg(home: Path, table: pa.Table, small: pa.Table, appends: int) -> dict[str, object] | None:
    try:
        from pyiceberg.catalog.sql import SqlCatalog
    except ImportError:
        return None
    warehouse = home / "iceberg"
    warehouse.mkdir()
    catalog = SqlCatalog("bench", uri=f"sqlite:///{home / 'catalog.db'}", warehouse=f"file://{warehouse}")
    catalog.create_namespace("tandem")
    events = catalog.create_table("tandem.events", schema=table.schema)
    out: dict[str, object] = {}
    out["bulk"] = timed(lambda: events.append(table))
    out["append"] = timed(lambda: [events.append(small) for _ in range(appends)]) / appends
    out["plan_files"] = timed(lambda: list(events.scan().plan_files()))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=2_000_000)
    parser.add_argument("--appends", type=int, default=100)
    parser.add_argument("--batch", type=int, default=2_000, help="rows per small append (one tracking-API step)")
    args = parser.parse_args()
    con = duckdb.connect()
    table = generate(con, args.events)
    small = table.slice(0, args.batch)
    with tempfile.TemporaryDirectory(prefix="tandem-bench-store-") as tmp:
        root = Path(tmp)
        for name in ("duckdb", "delta", "iceberg"):
            (root / name).mkdir()
        results = {
            "DuckDB file": bench_duckdb_file(root / "duckdb", table, small, args.appends),
            "Delta Lake (EventStore)": bench_delta(root / "delta", table, small, args.appends),
            "Iceberg (pyiceberg, SQL catalog)": bench_iceberg(root / "iceberg", table, small, args.appends),
        }
    print(f"{args.events:,} events; {args.appends} appends of {args.batch:,} rows\n")
    print("| store | measure | result |\n|---|---|---|")
    for store, figures in results.items():
        if figures is None:
            print(f"| {store} | | not installed |")
            continue
        for key, value in figures.items():
            shown = f"{value * 1000:,.1f} ms" if isinstance(value, float) else value
            print(f"| {store} | {key} | {shown} |")


if __name__ == "__main__":
    main()
