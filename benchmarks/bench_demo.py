"""Benchmark: how long `tandem demo --no-serve` takes to build the default demo company.

Run:  python benchmarks/bench_demo.py [--accounts 1000] [--seed 42]

The goal is an absolute one (under 3 minutes on 2 cores). Because the machines are shared and noisy,
the same run also times a baseline, `tandem migrate` into an empty home (schema creation, the fixed
cost every build pays), and reports the build as a multiple of it. Output is a Markdown table.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tandem.usage.eventstore import EventStore


def timed(command: list[str], home: Path) -> float:
    env = {**os.environ, "TANDEM_HOME": str(home)}
    env.pop("DATABASE_URL", None)
    env.pop("TANDEM_EVENTS_PATH", None)  # the default, TANDEM_HOME/events
    started = time.perf_counter()
    subprocess.run(command, env=env, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--accounts", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()

    tandem = [sys.executable, "-m", "tandem"]
    baseline = timed([*tandem, "migrate", "--quiet"], Path(tempfile.mkdtemp(prefix="tandem-bench-migrate-")))
    home = Path(tempfile.mkdtemp(prefix="tandem-bench-demo-"))
    build = timed([*tandem, "demo", "--no-serve", "--seed", str(args.seed), "--accounts", str(args.accounts)], home)
    marker = json.loads((home / "demo.json").read_text())

    store = EventStore(home / "events", read_only=True)  # the Delta table; counted from its file statistics
    stored, files = store.count(), len(store.parquet_files())
    store.close()
    if stored != marker["events"]:
        raise SystemExit(f"the event store holds {stored:,} events, the demo says it wrote {marker['events']:,}")

    print(f"\nDemo build, {args.accounts:,} accounts, seed {args.seed}, SQLite, Delta Lake event store\n")
    print("| step | seconds | ratio to baseline |")
    print("|---|---:|---:|")
    print(f"| baseline: `tandem migrate` on an empty home | {baseline:.1f} | 1.0× |")
    print(f"| `tandem demo --no-serve` (includes its own migrate) | {build:.1f} | {build / baseline:.1f}× |")
    print(
        f"\nWrote {marker['accounts']:,} accounts, {marker['contacts']:,} contacts, "
        f"{marker['subscriptions']:,} subscription terms, {marker['tickets']:,} tickets, "
        f"{marker['interactions']:,} interactions and {marker['events']:,} usage events "
        f"({files} Parquet files in the event store)."
    )


if __name__ == "__main__":
    main()
