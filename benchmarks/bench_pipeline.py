"""Benchmark: the whole daily pipeline (metrics → health → risk → renewals → rules → CTAs → digests).

Run:  python benchmarks/bench_pipeline.py [--events 1e8] [--accounts 100000]

Goal (issue 10): under 60 s on this 2-core machine for 100,000 accounts and 100 million events,
with each step's time. The data are bench_metrics.py's (the same generator, kept under its
--data-dir, built on first use): 100,000 accounts with a contract term each, the 20 benchmark
metrics, and a Delta event store of the chosen size. On a copy of that home this benchmark adds
what the other steps need: the shipped metrics and the "Overall health" scorecard, 20 CSMs and 8
account managers owning the accounts (with email addresses, so digests go out), 50 rules from
bench_rules.py over the shipped playbooks, and a churn model trained on a synthetic history over
metrics that exist.

In the same run, as the baseline, the 20 metrics are computed by bench_metrics.py's tuned
hand-written DuckDB query over the same Parquet files; the metrics step is reported as a ratio to
it. Each measurement runs in a child process (peak RSS from getrusage). The pipeline runs twice:
the second run (same day, no resume key) must leave the same counts (idempotence) and shows what a
re-run costs.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "src"))

import bench_metrics as data  # noqa: E402  (the same generated company and events)


def prepare(home: Path) -> dict:
    """Owners, scorecard, rules and a churn model on the copied home (run once per copy)."""
    import numpy as np
    import pandas as pd
    from bench_rules import install_rules
    from django.db import connection, transaction

    from tandem.accounts.models import Account
    from tandem.health.services import scorecards_install_defaults
    from tandem.metrics.services import metrics_install_defaults
    from tandem.risk.model import train_and_evaluate
    from tandem.risk.services import risk_model_save
    from tandem.users.services import user_create

    started = time.monotonic()
    metrics_install_defaults(acting_user=None)
    scorecards_install_defaults(acting_user=None)
    with transaction.atomic():
        csms = [user_create(acting_user=None, username=f"csm{i}", password=None, email=f"csm{i}@bench.example",
                            roles=["csm"]).pk for i in range(20)]  # fmt: skip
        ams = [user_create(acting_user=None, username=f"am{i}", password=None, email=f"am{i}@bench.example",
                           roles=["account_manager"]).pk for i in range(8)]  # fmt: skip
        table = connection.ops.quote_name(Account._meta.db_table)
        with connection.cursor() as cur:
            cur.execute(
                f"UPDATE {table} SET csm_owner_id = %s + (id % 20), am_owner_id = %s + (id % 8)", [csms[0], ams[0]]
            )
    install_rules(50)
    features = ["events_28d", "active_users_28d", "seats", "tenure_days", "active_days_28d"]
    rng = np.random.default_rng(3)
    rows, labels = [], []
    for d in range(8):
        day = data.AS_OF - dt.timedelta(days=30 * (d + 4))
        for a in range(400):
            usage = rng.normal()
            rows.append((day, a, 400 + 150 * usage, 5 + 2 * usage, 10.0, float(rng.integers(30, 900)),
                         float(np.clip(10 + 5 * usage, 0, 28))))  # fmt: skip
            labels.append((day, a, int(rng.random() < 1 / (1 + np.exp(3 + 1.5 * usage)))))
    frame = pd.DataFrame(rows, columns=["as_of", "account_id", *features]).set_index(["as_of", "account_id"])
    label_frame = pd.DataFrame(labels, columns=["as_of", "account_id", "label"]).set_index(["as_of", "account_id"])
    model = train_and_evaluate(frame, label_frame, horizon_days=90)
    model.version = "bench"
    risk_model_save(model=model, trained_on=data.AS_OF)
    return {"seconds": time.monotonic() - started}


def counts() -> dict[str, int]:
    from tandem.health.models import AccountHealth
    from tandem.jobs.models import Job
    from tandem.metrics.models import MetricValue
    from tandem.opportunities.models import Opportunity
    from tandem.playbooks.models import CallToAction, CtaTask, OutboundEmail
    from tandem.risk.models import AccountRisk

    return {
        "metric values": MetricValue.objects.count(),
        "health scores": AccountHealth.objects.count(),
        "risk scores": AccountRisk.objects.count(),
        "renewals": Opportunity.objects.filter(kind="renewal").count(),
        "CTAs": CallToAction.objects.count(),
        "tasks": CtaTask.objects.count(),
        "emails": OutboundEmail.objects.count(),
        "jobs": Job.objects.count(),
    }


def child_pipeline() -> dict:
    from tandem.daily.services import daily_pipeline_run

    started = time.monotonic()
    result = daily_pipeline_run(acting_user=None, today=data.AS_OF)
    total = time.monotonic() - started
    return {
        "seconds": total,
        "steps": {str(s.step): round(s.seconds, 2) for s in result.steps},
        "counts": counts(),
    }


def run_child(argv: list[str]) -> None:
    args = argparse.Namespace(**json.loads(argv[0]))
    data._setup_django(Path(args.home), Path(args.events_path))
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    if args.what == "prepare":
        result = prepare(Path(args.home))
    elif args.what == "pipeline":
        result = child_pipeline()
    elif args.what == "sql-tuned":
        result = data.child_sql(Path(args.home), Path(args.out), data.HAND_SQL_TUNED)
    else:
        raise SystemExit(f"unknown child {args.what}")
    result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print("RESULT " + json.dumps(result))


def spawn(what: str, **kwargs: object) -> dict:
    return data.spawn(what, script=__file__, **kwargs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", default="1e8")
    parser.add_argument("--accounts", type=int, default=100_000)
    parser.add_argument("--data-dir", default=str(Path(tempfile.gettempdir()) / "tandem-bench-metrics"))
    args = parser.parse_args()
    n = int(float(args.events))
    root = Path(args.data_dir) / f"v{data.DATA_VERSION}-a{args.accounts}"
    base_home = root / "home"
    base_home.mkdir(parents=True, exist_ok=True)
    if not (base_home / "terms.parquet").exists():
        print(f"Building {args.accounts:,} accounts and their terms in {base_home} ...", flush=True)
        data.spawn("build-relational", home=base_home, events_path=base_home / "events", accounts=args.accounts)
    events_path = root / f"events-{n}"
    info_path = root / f"events-{n}.json"
    if not info_path.exists():
        print(f"Generating {n:,} events into {events_path} ...", flush=True)
        info = data.spawn("build-events", home=base_home, events_path=events_path, events=n, accounts=args.accounts)
        info_path.write_text(json.dumps(info))
    info = json.loads(info_path.read_text())

    with tempfile.TemporaryDirectory(prefix="tandem-bench-pipeline-") as tmp:
        home = Path(tmp) / "home"
        shutil.copytree(base_home, home)
        common = {"home": home, "events_path": events_path}
        print("Preparing owners, scorecard, rules and the churn model ...", flush=True)
        prepared = spawn("prepare", **common)
        print("Baseline: the 20 metrics as tuned hand-written SQL ...", flush=True)
        baseline = spawn("sql-tuned", out=Path(tmp) / "sql.parquet", **common)
        print("The daily pipeline ...", flush=True)
        first = spawn("pipeline", **common)
        print("The daily pipeline again (same day) ...", flush=True)
        second = spawn("pipeline", **common)
    if first["counts"] != second["counts"]:
        raise SystemExit(f"a second run changed what the pipeline left: {first['counts']} then {second['counts']}")

    print()
    print(f"{args.accounts:,} accounts, {info['rows']:,} events in {info.get('files', '?')} files; "
          f"load {os.getloadavg()[0]:.1f} (2 cores); set-up {prepared['seconds']:.1f} s\n")  # fmt: skip
    print("| step | first run | second run (same day) |\n|---|---:|---:|")
    for step, seconds in first["steps"].items():
        print(f"| {step} | {seconds:.1f} s | {second['steps'][step]:.1f} s |")
    print(f"| **whole pipeline** | **{first['seconds']:.1f} s** | {second['seconds']:.1f} s |")
    metrics = first["steps"].get("metrics", 0.0)
    print(f"\nBaseline: tuned hand-written SQL for the 20 metrics {baseline['seconds']:.1f} s; the metrics step "
          f"(all {first['counts']['metric values'] // max(args.accounts, 1)} metrics per account, stored) is "
          f"{metrics / baseline['seconds']:.1f}x it. Peak RSS {first['peak_rss_mb']:,.0f} MB.")  # fmt: skip
    print("What the run left:", ", ".join(f"{k} {v:,}" for k, v in first["counts"].items()))
    for label, run in (("a normal day (the second run)", second), ("the first day of 50 new rules", first)):
        verdict = "met" if run["seconds"] < 60 else "NOT met"
        print(f"Goal (< 60 s for the whole pipeline), {label}: {verdict} ({run['seconds']:.1f} s).")


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "--child":
        run_child(sys.argv[2:])
    else:
        main()
