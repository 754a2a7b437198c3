"""The demo's past year of calls to action: opened and closed by the shipped rules and their people.

Runs after the daily pipeline opened today's CTAs (``tandem.demo.pipeline.POST_BUILD_STEPS``):

* **Closed history.** For every active rule, accounts it would have matched over the past year get
  closed CTAs: the same rule, CTA type, priority and owner (the rule's pool member, the account's
  CSM or AM by the rule's owner role, or the CS manager), opened on a past day, due ``due_in_days``
  later, closed after a delay that meets the due date about four times in five (SLA hit) and misses
  it otherwise (SLA breach), with an outcome that follows the account's health (healthy accounts'
  CTAs mostly end in success, unhealthy ones more often lost). An account's CTAs of one rule never
  overlap and respect the rule's quiet period; an account never has two CTAs of one type open at a
  time, like the rules themselves (docs/playbooks.md).
* **Ageing today's queue.** Most of today's open CTAs were really opened on earlier days (the rules
  matched then): their opened and due dates, and their tasks' due dates, move back by the same
  number of days, so some are overdue (open SLA breaches) while the rest are still on time.

Everything is written with bulk statements and recorded in the audit history
(the playbooks app's ``cta_bulk_record`` and
``cta_bulk_reschedule``), like the builder's other writes. Idempotent on a freshly built demo.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from django.db import transaction
from django.utils import timezone

from tandem.core.bulk import IN_CHUNK
from tandem.playbooks.services import cta_bulk_record, cta_bulk_reschedule

if TYPE_CHECKING:
    from tandem.demo.pipeline import DemoContext

DEMO_PREFIX = "demo-"
HISTORY_DAYS = 365
SLA_HIT_RATE = 0.8
AGED_SHARE = 0.7  # of today's open CTAs, how many were opened on an earlier day


@dataclass(frozen=True)
class HistoryResult:
    closed: int
    aged: int
    on_time: int


def _sigmoid(x: float) -> float:
    return 1 / (1 + math.exp(-x))


def _owner(
    role: str, account: Mapping[str, Any], manager_id: int | None, pool_members: list[int], rng: Any
) -> int | None:
    from tandem.playbooks.models import StepRole

    if pool_members:
        return int(pool_members[int(rng.integers(0, len(pool_members)))])
    if role == StepRole.AM:
        return account["am_owner_id"] or account["csm_owner_id"]
    if role == StepRole.CS_MANAGER:
        return manager_id
    return account["csm_owner_id"] or account["am_owner_id"]


def _outcome(health: float, rng: Any) -> str:
    from tandem.playbooks.models import CtaOutcome

    good = _sigmoid((health - 50) / 12)  # 0..1
    p = np.array([0.25 + 0.45 * good, 0.2, 0.15 + 0.1 * good, 0.4 - 0.55 * good])
    p = np.clip(p, 0.02, None)
    p = p / p.sum()
    choices = [CtaOutcome.SUCCESS, CtaOutcome.PARTIAL, CtaOutcome.NOT_NEEDED, CtaOutcome.LOST]
    return str(choices[int(rng.choice(4, p=p))])


@transaction.atomic
def write_cta_history(*, seed: int, today: dt.date) -> HistoryResult:
    """See the module docstring."""
    from tandem.accounts.models import Account, LifecycleStage
    from tandem.health.models import AccountHealth
    from tandem.playbooks.models import OPEN_Q, CallToAction, CtaStatus, CtaTask, Rule
    from tandem.playbooks.services import priority_score
    from tandem.users.models import User
    from tandem.users.roles import Role

    rng = np.random.default_rng([seed, 11])
    rules = list(Rule.objects.filter(is_active=True).select_related("pool").order_by("id"))
    accounts = {
        row["id"]: row
        for row in Account.objects.filter(external_id__startswith=DEMO_PREFIX)
        .exclude(lifecycle_stage=LifecycleStage.CHURNED)
        .values("id", "name", "arr", "csm_owner_id", "am_owner_id", "start_date")
    }
    health = dict(AccountHealth.objects.filter(account_id__in=list(accounts)).values_list("account_id", "score"))
    manager = User.objects.filter(groups__name=Role.CS_MANAGER.group_name, is_active=True).order_by("id").first()
    manager_id = manager.pk if manager else None
    members = {r.pk: list(r.pool.members.order_by("id").values_list("id", flat=True)) if r.pool else [] for r in rules}
    open_now = list(CallToAction.objects.filter(OPEN_Q).order_by("id"))
    start = today - dt.timedelta(days=HISTORY_DAYS)

    # Busy intervals per (account, CTA type): no two CTAs of one type open on an account at once.
    busy: dict[tuple[int, str], list[tuple[dt.date, dt.date]]] = defaultdict(list)
    closed: list[CallToAction] = []
    on_time = 0
    ids = sorted(accounts)
    for rule in rules:
        # Weaker accounts match risk rules more often; every rule matches a few accounts a month.
        weights = np.array([1.5 - float(health.get(a, 50.0) or 50.0) / 100 for a in ids])
        weights = weights / weights.sum()
        n = int(rng.poisson(max(len(ids) * 0.08, 1.0)))
        for index in rng.choice(len(ids), size=min(n, len(ids)), replace=False, p=weights):
            account = accounts[ids[int(index)]]
            opened = start + dt.timedelta(days=int(rng.integers(0, HISTORY_DAYS - 10)))
            if account["start_date"] and opened < account["start_date"]:
                continue
            due = opened + dt.timedelta(days=rule.due_in_days)
            hit = rng.random() < SLA_HIT_RATE
            if hit:
                days = int(rng.integers(0, rule.due_in_days + 1))
            else:
                days = rule.due_in_days + int(rng.integers(1, 3 * rule.due_in_days + 2))
            closed_on = min(opened + dt.timedelta(days=days), today - dt.timedelta(days=1))
            key = (account["id"], rule.cta_type)
            quiet = dt.timedelta(days=rule.reopen_after_days)
            if any(opened <= b_end + quiet and a_start <= closed_on for a_start, b_end in busy[key]):
                continue
            busy[key].append((opened, closed_on))
            on_time += closed_on <= due
            score = health.get(account["id"])
            stamp = dt.datetime.combine(opened, dt.time(6, 30), tzinfo=dt.UTC)
            closed.append(
                CallToAction(
                    created_at=stamp,
                    updated_at=stamp,
                    rule=rule,
                    account_id=account["id"],
                    playbook_id=rule.playbook_id,
                    type=rule.cta_type,
                    priority=rule.priority,
                    title=f"{rule.name}: {account['name']}"[:300],
                    reason=rule.name,
                    owner_id=_owner(rule.owner_role, account, manager_id, members[rule.pk], rng),
                    pool_id=rule.pool_id,
                    status=CtaStatus.CLOSED,
                    opened_on=opened,
                    due_date=due,
                    closed_at=dt.datetime.combine(closed_on, dt.time(int(rng.integers(9, 18))), tzinfo=dt.UTC),
                    outcome=_outcome(float(score) if score is not None else 50.0, rng),
                    priority_score=priority_score(
                        arr=float(account["arr"]), priority=rule.priority, health_score=score
                    ),
                )
            )
    now = timezone.now()
    cta_bulk_record(acting_user=None, ctas=closed, now=now)

    # Age today's queue: the rule matched on an earlier day.
    aged: list[CallToAction] = []
    shift_by_cta: dict[int, int] = {}
    for cta in open_now:
        if cta.opened_on != today or rng.random() > AGED_SHARE:
            continue
        span = max((cta.due_date - cta.opened_on).days, 1)
        back = int(rng.integers(1, 2 * span + 3))
        cta.opened_on -= dt.timedelta(days=back)
        cta.due_date -= dt.timedelta(days=back)
        shift_by_cta[cta.pk] = back
        aged.append(cta)
    # With their CTA: the audit entry of a task names the CTA's account (a query per task otherwise).
    # In chunks: at 100,000 accounts tens of thousands of CTAs are aged, too many ids for one IN.
    aged_ids = list(shift_by_cta)
    tasks = [
        task
        for start in range(0, len(aged_ids), IN_CHUNK)
        for task in CtaTask.objects.filter(cta_id__in=aged_ids[start : start + IN_CHUNK]).select_related("cta")
    ]
    for t in tasks:
        t.due_date -= dt.timedelta(days=shift_by_cta[t.cta_id])
    cta_bulk_reschedule(acting_user=None, ctas=aged, tasks=tasks, now=now)
    return HistoryResult(closed=len(closed), aged=len(aged), on_time=on_time)


def cta_history_step(ctx: DemoContext) -> None:
    """Registered in tandem.demo.pipeline.POST_BUILD_STEPS after the daily pipeline."""
    advance = ctx.phases.start("A year of calls to action", 1)
    write_cta_history(seed=ctx.seed, today=ctx.today)
    advance(1)
