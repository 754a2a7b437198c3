"""Benchmark: do millions of closed CTAs slow the queues or the opening of new CTAs?

Run:  python benchmarks/bench_cta_archive.py [--closed 5000000] [--accounts 50000] [--database-url URL]

Closed CTAs stay in the main table; every queue index and the one-open-CTA-per-rule-and-account
constraint are partial (``WHERE status IN ('open', 'snoozed')``) and the quiet-period lookup reads
``(rule, closed_at) WHERE status = 'closed'``, so their size follows the open and the recently
closed CTAs, not the history. This benchmark checks that claim in one run:

1. builds a throw-away TANDEM_HOME (SQLite by default; with ``--database-url`` that database is
   flushed first), 50,000 accounts, 20 CSMs, a pool, 50 rules, and about 1,000 open CTAs with tasks;
2. **baseline** (no closed CTA): times My day and the queue summary of every CSM, the team queues,
   the SLA breaches, a pool queue, the open CTAs of accounts, the rule list, and the evaluation of
   a rule that opens about 2,000 new CTAs with their tasks and notifications (its CTAs are deleted
   again after each repetition, so every repetition starts from the same state);
3. loads ``--closed`` closed CTAs (default 5 million) and two done tasks for each with set-based
   ``INSERT ... SELECT`` statements (a recursive CTE on SQLite, ``generate_series`` on PostgreSQL),
   spread over every rule, account and CSM, closed between 31 days and 3 years ago;
4. times the same operations again and prints each with its ratio to the baseline.

Each timing is the median of ``--repeat`` runs. PostgreSQL gets an ``ANALYZE`` after the load (as
autovacuum would do); SQLite gets nothing (Django never runs ``ANALYZE``). ``--explain`` prints
the query plans of My day and of the quiet-period lookup.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

TODAY = dt.date(2025, 6, 30)
CSMS = 20
RULES = 50
TASKS_PER_CLOSED = 2


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--closed", type=int, default=5_000_000, help="closed CTAs to load (default 5 million)")
    parser.add_argument("--accounts", type=int, default=50_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--batch", type=int, default=1_000_000, help="closed CTAs per INSERT ... SELECT statement")
    parser.add_argument("--database-url", default=None, help="default: SQLite in a temporary TANDEM_HOME")
    parser.add_argument("--explain", action="store_true", help="print the query plans of the hot queries")
    return parser.parse_args()


def setup(accounts: int) -> dict[str, Any]:
    """Accounts, users, a pool, 50 rules and about 1,000 open CTAs (opened by real rule evaluations)."""
    from django.db import transaction

    from tandem.accounts.models import Account, Tier
    from tandem.playbooks.catalog import install_shipped
    from tandem.playbooks.models import Playbook, Rule, WorkPool
    from tandem.playbooks.services import rules_evaluate
    from tandem.users.services import user_create

    csms = [user_create(acting_user=None, username=f"csm{i}", password=None, roles=["csm"]) for i in range(CSMS)]
    user_create(acting_user=None, username="boss", password=None, roles=["cs_manager"])
    pool = WorkPool.objects.create(name="Bench pool")
    pool.members.set(csms[:5])
    tiers = list(Tier)
    with transaction.atomic():
        Account.objects.bulk_create(
            [
                Account(
                    name=f"Archive {i:06d}",
                    external_id=f"archive-{i}",
                    tier=tiers[i % len(tiers)],
                    arr=Decimal((i % 400 + 1) * 1000),
                    # one account in 365 renews on each day of the coming year
                    renewal_date=TODAY + dt.timedelta(days=i % 365),
                    start_date=TODAY - dt.timedelta(days=400 + i % 1000),
                    csm_owner=csms[i % CSMS],
                    country="US",
                )
                for i in range(accounts)
            ],
            batch_size=5000,
        )
    install_shipped(acting_user=None)
    Rule.objects.all().delete()
    playbooks = list(Playbook.objects.order_by("id"))
    rules = [
        Rule.objects.create(
            name=f"History rule {i}",
            trigger="renewal_within",
            params={"days": 400},
            playbook=playbooks[i % len(playbooks)],
            is_active=False,
        )
        for i in range(RULES)
    ]
    # The open CTAs the queues show: about 1,000, 50 per CSM, some in the pool.
    queue_rule = rules[0]
    queue_rule.params, queue_rule.is_active = {"days": 6}, True
    queue_rule.save()
    pool_rule = rules[1]
    pool_rule.params, pool_rule.pool, pool_rule.is_active = {"days": 2}, pool, True
    pool_rule.save()
    rules_evaluate(acting_user=None, today=TODAY, rule_ids=[queue_rule.pk, pool_rule.pk])
    # The rule whose evaluation is timed: renewals 14 to 20 days out, about 1,000 accounts per 50,000.
    measured = rules[2]
    measured.params, measured.is_active = {"days": 20, "min_days": 14}, True
    measured.save()
    return {"csms": csms, "pool": pool, "rules": rules, "measured": measured}


def timed(func: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    """Median wall time in milliseconds of ``repeat`` runs, and the last result."""
    times, result = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        result = func()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times), result


def measure(state: dict[str, Any], repeat: int) -> dict[str, tuple[float, Any]]:
    from tandem.notifications.models import Notification
    from tandem.playbooks import selectors
    from tandem.playbooks.models import OPEN_Q, CallToAction
    from tandem.playbooks.services import rules_evaluate

    csms, pool, measured = state["csms"], state["pool"], state["measured"]
    sample_accounts = list(CallToAction.objects.filter(OPEN_Q).values_list("account_id", flat=True)[:20])

    def open_new() -> tuple[float, int]:
        """Median time of evaluating the rule; its CTAs are deleted again after each run, untimed."""
        times, opened_count = [], 0
        for _ in range(repeat):
            started = time.perf_counter()
            opened_count = rules_evaluate(acting_user=None, today=TODAY, rule_ids=[measured.pk]).opened
            times.append((time.perf_counter() - started) * 1000)
            opened = list(CallToAction.objects.filter(OPEN_Q, rule=measured).values_list("id", flat=True))
            Notification.objects.filter(key__in=[f"cta:{pk}" for pk in opened]).delete()
            CallToAction.objects.filter(pk__in=opened).delete()
        return statistics.median(times), opened_count

    out = {
        "My day (each of 20 CSMs)": timed(
            lambda: sum(len(selectors.my_day(user=u, today=TODAY)) for u in csms), repeat
        ),
        "queue summary (each of 20 CSMs)": timed(
            lambda: sum(selectors.queue_summary(user=u, today=TODAY).total for u in csms), repeat
        ),
        "team queues": timed(lambda: sum(r.open for r in selectors.team_queues(today=TODAY)), repeat),
        "SLA breaches": timed(lambda: len(selectors.sla_breaches(today=TODAY)), repeat),
        "pool queue": timed(lambda: len(selectors.pool_queue(pool=pool, today=TODAY)), repeat),
        "open CTAs of 20 accounts": timed(
            lambda: sum(len(selectors.account_open_ctas(account_id=a)) for a in sample_accounts), repeat
        ),
        "rule list (open CTAs per rule)": timed(lambda: sum(r.open_ctas for r in selectors.rule_list()), repeat),
        "evaluate a rule that opens new CTAs": open_new(),
    }
    return out


def load_closed(total: int, batch: int) -> float:
    """Insert ``total`` closed CTAs and their tasks with set-based SQL; returns the seconds it took."""
    from django.db import connection, transaction

    from tandem.accounts.models import Account
    from tandem.playbooks.models import CallToAction, CtaTask, Rule
    from tandem.users.models import User

    def span(qs: Any) -> tuple[int, int]:
        ids = sorted(qs.values_list("id", flat=True))
        assert ids == list(range(ids[0], ids[0] + len(ids))), "ids must be contiguous in a fresh database"
        return ids[0], len(ids)

    acc0, n_acc = span(Account.objects.all())
    rule0, n_rules = span(Rule.objects.all())
    csm0, n_csm = span(User.objects.filter(username__startswith="csm"))
    playbook_id = Rule.objects.order_by("id").values_list("playbook_id", flat=True).first()
    cta, task = CallToAction._meta.db_table, CtaTask._meta.db_table
    columns = (
        "created_at, updated_at, rule_id, account_id, playbook_id, type, priority, title, reason, reason_message, "
        "owner_id, "
        "pool_id, status, opened_on, due_date, snoozed_until, closed_at, outcome, close_reason, priority_score"
    )
    # n runs over the batch; d = 31 + n mod 1064 days ago it closed (31 days to about 3 years).
    # The SQL carries parameters, so its modulo operators are written %% (both drivers read them as %).
    if connection.vendor == "postgresql":
        source = "generate_series(%s::bigint, %s::bigint) AS s(n)"
        closed = "(timestamp '2025-06-30 12:00' - make_interval(days => (31 + n %% 1064)::int)) AT TIME ZONE 'UTC'"
        opened = "(date '2025-06-30' - (45 + n %% 1064)::int)"
        due = "(date '2025-06-30' - (38 + n %% 1064)::int)"
        prefix = ""
    else:
        source = "seq"
        closed = "datetime('2025-06-30 12:00', '-' || (31 + n %% 1064) || ' days')"
        opened = "date('2025-06-30', '-' || (45 + n %% 1064) || ' days')"
        due = "date('2025-06-30', '-' || (38 + n %% 1064) || ' days')"
        prefix = "WITH RECURSIVE seq(n) AS (SELECT %s UNION ALL SELECT n + 1 FROM seq WHERE n < %s) "
    insert_ctas = (
        f"{prefix}INSERT INTO {cta} ({columns}) "
        f"SELECT {closed}, {closed}, {rule0} + n %% {n_rules}, {acc0} + (n * 7919) %% {n_acc}, {playbook_id}, "
        f"'risk', 2, 'Closed long ago', 'History', '{{}}', {csm0} + n %% {n_csm}, NULL, 'closed', {opened}, {due}, "
        f"NULL, {closed}, 'success', '', 1000.0 FROM {source}"
    )
    insert_tasks = (
        f"INSERT INTO {task} (cta_id, step_id, position, kind, title, assignee_id, due_date, status, completed_at, "
        f"completed_by_id) SELECT c.id, NULL, p.pos, 'task', 'Done long ago', c.owner_id, c.due_date, 'done', "
        f"c.closed_at, NULL FROM {cta} c CROSS JOIN ("
        + " UNION ALL ".join(f"SELECT {i} AS pos" for i in range(TASKS_PER_CLOSED))
        + ") p WHERE c.id > %s AND c.status = 'closed'"
    )
    if connection.vendor == "sqlite":  # a bigger page cache while loading only; restored before measuring
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA cache_size = -1000000")
    started = time.perf_counter()
    done = 0
    while done < total:
        size = min(batch, total - done)
        with transaction.atomic(), connection.cursor() as cursor:
            last = CallToAction.objects.order_by("-id").values_list("id", flat=True).first() or 0
            cursor.execute(insert_ctas, [done, done + size - 1])
            cursor.execute(insert_tasks, [last])
        done += size
        rate = done / (time.perf_counter() - started)
        print(f"  loaded {done:,} closed CTAs ({rate:,.0f} a second)", file=sys.stderr)
    seconds = time.perf_counter() - started
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            cursor.execute("PRAGMA cache_size = -64000")
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {cta}")
            cursor.execute(f"ANALYZE {task}")
    return seconds


def explain(state: dict[str, Any]) -> None:
    from django.db.models import Q

    from tandem.playbooks import selectors
    from tandem.playbooks.models import CallToAction, CtaStatus

    user, rule = state["csms"][0], state["measured"]
    qs = selectors.queue_order(
        CallToAction.objects.filter(selectors._visible_open(TODAY), owner=user), today=TODAY
    ).select_related("account", "rule")[:100]
    print("\nMy day:\n" + qs.explain(), file=sys.stderr)
    cooling = CallToAction.objects.filter(
        Q(rule=rule, status=CtaStatus.CLOSED, closed_at__gte=dt.datetime(2025, 5, 31, tzinfo=dt.UTC))
    ).values_list("account_id", flat=True)
    print("\nQuiet period:\n" + cooling.explain() + "\n", file=sys.stderr)


def main() -> None:
    args = parse_args()
    home = Path(tempfile.mkdtemp(prefix="tandem-bench-archive-"))
    os.environ["TANDEM_HOME"] = str(home)
    os.environ["TANDEM_EVENTS_PATH"] = str(home / "events")
    if args.database_url:
        os.environ["DATABASE_URL"] = args.database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tandem.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from tandem.playbooks.models import OPEN_Q, CallToAction, CtaTask

    call_command("migrate", verbosity=0)
    if args.database_url:
        call_command("flush", interactive=False, verbosity=0)
    t0 = time.perf_counter()
    state = setup(args.accounts)
    open_count = CallToAction.objects.filter(OPEN_Q).count()
    print(
        f"set up {args.accounts:,} accounts, {open_count:,} open CTAs in {time.perf_counter() - t0:.1f} s",
        file=sys.stderr,
    )
    measure(state, 1)  # warm up: imports, caches
    if args.explain:
        explain(state)
    baseline = measure(state, args.repeat)
    load_s = load_closed(args.closed, args.batch)
    closed = CallToAction.objects.exclude(OPEN_Q).count()
    tasks = CtaTask.objects.count()
    size = ""
    if connection.vendor == "sqlite":
        size = f", database file {Path(connection.settings_dict['NAME']).stat().st_size / 1e9:.1f} GB"
    if args.explain:
        explain(state)
    loaded = measure(state, args.repeat)
    print(
        f"\n{connection.vendor}: {args.accounts:,} accounts, {open_count:,} open CTAs; loaded {closed:,} closed CTAs "
        f"and {tasks:,} tasks in {load_s:.0f} s ({closed / load_s:,.0f} CTAs a second){size}; "
        f"median of {args.repeat} runs\n"
    )
    print("| operation | baseline: no closed CTA (ms) | with closed CTAs (ms) | ratio to baseline |")
    print("|---|---:|---:|---:|")
    for name, (base_ms, base_result) in baseline.items():
        ms, result = loaded[name]
        assert result == base_result, f"{name}: {result} with closed CTAs, {base_result} without"
        print(f"| {name} ({result:,} rows) | {base_ms:.1f} | {ms:.1f} | {ms / base_ms:.2f}x |")


if __name__ == "__main__":
    main()
