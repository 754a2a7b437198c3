"""Benchmark: `tandem import events` from Parquet, and disk use per stored event.

Run:  nice -n 10 python benchmarks/bench_ingest_import.py [--events 10000000] [--accounts 1000] [--keep DIR]

Generates a Parquet file of synthetic events with DuckDB SQL (1,000 accounts, 20,000 users, 12
event names, a JSON properties column, one year of time-ordered timestamps), imports the
accounts, then times the one command `tandem import events FILE` (process start included) with
its peak RSS, and its re-import (ledger hit). What the store holds afterwards is read through
``EventStore`` (the Delta table at TANDEM_HOME/events): the event count (it must equal the
file's), the Parquet files of the latest snapshot and their bytes (``disk_bytes()``), and the
whole table directory (``_delta_log`` included). `--events 100000000` measures the
100-million-event store for real.

Baselines in the same run: a plain `executemany` INSERT loop into a DuckDB table (5,000 rows;
the naive way); DuckDB rewriting the file as zstd Parquet files the way the store writes them
(``COPY (SELECT * FROM read_parquet(...)) TO dir``: no mapping, validation, account lookup,
dedupe, commit or catalogue: the ceiling of this design); and, for comparison with the
recorded figures of the former DuckDB-file store, DuckDB's ``INSERT INTO ... SELECT * FROM
read_parquet(...)`` into a table of a DuckDB file.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb

from tandem.usage.eventstore import ROW_GROUP_ROWS, TARGET_FILE_BYTES, EventStore


def make_parquet(path: Path, events: int, accounts: int) -> None:
    """Synthetic events, written by DuckDB (no Python loop), row groups of 1M rows."""
    span_us = 365 * 86400 * 1_000_000
    con = duckdb.connect()
    con.execute(
        f"""
        COPY (
            SELECT 'acct-' || (hash(i, 1) % {accounts}) AS account_external_id,
                TIMESTAMPTZ '2025-01-01 00:00:00+00' + to_microseconds(CAST(i * {span_us // events} AS BIGINT))
                    AS "timestamp",
                'Feature ' || (hash(i, 2) % 12) || ' Used' AS event,
                'user-' || (hash(i, 3) % 20000) AS user_id,
                CAST(1 + hash(i, 4) % 4 AS DOUBLE) AS quantity,
                ['{{"plan":"pro"}}', '{{"plan":"free"}}', '{{"plan":"enterprise","seats":5}}', NULL]
                    [CAST(1 + hash(i, 5) % 4 AS BIGINT)] AS properties
            FROM range({events}) t(i)
        ) TO '{path}' (FORMAT parquet, ROW_GROUP_SIZE 1000000)
        """
    )
    con.close()


def timed(command: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall seconds and peak RSS (MiB) of one command."""
    started = time.perf_counter()
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL)
    _pid, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{' '.join(command)} failed")
    return elapsed, usage.ru_maxrss / 1024


def tree_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--accounts", type=int, default=1000)
    parser.add_argument("--keep", type=Path, help="work in this directory and keep it (default: a temporary one)")
    args = parser.parse_args()

    work = args.keep or Path(tempfile.mkdtemp(prefix="tandem-bench-import-"))
    work.mkdir(parents=True, exist_ok=True)
    home = work / "home"
    shutil.rmtree(home, ignore_errors=True)
    env = {**os.environ, "TANDEM_HOME": str(home), "TANDEM_LOG_LEVEL": "ERROR"}
    env.pop("DATABASE_URL", None)
    env.pop("TANDEM_EVENTS_PATH", None)  # the default: the Delta table TANDEM_HOME/events
    tandem = [sys.executable, "-m", "tandem"]
    parquet = work / f"events-{args.events}.parquet"
    started = time.perf_counter()
    if not parquet.exists():
        make_parquet(parquet, args.events, args.accounts)
    print(f"input ready in {time.perf_counter() - started:.0f} s: {parquet}", file=sys.stderr)
    (work / "accounts.csv").write_text(
        "external_id,name\n" + "".join(f"acct-{i},Account {i}\n" for i in range(args.accounts)), encoding="utf-8"
    )
    subprocess.run([*tandem, "migrate", "--quiet"], env=env, check=True, stdout=subprocess.DEVNULL)
    subprocess.run(
        [*tandem, "import", "accounts", str(work / "accounts.csv")], env=env, check=True, stdout=subprocess.DEVNULL
    )

    # Baseline 1: executemany, the naive way.
    con = duckdb.connect(str(work / "baseline.duckdb"))
    con.execute("DROP TABLE IF EXISTS events; DROP TABLE IF EXISTS raw")
    sample = con.execute(
        "SELECT account_external_id, CAST(timestamp AS VARCHAR), event, user_id, quantity, properties "
        f"FROM read_parquet('{parquet}') LIMIT 5000"
    ).fetchall()
    con.execute(
        "CREATE TABLE events (account VARCHAR, ts TIMESTAMPTZ, event VARCHAR, user_id VARCHAR, "
        "quantity DOUBLE, properties JSON)"
    )
    started = time.perf_counter()
    con.executemany("INSERT INTO events VALUES (?, ?, ?, ?, ?, ?)", sample)
    executemany_rate = len(sample) / (time.perf_counter() - started)
    # Baseline 2: DuckDB's raw Parquet load into a DuckDB file (the former store's ceiling).
    con.execute("CREATE TABLE raw AS SELECT * FROM events LIMIT 0")
    started = time.perf_counter()
    con.execute(f"INSERT INTO raw SELECT * FROM read_parquet('{parquet}')")
    con.execute("CHECKPOINT")
    raw_rate = args.events / (time.perf_counter() - started)
    con.close()
    (work / "baseline.duckdb").unlink()
    # Baseline 3: DuckDB rewriting the file as zstd Parquet files, with the store's file options.
    copy_dir = work / "baseline-copy"
    shutil.rmtree(copy_dir, ignore_errors=True)
    con = duckdb.connect()
    con.execute("SET preserve_insertion_order = false")
    started = time.perf_counter()
    con.execute(
        f"COPY (SELECT * FROM read_parquet('{parquet}')) TO '{copy_dir}' (FORMAT parquet, COMPRESSION zstd, "
        f"ROW_GROUP_SIZE {ROW_GROUP_ROWS}, FILE_SIZE_BYTES {TARGET_FILE_BYTES}, FILENAME_PATTERN 'part-{{i}}')"
    )
    copy_rate = args.events / (time.perf_counter() - started)
    con.close()
    copy_bytes = tree_bytes(copy_dir)
    shutil.rmtree(copy_dir, ignore_errors=True)
    print(f"baselines done: {executemany_rate:,.0f}, {raw_rate:,.0f} and {copy_rate:,.0f} events/s", file=sys.stderr)

    first, peak = timed([*tandem, "import", "events", str(parquet)], env)
    again, _peak = timed([*tandem, "import", "events", str(parquet)], env)
    store = EventStore(home / "events", read_only=True)
    snapshot = store.snapshot()
    stored = store.count()  # from the snapshot's file statistics
    with store.cursor() as cur:
        scanned = cur.execute("SELECT count(*) FROM events").fetchone()[0]  # reading every file's rows
    size = store.disk_bytes()
    store.close()
    directory = tree_bytes(home / "events")
    if stored != args.events or scanned != args.events:
        raise SystemExit(f"the store holds {stored:,} events ({scanned:,} scanned), not the file's {args.events:,}")
    rate = stored / first
    per_event = size / stored
    print("| measure | value | ratio to baseline |\n|---|---:|---:|")
    print(f"| baseline 1: executemany INSERT loop, events/s | {executemany_rate:,.0f} | 1.0x |")
    print(
        f"| baseline 2: DuckDB INSERT ... SELECT read_parquet into a DuckDB file (no validation), events/s "
        f"| {raw_rate:,.0f} | {raw_rate / executemany_rate:,.0f}x |"
    )
    print(
        f"| baseline 3: DuckDB COPY read_parquet TO zstd Parquet files (no validation, no commit), events/s "
        f"| {copy_rate:,.0f} | {copy_rate / executemany_rate:,.0f}x |"
    )
    print(f"| `tandem import events` {stored:,} events, whole command, s | {first:.1f} | |")
    print(
        f"| `tandem import events`, events/s | {rate:,.0f} | {rate / executemany_rate:,.0f}x "
        f"({rate / raw_rate:.2f}x of baseline 2, {rate / copy_rate:.2f}x of baseline 3) |"
    )
    print(f"| peak RSS of the import command | {peak:,.0f} MiB | |")
    print(f"| re-import of the same file (ledger), s | {again:.1f} | |")
    print(
        f"| disk: the snapshot's {len(snapshot.files)} Parquet files (`disk_bytes()`) "
        f"| {size / 2**20:,.0f} MiB ({per_event:.2f} bytes/event) | |"
    )
    print(f"| disk: the whole table directory (`_delta_log` included) | {directory / 2**20:,.0f} MiB | |")
    print(
        "| disk: baseline 3's Parquet files (the input's columns, not the store's) "
        f"| {copy_bytes / 2**20:,.0f} MiB ({copy_bytes / args.events:.2f} "
        "bytes/event) | |"
    )
    print(f"| disk for 100 million events at this rate | {per_event * 1e8 / 2**30:.2f} GiB | |")
    print(f"| machine load average (1 min) after the imports | {os.getloadavg()[0]:.1f} | |")
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
