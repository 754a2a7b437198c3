"""Run in subprocesses by test_processes.py: ``python -m tests.daily.scenario COMMAND [ARGS]``.

* ``setup DAY``: the world of tests/daily/world.py relative to DAY, and a tracking source; prints
  ``{"write_key": ...}``.
* ``wait-tracked N SECONDS``: wait until the tracking calls accepted so far are stored (the sources
  count ``N`` messages and the account the group call names exists).
* ``wait-daily SECONDS``: wait until the daily job has run; exits 1 with its error if an attempt
  failed, 2 on timeout.
* ``check DAY``: what the daily pipeline of DAY left, as JSON.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
import time
from typing import Any

TRACKED_ACCOUNT = "acct-umbrella"


def setup(day: dt.date) -> None:
    from tandem.ingest.services import source_create
    from tests.daily.world import build_world
    from tests.factories import as_fixture

    build_world(today=day)
    with as_fixture():
        _source, key = source_create(acting_user=None, name="web app")
    print(json.dumps({"write_key": key}))


def wait_tracked(messages: int, seconds: float) -> None:
    from django.db.models import Sum

    from tandem.accounts.models import Account
    from tandem.ingest.models import Source

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        received = Source.objects.aggregate(n=Sum("received_count"))["n"] or 0
        if received >= messages and Account.objects.filter(external_id=TRACKED_ACCOUNT).exists():
            return
        time.sleep(0.3)
    print(f"only {received} of {messages} tracked messages stored", file=sys.stderr)
    sys.exit(2)


def wait_daily(seconds: float) -> None:
    from tandem.jobs.models import Job, JobStatus

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        job = Job.objects.filter(name="playbooks.daily").first()
        if job is not None and job.status == JobStatus.DONE:
            return
        if job is not None and job.last_error:  # an attempt failed: report it, do not wait for retries
            print(job.last_error, file=sys.stderr)
            sys.exit(1)
        time.sleep(0.3)
    print("the daily job did not finish in time", file=sys.stderr)
    sys.exit(2)


def check(day: dt.date) -> dict[str, Any]:
    from tandem.accounts.models import Account
    from tandem.daily.models import DailyRun, DailyRunStep
    from tandem.health.models import AccountHealth
    from tandem.jobs.models import Job
    from tandem.metrics import store
    from tandem.metrics.models import MetricValue
    from tandem.notifications.models import Notification
    from tandem.opportunities.models import Opportunity
    from tandem.playbooks.models import CallToAction, CtaTask, OutboundEmail
    from tandem.risk.models import AccountRisk

    names = dict(Account.objects.values_list("id", "name"))
    snapshot = store.read_snapshots("metrics", dates=[day]).to_pylist()
    daily_job = Job.objects.filter(name="playbooks.daily").values_list("payload", "status", "attempts").first()
    keyed = DailyRun.objects.filter(key=f"daily:{day}").first()
    return {
        "daily_job": list(daily_job) if daily_job else None,
        "accounts": sorted(names.values()),
        "daily_runs": DailyRun.objects.count(),
        "steps": list(DailyRunStep.objects.filter(run=keyed).order_by("id").values_list("step", flat=True)),
        "steps_recorded": DailyRunStep.objects.count(),
        "snapshot_accounts": sorted({names[r["account_id"]] for r in snapshot}),
        "snapshot_rows": len(snapshot),
        "events_28d": {
            names[r["account_id"]]: r["value"] for r in snapshot if r["metric"] == "events_28d" and r["value"]
        },
        "metric_values": sorted(
            (
                [n, k, v, str(d)]
                for n, k, v, d in MetricValue.objects.values_list("account__name", "metric__key", "value", "as_of")
            ),
            key=repr,
        ),
        "health": sorted(
            [n, s, b, str(d)]
            for n, s, b, d in AccountHealth.objects.values_list("account__name", "score", "band", "as_of")
        ),
        "risk": sorted(
            [n, p, str(d), v]
            for n, p, d, v in AccountRisk.objects.values_list("account__name", "probability", "as_of", "model_version")
        ),
        "renewals": sorted(Opportunity.objects.filter(kind="renewal").values_list("account__name", flat=True)),
        "ctas": sorted(
            list(row) for row in CallToAction.objects.values_list("rule__name", "account__name", "owner__username")
        ),
        "tasks": CtaTask.objects.count(),
        "emails": sorted(list(row) for row in OutboundEmail.objects.values_list("to_email", "status")),
        "notifications": Notification.objects.count(),
        "jobs": sorted(list(row) for row in Job.objects.values_list("name", "key")),
    }


def main(command: str, *args: str) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tandem.settings")
    import django

    django.setup()
    if command == "setup":
        setup(dt.date.fromisoformat(args[0]))
    elif command == "wait-tracked":
        wait_tracked(int(args[0]), float(args[1]))
    elif command == "wait-daily":
        wait_daily(float(args[0]))
    elif command == "check":
        print(json.dumps(check(dt.date.fromisoformat(args[0]))))
    else:
        raise SystemExit(f"unknown command {command!r}")


if __name__ == "__main__":
    main(*sys.argv[1:])
