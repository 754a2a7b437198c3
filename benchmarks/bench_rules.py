"""Benchmark: evaluate 50 rules over 100,000 accounts and open their CTAs in bulk.

Run:  python benchmarks/bench_rules.py [--accounts 100000] [--rules 50] [--database-url URL]

Builds a throw-away TANDEM_HOME (SQLite by default), fills it in bulk (accounts, champions who left,
NPS answers, milestones, tickets, interactions, health scores), installs 50 rules cycling over every
trigger, then times:

* the first evaluation (every match opens a CTA with its playbook tasks and notifications; rows go
  in as plain tuples, several hundred per ``INSERT ... ON CONFLICT DO NOTHING RETURNING`` statement
  on SQLite, one array per column on PostgreSQL), with the number of SQL statements it ran,
* a second evaluation (nothing new: the idempotent steady state of the daily run),
* the baseline, measured in the same run: opening CTAs the naive way, one ``get_or_create`` per
  matching account, on a sample of 2,000 matches, extrapolated to the number the bulk run opened.

With ``--database-url`` the database is flushed first (every table emptied), so give it a database
of its own. Prints a Markdown table to paste into docs/performance.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path
from typing import Any


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--accounts", type=int, default=100_000)
    parser.add_argument("--rules", type=int, default=50)
    parser.add_argument("--database-url", default=None, help="default: SQLite in a temporary TANDEM_HOME")
    parser.add_argument("--seed", type=int, default=7)
    return parser.parse_args()


def fill(n: int, seed: int, today: dt.date) -> None:
    from django.db import transaction

    from tandem.accounts.models import Account, Contact, ContactRole, LifecycleStage, StakeholderRole, Tier
    from tandem.health.models import AccountHealth
    from tandem.success.models import SuccessMilestone
    from tandem.support.models import Ticket
    from tandem.surveys.models import NpsResponse
    from tandem.timeline.models import Interaction
    from tandem.users.services import user_create

    rng = random.Random(seed)
    csms = [user_create(acting_user=None, username=f"csm{i}", password=None, roles=["csm"]) for i in range(20)]
    ams = [user_create(acting_user=None, username=f"am{i}", password=None, roles=["account_manager"]) for i in range(8)]
    user_create(acting_user=None, username="boss", password=None, roles=["cs_manager"])
    now = dt.datetime.combine(today, dt.time(12), tzinfo=dt.UTC)
    with transaction.atomic():
        Account.objects.bulk_create(
            [
                Account(
                    name=f"Bench {i:06d}",
                    external_id=f"bench-{i}",
                    tier=rng.choice(list(Tier)),
                    lifecycle_stage=rng.choice(
                        [LifecycleStage.ADOPTION, LifecycleStage.MATURE, LifecycleStage.ONBOARDING]
                    ),
                    arr=Decimal(rng.randint(1, 400) * 1000),
                    renewal_date=today + dt.timedelta(days=rng.randint(0, 365)),
                    start_date=today - dt.timedelta(days=rng.randint(0, 1500)),
                    csm_owner=rng.choice(csms),
                    am_owner=rng.choice(ams),
                    country="US",
                )
                for i in range(n)
            ],
            batch_size=5000,
        )
        ids = list(Account.objects.values_list("id", flat=True))
        sample = rng.sample(ids, n // 10)
        Contact.objects.bulk_create(
            [
                Contact(
                    account_id=a,
                    first_name="Champ",
                    email=f"c{a}@x.example",
                    still_at_company=False,
                    left_on=today - dt.timedelta(days=rng.randint(0, 200)),
                )
                for a in sample
            ],
            batch_size=5000,
        )
        ContactRole.objects.bulk_create(
            [
                ContactRole(contact_id=c, role=StakeholderRole.CHAMPION)
                for c in Contact.objects.values_list("id", flat=True)
            ],
            batch_size=5000,
        )
        NpsResponse.objects.bulk_create(
            [
                NpsResponse(
                    account_id=a, score=rng.randint(0, 10), responded_at=now - dt.timedelta(days=rng.randint(0, 120))
                )
                for a in rng.sample(ids, n // 3)
            ],
            batch_size=5000,
        )
        SuccessMilestone.objects.bulk_create(
            [
                SuccessMilestone(
                    account_id=a, title="Go live", due_date=today + dt.timedelta(days=rng.randint(-60, 60))
                )
                for a in rng.sample(ids, n // 5)
            ],
            batch_size=5000,
        )
        Ticket.objects.bulk_create(
            [
                Ticket(
                    account_id=rng.choice(ids),
                    subject="t",
                    priority=rng.choice(["low", "normal", "high", "urgent"]),
                    opened_at=now - dt.timedelta(days=rng.randint(0, 90)),
                )
                for _ in range(n)
            ],
            batch_size=5000,
        )
        Interaction.objects.bulk_create(
            [
                Interaction(
                    account_id=rng.choice(ids), kind="call", occurred_at=now - dt.timedelta(days=rng.randint(0, 400))
                )
                for _ in range(n)
            ],
            batch_size=5000,
        )
        AccountHealth.objects.bulk_create(
            [
                AccountHealth(
                    account_id=a,
                    score=s,
                    band="red" if s < 8 else "yellow" if s < 40 else "green",
                    as_of=today,
                    change_7d=rng.uniform(-10, 5),
                    change_30d=rng.uniform(-30, 10),
                )
                for a in ids
                for s in [rng.uniform(0, 100)]
            ],
            batch_size=5000,
        )


def install_rules(count: int) -> None:
    from tandem.playbooks.catalog import install_shipped
    from tandem.playbooks.models import Playbook, Rule

    install_shipped(acting_user=None)
    Rule.objects.all().delete()
    playbooks = list(Playbook.objects.all())
    # Selective, like real rules: each matches roughly 0.5-5 % of the accounts.
    variants = [
        ("renewal_within", {"days": 7}),
        ("renewal_within", {"days": 30, "min_days": 23}),
        ("nps_detractor", {"days": 7, "max_score": 3}),
        ("milestone_overdue", {"grace_days": 50}),
        ("stakeholder_left", {"days": 7}),
        ("new_account", {"days": 14}),
        ("ticket_volume", {"count": 3, "days": 30, "priority": "urgent"}),
        ("no_interaction", {"days": 300}),
        ("health_score_below", {"threshold": 3}),
        ("health_drop", {"points": 29, "days": 30}),
        ("health_band", {"bands": ["red"]}),
        ("usage_drop", {"percent": 30}),
        ("seat_utilisation", {"threshold": 0.9}),
    ]
    tiers = [
        [],
        [{"field": "tier", "op": "eq", "value": "enterprise"}, {"field": "arr", "op": "gte", "value": 350000}],
        [{"field": "arr", "op": "gte", "value": 300000}],
        [{"field": "tier", "op": "in", "value": ["smb", "mid_market"]}, {"field": "arr", "op": "lte", "value": 20000}],
    ]
    for i in range(count):
        trigger, params = variants[i % len(variants)]
        Rule.objects.create(
            name=f"Rule {i}",
            trigger=trigger,
            params=params,
            conditions=tiers[(i // len(variants)) % 4],
            playbook=playbooks[i % len(playbooks)],
            reopen_after_days=30,
        )


def naive_open(sample: list[int], today: dt.date) -> float:
    """The baseline: one query (or three) per account to check and open a CTA."""
    from django.db import transaction

    from tandem.accounts.models import Account
    from tandem.playbooks.models import CallToAction, Playbook, Rule

    rule = Rule.objects.create(name="naive", trigger="renewal_within", playbook=Playbook.objects.first())
    started = time.perf_counter()
    with transaction.atomic():
        for aid in sample:
            account = Account.objects.get(pk=aid)
            CallToAction.objects.get_or_create(
                rule=rule,
                account=account,
                status="open",
                defaults={
                    "type": "risk",
                    "title": account.name,
                    "opened_on": today,
                    "due_date": today,
                    "owner_id": account.csm_owner_id,
                },
            )
    return time.perf_counter() - started


def main() -> None:
    args = parse_args()
    home = Path(tempfile.mkdtemp(prefix="tandem-bench-rules-"))
    os.environ["TANDEM_HOME"] = str(home)
    os.environ["TANDEM_EVENTS_PATH"] = str(home / "events")
    if args.database_url:
        os.environ["DATABASE_URL"] = args.database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tandem.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from tandem.playbooks.models import CallToAction, CtaTask
    from tandem.playbooks.services import rules_evaluate

    call_command("migrate", verbosity=0)
    if args.database_url:
        call_command("flush", interactive=False, verbosity=0)
    today = dt.date(2025, 6, 30)
    t0 = time.perf_counter()
    fill(args.accounts, args.seed, today)
    install_rules(args.rules)
    print(f"filled {args.accounts:,} accounts in {time.perf_counter() - t0:.1f} s", file=sys.stderr)

    statements = 0

    def count(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        nonlocal statements
        statements += 1
        return execute(sql, params, many, context)

    t0, c0 = time.perf_counter(), time.process_time()
    with connection.execute_wrapper(count):
        first = rules_evaluate(acting_user=None, today=today)
    first_s, first_cpu = time.perf_counter() - t0, time.process_time() - c0
    opened = first.opened
    matched = sum(r.matched for r in first.rules)
    t0, c0 = time.perf_counter(), time.process_time()
    second = rules_evaluate(acting_user=None, today=today)
    second_s, second_cpu = time.perf_counter() - t0, time.process_time() - c0
    assert second.opened == 0
    sample = list(CallToAction.objects.values_list("account_id", flat=True)[:2000])
    naive_s = naive_open(sample, today)
    naive_total = naive_s / len(sample) * opened
    print(
        f"\n{args.accounts:,} accounts, {args.rules} rules, {opened:,} CTAs opened ({matched:,} matches) with "
        f"{CtaTask.objects.count():,} tasks ({connection.vendor}); the first evaluation ran {statements:,} SQL "
        f"statements ({statements / args.rules:.0f} per rule)\n"
    )
    print("| step | seconds | ratio to baseline |\n|---|---:|---:|")
    print(
        f"| baseline: open the CTAs one account at a time (2,000 measured, extrapolated) | {naive_total:.1f} | 1.0× |"
    )
    print(f"| first evaluation: 50 rules, open every CTA in bulk | {first_s:.1f} | {first_s / naive_total:.2f}× |")
    print(f"| second evaluation: nothing new to open | {second_s:.1f} | {second_s / naive_total:.2f}× |")
    # CPU seconds of this process: steadier than wall time on a machine shared with other work.
    print(f"\nCPU seconds: first evaluation {first_cpu:.2f}, second evaluation {second_cpu:.2f}")


if __name__ == "__main__":
    main()
