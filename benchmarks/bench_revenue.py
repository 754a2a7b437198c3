"""Benchmark: the revenue retention summary's computation, vectorised vs the per-account definition.

Run:  python benchmarks/bench_revenue.py [--accounts 10000] [--runs 3]

Synthetic subscription histories (1-3 consecutive annual terms per account, 10 % growth at each
renewal, started over 2.5 years) go through the engine as the page's worker computation does:
``build_timelines`` (terms -> MRR step functions), ``state_arrays`` and ``summarise_states`` for the
default view (the whole range, 13 monthly periods and 4 tier groups). The baseline, timed in the
same run on the same timelines, is the per-account summary the engine used before NumPy
(``tests/revenue/test_summary_page.py`` checks both give the same figures). No database: this
measures the computation, not the loading of the terms.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import statistics
import sys
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tandem.settings")
os.environ.setdefault("TANDEM_HOME", "/tmp/tandem-bench-revenue")

import django

django.setup()

import numpy as np  # noqa: E402
from tests.revenue.test_summary_page import _reference  # noqa: E402

from tandem.revenue.engine import TermRow, build_timelines, month_starts, state_arrays, summarise_states  # noqa: E402


def terms(accounts: int) -> list[TermRow]:
    rng = random.Random(1)
    rows = []
    for account in range(accounts):
        start = dt.date(2023, 1, 1) + dt.timedelta(days=rng.randint(0, 900))
        mrr = Decimal(rng.randint(100, 5000))
        for _n in range(rng.randint(1, 3)):
            end = start + dt.timedelta(days=364)
            rows.append(TermRow(account, "USD", start, end, "ended" if end < dt.date(2026, 12, 1) else "active", mrr))
            start, mrr = end + dt.timedelta(days=1), (mrr * Decimal("1.1")).quantize(Decimal("0.01"))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--accounts", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    rows = terms(args.accounts)
    start, end = dt.date(2025, 12, 1), dt.date(2026, 12, 7)
    periods = [(start, end), *month_starts(start, end)]
    timed: dict[str, list[float]] = {"build_timelines": [], "vectorised summaries": [], "per-account summaries": []}
    for _run in range(args.runs):
        t0 = time.perf_counter()
        timelines = list(build_timelines(rows, {"USD": Decimal(1)}).values())
        t1 = time.perf_counter()
        arrays = state_arrays(timelines)
        groups = np.array([t.account_id % 4 for t in timelines])
        fast = [summarise_states(arrays, s, e) for s, e in periods]
        fast += [summarise_states(arrays, start, end, members=groups == g) for g in range(4)]
        t2 = time.perf_counter()
        slow = [_reference(timelines, s, e) for s, e in periods]
        slow += [_reference([t for t in timelines if t.account_id % 4 == g], start, end) for g in range(4)]
        t3 = time.perf_counter()
        assert [s.closing_mrr for s in fast] == [s.closing_mrr for s in slow]
        timed["build_timelines"].append(t1 - t0)
        timed["vectorised summaries"].append(t2 - t1)
        timed["per-account summaries"].append(t3 - t2)
    base = statistics.median(timed["per-account summaries"])
    print(f"{args.accounts:,} accounts, {len(rows):,} terms, {len(periods)} periods + 4 groups, median of {args.runs}")
    print("| step | median s | ratio to the per-account summaries |")
    print("|---|---:|---:|")
    for name, values in timed.items():
        median = statistics.median(values)
        print(f"| {name} | {median:.3f} | {median / base:.3f}x |")


if __name__ == "__main__":
    main()
