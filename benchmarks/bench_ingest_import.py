"""Benchmark: `tandem import events` from Parquet, and disk use per stored event.

Run:  nice -n 10 python benchmarks/bench_ingest_import.py [--events 10000000] [--accounts 1000]

Generates a Parquet file of synthetic events (1,000 accounts, 20,000 users, 12 event names, one
property column, one year of timestamps), imports accounts, then times the one command
`tandem import events FILE` (process start included) and its re-import (ledger hit). Disk use is
the DuckDB file after the import, per event and extrapolated linearly to 100 million events.
Baselines in the same run: a plain `executemany` INSERT loop into a DuckDB table (20,000 rows),
and DuckDB's own `INSERT INTO ... SELECT * FROM read_parquet(...)` into an empty table (no
mapping, validation, account lookup, dedupe or catalogue: the ceiling).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq


def make_parquet(path: Path, events: int, accounts: int, seed: int = 7) -> None:
    rng = np.random.default_rng(seed)
    names = np.array([f"Feature {i} Used" for i in range(12)], dtype=object)
    plans = np.array(['{"plan":"pro"}', '{"plan":"free"}', '{"plan":"enterprise"}', None], dtype=object)
    start = np.datetime64("2025-01-01T00:00:00", "us").astype(np.int64)
    chunk = 2_000_000
    writer = None
    for offset in range(0, events, chunk):
        n = min(chunk, events - offset)
        ts = np.sort(start + rng.integers(0, 365 * 86400 * 1_000_000, n))
        table = pa.table(
            {
                "account_external_id": pa.array(np.char.add("acct-", rng.integers(0, accounts, n).astype(str))),
                "timestamp": pa.array(ts, pa.timestamp("us", tz="UTC")),
                "event": pa.array(names[rng.integers(0, 12, n)], pa.string()),
                "user_id": pa.array(np.char.add("user-", rng.integers(0, 20000, n).astype(str))),
                "quantity": pa.array(rng.integers(1, 5, n).astype(np.float64)),
                "properties": pa.array(plans[rng.integers(0, 4, n)], pa.string()),
            }
        )
        writer = writer or pq.ParquetWriter(path, table.schema)
        writer.write_table(table)
    assert writer is not None
    writer.close()


def timed(command: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    subprocess.run(command, env=env, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--accounts", type=int, default=1000)
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="tandem-bench-import-"))
    home = work / "home"
    env = {**os.environ, "TANDEM_HOME": str(home), "TANDEM_LOG_LEVEL": "ERROR"}
    env.pop("DATABASE_URL", None)
    tandem = [sys.executable, "-m", "tandem"]
    parquet = work / "events.parquet"
    make_parquet(parquet, args.events, args.accounts)
    (work / "accounts.csv").write_text(
        "external_id,name\n" + "".join(f"acct-{i},Account {i}\n" for i in range(args.accounts)), encoding="utf-8"
    )
    subprocess.run([*tandem, "migrate", "--quiet"], env=env, check=True, stdout=subprocess.DEVNULL)
    subprocess.run(
        [*tandem, "import", "accounts", str(work / "accounts.csv")], env=env, check=True, stdout=subprocess.DEVNULL
    )

    # Baseline 1: executemany, the naive way.
    sample = pq.read_table(parquet).slice(0, 20_000).to_pylist()
    con = duckdb.connect(str(work / "baseline.duckdb"))
    con.execute(
        "CREATE TABLE events (account VARCHAR, ts TIMESTAMPTZ, event VARCHAR, user_id VARCHAR, "
        "quantity DOUBLE, properties JSON)"
    )
    started = time.perf_counter()
    con.executemany("INSERT INTO events VALUES (?, ?, ?, ?, ?, ?)", [tuple(r.values()) for r in sample])
    executemany_rate = len(sample) / (time.perf_counter() - started)
    # Baseline 2: DuckDB's raw Parquet load.
    con.execute("CREATE TABLE raw AS SELECT * FROM events LIMIT 0")
    started = time.perf_counter()
    con.execute(f"INSERT INTO raw SELECT * FROM read_parquet('{parquet}')")
    con.execute("CHECKPOINT")
    raw_rate = args.events / (time.perf_counter() - started)
    con.close()

    first = timed([*tandem, "import", "events", str(parquet)], env)
    again = timed([*tandem, "import", "events", str(parquet)], env)
    store = duckdb.connect(str(home / "events.duckdb"), read_only=True)
    stored = store.execute("SELECT count(*) FROM events").fetchone()[0]
    store.close()
    size = (home / "events.duckdb").stat().st_size
    rate = stored / first
    per_event = size / stored
    print("| measure | value | ratio to baseline |\n|---|---:|---:|")
    print(f"| baseline 1: executemany INSERT loop, events/s | {executemany_rate:,.0f} | 1.0× |")
    print(
        f"| baseline 2: DuckDB INSERT … SELECT read_parquet (no validation), events/s "
        f"| {raw_rate:,.0f} | {raw_rate / executemany_rate:,.0f}× |"
    )
    print(f"| `tandem import events` {stored:,} events, whole command, s | {first:.1f} | |")
    print(
        f"| `tandem import events`, events/s | {rate:,.0f} "
        f"| {rate / executemany_rate:,.0f}× ({rate / raw_rate:.2f}× of baseline 2) |"
    )
    print(f"| re-import of the same file (ledger), s | {again:.1f} | |")
    print(f"| disk: events.duckdb after import | {size / 2**20:,.0f} MiB ({per_event:.1f} bytes/event) | |")
    print(f"| disk extrapolated linearly to 100 million events | {per_event * 1e8 / 2**30:.2f} GiB | |")


if __name__ == "__main__":
    main()
