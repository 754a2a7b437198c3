"""Reads for success plans: the plan with each outcome's KPI progress, and milestones."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db.models import QuerySet

from tandem.accounts.models import Account
from tandem.metrics.selectors import metric_values
from tandem.success.models import (
    DesiredOutcome,
    KpiKind,
    OutcomeStatus,
    PlanComment,
    PlanShare,
    SuccessMilestone,
    SuccessPlan,
)


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

    @property
    def open_outcomes(self) -> int:
        return sum(1 for o in self.outcomes if o.outcome.status == OutcomeStatus.OPEN)

    @property
    def achieved_outcomes(self) -> int:
        return sum(1 for o in self.outcomes if o.outcome.status == OutcomeStatus.ACHIEVED)


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


def plan_shares(*, account_id: int) -> list[PlanShare]:
    """Every link the account's plan was shared by, newest first (revoked and expired ones too)."""
    return list(
        PlanShare.objects.filter(plan__account_id=account_id)
        .select_related("contact", "created_by", "revoked_by")
        .order_by("-created_at", "-id")
    )


def plan_comments(*, plan_id: int) -> list[PlanComment]:
    return list(
        PlanComment.objects.filter(share__plan_id=plan_id).select_related("contact").order_by("created_at", "id")
    )


@dataclass
class ReportedRoi:
    """A customer-reported KPI with its baseline: the ROI the customer says it got."""

    outcome: DesiredOutcome
    account_id: int
    account_name: str
    change: float | None  # reported - baseline, in the outcome's unit
    change_share: float | None  # that change over the baseline (None when the baseline is 0 or missing)
    progress: float | None


@dataclass
class OwnerOutcomes:
    owner: str
    plans: int
    open: int
    achieved: int
    gaps: int


@dataclass
class PortfolioOutcomes:
    accounts: int  # visible live accounts
    plans: int  # of them, with at least one desired outcome
    open: int
    achieved: int  # in the period
    gaps: int  # open milestones past their date
    milestones_reached: int  # in the period
    shared: int  # plans with a link that still opens
    roi: list[ReportedRoi]
    months: list[tuple[dt.date, int, int]]  # (month, outcomes achieved, milestones reached)
    owners: list[OwnerOutcomes]

    @property
    def coverage(self) -> float | None:
        return self.plans / self.accounts if self.accounts else None


def _month_starts(today: dt.date, months: int) -> list[dt.date]:
    first = today.replace(day=1)
    out = []
    for back in range(months - 1, -1, -1):
        year, month = divmod(first.year * 12 + first.month - 1 - back, 12)
        out.append(dt.date(year, month + 1, 1))
    return out


def outcomes_portfolio(*, accounts: QuerySet[Account], today: dt.date, months: int = 12) -> PortfolioOutcomes:
    """Outcomes and ROI across ``accounts`` (the reader's visible ones): a few aggregate queries,
    whatever the number of accounts, and the reported-ROI outcomes (one row each)."""
    from django.db.models import Count, Q
    from django.utils import timezone

    starts = _month_starts(today, months)
    ends = [*starts[1:], _month_starts(today + dt.timedelta(days=32), 1)[0]]
    since = starts[0]

    def midnight(day: dt.date) -> dt.datetime:
        return timezone.make_aware(dt.datetime.combine(day, dt.time.min))

    live = accounts.filter(archived_at__isnull=True)
    ids = live.values("pk")
    outcomes = DesiredOutcome.objects.filter(plan__account__in=ids)
    # One aggregate each for outcomes and milestones, months as conditional counts over plain
    # ranges: SQL compares them as they are (a truncation to the month is a function per row on SQLite).
    achieved_q = Q(status=OutcomeStatus.ACHIEVED)
    counts = outcomes.aggregate(
        open=Count("pk", filter=Q(status=OutcomeStatus.OPEN)),
        achieved=Count("pk", filter=achieved_q & Q(achieved_on__gte=since)),
        plans=Count("plan__account", distinct=True),
        **{
            f"m{i}": Count("pk", filter=achieved_q & Q(achieved_on__gte=a, achieved_on__lt=b))
            for i, (a, b) in enumerate(zip(starts, ends, strict=True))
        },
    )
    milestones = SuccessMilestone.objects.filter(account__in=ids)
    reached_counts = milestones.aggregate(
        gaps=Count("pk", filter=Q(completed_at__isnull=True, due_date__lt=today)),
        reached=Count("pk", filter=Q(completed_at__gte=midnight(since))),
        **{
            f"m{i}": Count("pk", filter=Q(completed_at__gte=midnight(a), completed_at__lt=midnight(b)))
            for i, (a, b) in enumerate(zip(starts, ends, strict=True))
        },
    )
    gaps, reached = reached_counts["gaps"], reached_counts["reached"]
    shared = (
        PlanShare.objects.filter(plan__account__in=ids, revoked_at__isnull=True, expires_at__gt=timezone.now())
        .values("plan")
        .distinct()
        .count()
    )
    achieved_n = {m: counts[f"m{i}"] for i, m in enumerate(starts)}
    reached_n = {m: reached_counts[f"m{i}"] for i, m in enumerate(starts)}
    roi = []
    for outcome in (
        outcomes.filter(kpi_kind=KpiKind.REPORTED, reported__isnull=False)
        .select_related("plan__account")
        .order_by("plan__account__name", "id")[:200]
    ):
        base = outcome.baseline
        change = outcome.reported - base if base is not None and outcome.reported is not None else None
        roi.append(
            ReportedRoi(
                outcome=outcome,
                account_id=outcome.plan.account_id,
                account_name=outcome.plan.account.name,
                change=change,
                change_share=change / abs(base) if change is not None and base else None,
                progress=kpi_progress(current=outcome.reported, baseline=base, target=outcome.target),
            )
        )
    owner_rows = (
        live.filter(success_plan__outcomes__isnull=False)
        .values("csm_owner__username", "csm_owner__first_name", "csm_owner__last_name")
        .annotate(
            plans=Count("pk", distinct=True),
            open=Count(
                "success_plan__outcomes", filter=Q(success_plan__outcomes__status=OutcomeStatus.OPEN), distinct=True
            ),
            achieved=Count(
                "success_plan__outcomes",
                filter=Q(
                    success_plan__outcomes__status=OutcomeStatus.ACHIEVED,
                    success_plan__outcomes__achieved_on__gte=since,
                ),
                distinct=True,
            ),
        )
        .order_by("csm_owner__username")
    )
    gaps_by_owner = dict(
        milestones.filter(completed_at__isnull=True, due_date__lt=today)
        .values_list("account__csm_owner__username")
        .annotate(n=Count("pk"))
        .values_list("account__csm_owner__username", "n")
    )
    owners = [
        OwnerOutcomes(
            owner=(
                f"{r['csm_owner__first_name']} {r['csm_owner__last_name']}".strip() or r["csm_owner__username"] or ""
            ),
            plans=r["plans"],
            open=r["open"],
            achieved=r["achieved"],
            gaps=gaps_by_owner.get(r["csm_owner__username"], 0),
        )
        for r in owner_rows
    ]
    return PortfolioOutcomes(
        accounts=live.count(),
        plans=counts["plans"] or 0,
        open=counts["open"] or 0,
        achieved=counts["achieved"] or 0,
        gaps=gaps,
        milestones_reached=reached,
        shared=shared,
        roi=roi,
        months=[(m, achieved_n.get(m, 0), reached_n.get(m, 0)) for m in starts],
        owners=owners,
    )
