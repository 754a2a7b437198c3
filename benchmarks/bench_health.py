"""Benchmark: health scoring of 100,000 accounts once the metric values exist.

Run:  python benchmarks/bench_health.py [--accounts 100000] [--database-url URL]

Goal (issue 4): under 10 s for 100,000 accounts.

Builds a throw-away TANDEM_HOME (SQLite by default) with the accounts (tiers spread over every
segment), the shipped metric definitions plus per-event ones (as ``tandem metrics suggest`` adds
them, so both shipped scorecards exist: *Overall health* with eight measures and *Adoption*), and
metric snapshots stored the way ``metrics_compute`` stores them (long Parquet, one file per date)
on D, D - 7 and D - 30 days, the dates the 7- and 30-day trends compare with. Values are
deterministic, with gaps (missing data) and some accounts absent on the earlier dates.

Each step runs in a child process of its own (wall time measured inside, peak RSS from getrusage):

* baseline: reading the metric values of D the scorer needs (``metric_history_frame``), which any
  scoring must do;
* ``health_refresh`` on D - 30 and then D - 7: the earlier daily runs, which leave the stored
  scores the trends compare with and a full set of current scores for D's run to replace (not
  timed against the goal);
* ``health_refresh(today=D)``, the daily job and the goal: score every active scorecard on D's
  snapshot, store the scores, then refresh the current scores with trends and reasons
  (``HealthScoreCurrent`` per scorecard and ``AccountHealth`` for the primary one).

Checks that every account has a current score on both scorecards. Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

D = dt.date(2026, 11, 22)
EVENT_NAMES = ["page_view", "login", "search", "report_view", "export", "api_call"]


def _setup(home: Path, database_url: str | None) -> None:
    os.environ["TANDEM_HOME"] = str(home)
    os.environ["TANDEM_EVENTS_PATH"] = str(home / "events")
    if database_url:
        os.environ["DATABASE_URL"] = database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tandem.settings")
    import django

    django.setup()


def build(accounts: int) -> dict:
    """Accounts, definitions, scorecards and three metric snapshots."""
    import numpy as np
    import pyarrow as pa
    from django.core.management import call_command
    from django.db import transaction

    from tandem.accounts.models import Account, Tier
    from tandem.health.services import scorecards_install_defaults
    from tandem.metrics import defaults, store
    from tandem.metrics.models import MetricDefinition
    from tandem.metrics.services import metric_definitions_upsert

    call_command("migrate", verbosity=0)
    tiers = list(Tier)
    with transaction.atomic():
        Account.objects.bulk_create(
            [
                Account(id=i, name=f"Bench {i:06d}", external_id=f"bench-{i}", tier=tiers[i % len(tiers)])
                for i in range(1, accounts + 1)
            ],
            batch_size=5000,
        )
    metric_definitions_upsert(
        acting_user=None, items=defaults.suggest_from_events([(e, 1000 - i) for i, e in enumerate(EVENT_NAMES)])
    )
    cards = scorecards_install_defaults(acting_user=None)
    keys = list(MetricDefinition.objects.filter(is_active=True).values_list("key", flat=True))
    rng = np.random.default_rng(7)
    ids = np.arange(1, accounts + 1, dtype=np.int64)
    level = rng.lognormal(0.0, 1.0, accounts)
    for offset in (30, 7, 0):
        day = D - dt.timedelta(days=offset)
        present = ids if offset == 0 else ids[rng.random(accounts) > 0.05]  # some joined recently
        parts = []
        for j, key in enumerate(keys):
            base = level[present - 1] * (1 + j % 5) * rng.lognormal(0.0, 0.3, len(present))
            if "change" in key:
                base = rng.normal(0.0, 0.4, len(present))
            values = np.where(rng.random(len(present)) < 0.08, np.nan, base)  # gaps: missing data
            parts.append(
                pa.table(
                    {
                        "account_id": pa.array(present, pa.int64()),
                        "metric": pa.DictionaryArray.from_arrays(
                            pa.array(np.zeros(len(present), dtype=np.int32)), pa.array([key])
                        ),
                        "value": pa.array(values, pa.float64(), from_pandas=True),
                    }
                )
            )
        store.write_snapshot("metrics", day, pa.concat_tables(parts))
    return {
        "metrics": len(keys),
        "scorecards": [c.name for c in cards],
        "measures": sum(c.measures.count() for c in cards),
    }


def child(what: str, accounts: int) -> dict:
    started = time.monotonic()
    if what == "build":
        result = build(accounts)
    elif what == "read":
        from tandem.health.models import ScorecardMeasure
        from tandem.metrics.selectors import metric_history_frame

        keys = sorted(set(ScorecardMeasure.objects.values_list("metric__key", flat=True)))
        frame = metric_history_frame(dates=[D], keys=keys)
        result = {"rows": len(frame), "columns": len(frame.columns)}
    elif what == "history":
        from tandem.health.services import health_refresh

        for offset in (30, 7):
            health_refresh(today=D - dt.timedelta(days=offset))
        result = {}
    elif what == "refresh":
        from tandem.health.services import health_refresh

        run = health_refresh(today=D)
        result = {"scorecards": run.scorecards, "accounts": run.accounts}
    elif what == "check":
        from tandem.health.models import AccountHealth, HealthScoreCurrent, Scorecard

        cards = Scorecard.objects.count()
        current = HealthScoreCurrent.objects.filter(as_of=D).count()
        primary = AccountHealth.objects.filter(as_of=D).count()
        with_trend = HealthScoreCurrent.objects.filter(change_7d__isnull=False, change_30d__isnull=False).count()
        with_reasons = HealthScoreCurrent.objects.exclude(reasons=[]).count()
        if current != cards * accounts or primary != accounts:
            raise SystemExit(
                f"expected {cards} x {accounts:,} current scores and {accounts:,} account health rows, "
                f"found {current:,} and {primary:,}"
            )
        result = {"current": current, "with_trend": with_trend, "with_reasons": with_reasons}
    else:
        raise SystemExit(f"unknown step {what}")
    result["seconds"] = time.monotonic() - started
    result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return result


def spawn(what: str, home: Path, args: argparse.Namespace) -> dict:
    cmd = [sys.executable, __file__, "--child", what, "--home", str(home), "--accounts", str(args.accounts)]
    if args.database_url:
        cmd += ["--database-url", args.database_url]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        sys.stderr.write(proc.stdout + proc.stderr)
        raise SystemExit(f"step '{what}' failed with exit code {proc.returncode}")
    return json.loads([x for x in proc.stdout.splitlines() if x.startswith("RESULT ")][-1][len("RESULT ") :])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--accounts", type=int, default=100_000)
    parser.add_argument("--database-url", default=None, help="default: SQLite in the temporary TANDEM_HOME")
    parser.add_argument("--child", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--home", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _setup(Path(args.home), args.database_url)
        print("RESULT " + json.dumps(child(args.child, args.accounts)))
        return

    with tempfile.TemporaryDirectory(prefix="tandem-bench-health-") as tmp:
        home = Path(tmp)
        print(f"Building {args.accounts:,} accounts and metric snapshots ...", flush=True)
        built = spawn("build", home, args)
        read = spawn("read", home, args)
        history = spawn("history", home, args)
        refresh = spawn("refresh", home, args)
        check = spawn("check", home, args)

    db = "PostgreSQL" if args.database_url else "SQLite"
    print()
    print(
        f"{args.accounts:,} accounts, {built['metrics']} metrics, scorecards {', '.join(built['scorecards'])} "
        f"({built['measures']} measures), {db}, {os.cpu_count()} cores. {check['current']:,} current scores "
        f"({check['with_trend']:,} with 7- and 30-day trends, {check['with_reasons']:,} with reasons)."
    )
    print()
    print("| step | seconds | peak RSS MB | ratio to baseline |")
    print("|---|---:|---:|---:|")
    base = read["seconds"]
    for label, r in (
        ("baseline: read the metric values of D (`metric_history_frame`)", read),
        ("earlier daily runs: `health_refresh` on D - 30, then D - 7", history),
        ("**`health_refresh` on D** (score, store, current scores, trends, reasons)", refresh),
    ):
        print(f"| {label} | {r['seconds']:.2f} | {r['peak_rss_mb']:,.0f} | {r['seconds'] / base:.1f}x |")
    print()
    ok = refresh["seconds"] < 10.0
    print(f"{'PASS' if ok else 'MISS'}: health_refresh of {args.accounts:,} accounts under 10 s")


if __name__ == "__main__":
    main()
