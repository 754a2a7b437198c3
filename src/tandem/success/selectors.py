"""Reads for success plans: the plan with each outcome's KPI progress, and milestones."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db.models import QuerySet

from tandem.accounts.models import Account
from tandem.metrics.selectors import metric_values
from tandem.success.models import DesiredOutcome, KpiKind, OutcomeStatus, SuccessMilestone, SuccessPlan


def plan_for(account: Account) -> SuccessPlan:
    """The account's plan, or an unsaved empty one (a plan is stored when something is written to it)."""
    return SuccessPlan.objects.filter(account=account).first() or SuccessPlan(account=account)


def account_milestones(*, account_id: int) -> QuerySet[SuccessMilestone]:
    return (
        SuccessMilestone.objects.filter(account_id=account_id)
        .select_related("owner", "metric", "completed_by", "outcome")
        .order_by("due_date", "id")
    )


def milestones_overdue(*, today: dt.date) -> QuerySet[SuccessMilestone]:
    return SuccessMilestone.objects.filter(completed_at__isnull=True, due_date__lt=today)


@dataclass
class OutcomeView:
    """An outcome as the plan page shows it: the KPI's current value and the share of the way done."""

    outcome: DesiredOutcome
    current: float | None
    progress: float | None  # 0..1 from the baseline (or 0) to the target; None without a value
    milestones: list[SuccessMilestone] = field(default_factory=list)


@dataclass
class PlanView:
    plan: SuccessPlan | None
    outcomes: list[OutcomeView]
    unlinked: list[SuccessMilestone]  # milestones on no outcome's path
    reached: int
    total: int
    overdue: int


def kpi_progress(*, current: float | None, baseline: float | None, target: float) -> float | None:
    """How far ``current`` is from ``baseline`` (0 when none) toward ``target``, clipped to 0..1.

    A target below the baseline (fewer tickets, shorter time to value) counts the fall as progress."""
    if current is None:
        return None
    start = baseline or 0.0
    if target == start:
        return 1.0 if current == target else 0.0
    return max(0.0, min(1.0, (current - start) / (target - start)))


def account_plan(*, account_id: int, today: dt.date) -> PlanView:
    """The account's plan: outcomes (open first) with their KPI now and their milestones."""
    plan = SuccessPlan.objects.filter(account_id=account_id).select_related("sponsor").first()
    milestones = list(account_milestones(account_id=account_id))
    outcomes: list[DesiredOutcome] = []
    if plan is not None:
        outcomes = list(DesiredOutcome.objects.filter(plan=plan).select_related("metric"))
    order = {OutcomeStatus.OPEN: 0, OutcomeStatus.ACHIEVED: 1, OutcomeStatus.DROPPED: 2}
    outcomes.sort(key=lambda o: (order.get(OutcomeStatus(o.status), 3), o.target_date or dt.date.max, o.pk))
    views = []
    for outcome in outcomes:
        if outcome.kpi_kind == KpiKind.METRIC and outcome.metric is not None:
            current = metric_values(key=outcome.metric.key, account_ids=[account_id]).get(account_id)
        else:
            current = outcome.reported
        views.append(
            OutcomeView(
                outcome=outcome,
                current=current,
                progress=kpi_progress(current=current, baseline=outcome.baseline, target=outcome.target),
                milestones=[m for m in milestones if m.outcome_id == outcome.pk],
            )
        )
    return PlanView(
        plan=plan,
        outcomes=views,
        unlinked=[m for m in milestones if m.outcome_id is None],
        reached=sum(1 for m in milestones if m.completed_at is not None),
        total=len(milestones),
        overdue=sum(1 for m in milestones if m.completed_at is None and m.due_date < today),
    )
