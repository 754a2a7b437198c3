"""The daily pipeline: metrics → milestones → health → risk → analytics → renewals → rules → CTA advance → digests.

One service, :func:`daily_pipeline_run`, called by the scheduled job (``playbooks.daily``, queued
by every ``tandem worker`` once a day), by ``tandem metrics refresh`` and by the demo. Each step
calls one domain service and returns that service's typed result; later steps read what earlier
ones wrote (health scores today's metric snapshot, churn risk both, rules all three).

Every step is idempotent, so running the pipeline twice on a day changes nothing: metrics, health
and risk rewrite the same snapshot of the day, renewals and CTAs are opened once (a renewal per
term, a CTA per rule and account: unique constraints), waits are finished once, and digest jobs are
keyed per user and day. On top of that a run with a ``run_key`` records each finished step
(:class:`~tandem.daily.models.DailyRunStep`, committed with the step's own writes where the step is
one transaction) and a later run with the same key skips those steps: a worker killed mid-pipeline
loses its lease, another worker claims the job again and resumes at the step that was running,
which re-runs from its start without duplicating anything.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import time
import types
import typing
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Generic, Protocol, TypeVar

from django.db import IntegrityError, transaction
from django.utils import timezone

from tandem.audit.context import write_service
from tandem.daily.models import DailyRun, DailyRunStep, DailyStep
from tandem.health.services import HealthRunResult, health_refresh
from tandem.jobs.worker import checkpoint
from tandem.metrics.services import ComputeResult, metrics_refresh
from tandem.notifications.services import DigestsQueued, digests_enqueue
from tandem.opportunities.services import renewals_open_due
from tandem.playbooks.services import CtaAdvanceResult, EvaluationReport, ctas_advance, rules_evaluate
from tandem.revenue.services import RevenueAnalyticsResult, revenue_analytics_refresh
from tandem.risk.services import RiskRefreshResult, risk_refresh
from tandem.segments.services import SegmentsRefreshed, segments_refresh
from tandem.users.models import User

R = TypeVar("R")


@dataclass(frozen=True)
class RenewalsOpened:
    """The renewal step: renewal opportunities opened for terms now within their tier's lead time."""

    opened: int


@dataclass(frozen=True)
class MilestonesReached:
    """The milestones step: success milestones whose metric reached its threshold today."""

    reached: int


def _milestones(today: dt.date, acting_user: User | None) -> MilestonesReached:
    from tandem.success.services import milestones_reach_by_metrics

    return MilestonesReached(reached=milestones_reach_by_metrics(acting_user=acting_user, today=today))


@dataclass(frozen=True)
class AnalyticsResult:
    """The analytics step: cohorts and CLV fits (revenue) and the default backtest of each scorecard (health)."""

    revenue: RevenueAnalyticsResult
    backtests: int


def _analytics(today: dt.date, _user: User | None) -> AnalyticsResult:
    from tandem.health.computations import health_backtests_store

    return AnalyticsResult(
        revenue=revenue_analytics_refresh(today=today), backtests=health_backtests_store(today=today)
    )


@dataclass(frozen=True)
class StepRun(Generic[R]):
    """One step of a run: its typed result and how long it took (when it ran)."""

    step: DailyStep
    result: R
    seconds: float
    resumed: bool = False  # finished by an earlier attempt of the same run; not run again


@dataclass(frozen=True)
class DailyPipelineResult:
    """What each step of one daily run did, in the order the steps ran."""

    today: dt.date
    run_id: int
    metrics: StepRun[ComputeResult]
    milestones: StepRun[MilestonesReached]
    health: StepRun[HealthRunResult]
    risk: StepRun[RiskRefreshResult]
    segments: StepRun[SegmentsRefreshed]
    analytics: StepRun[AnalyticsResult]
    renewals: StepRun[RenewalsOpened]
    rules: StepRun[EvaluationReport]
    ctas: StepRun[CtaAdvanceResult]
    digests: StepRun[DigestsQueued]

    @property
    def steps(self) -> list[StepRun[Any]]:
        return [
            self.metrics,
            self.milestones,
            self.health,
            self.risk,
            self.segments,
            self.analytics,
            self.renewals,
            self.rules,
            self.ctas,
            self.digests,
        ]

    @property
    def seconds(self) -> float:
        return sum(s.seconds for s in self.steps if not s.resumed)


class PipelineObserver(Protocol):
    """Progress of a run (the CLI prints a line per step, the demo advances its progress bar)."""

    def step_started(self, step: DailyStep) -> None: ...

    def step_finished(self, outcome: StepRun[Any]) -> None: ...


@dataclass(frozen=True)
class _Step(Generic[R]):
    """A step: the domain service it calls, the type of its result, and whether it is one transaction.

    For a one-transaction step the completion record commits with the step's writes, so a resumed
    run never sees the writes without the record. Metrics (Parquet snapshot files, then one
    transaction for the current values) and rules (one transaction per rule, so that a long
    evaluation never holds one write lock) record completion after their writes; killed in
    between, the resumed run runs them again, which is idempotent.
    """

    name: DailyStep
    result_type: type[R]
    run: Callable[[dt.date, User | None], R]  # (today, acting user)
    one_transaction: bool


def _renewals(today: dt.date, acting_user: User | None) -> RenewalsOpened:
    from tandem.opportunities.forecast import renewals_forecast_derive

    opened = renewals_open_due(acting_user=acting_user, today=today)
    # Each new renewal's forecast and expected ARR follow the account's churn risk and health (read
    # from the risk and health steps before); the AM edits them from then on (docs/revenue.md).
    renewals_forecast_derive(acting_user=acting_user, opportunities=opened)
    return RenewalsOpened(opened=len(opened))


# Metrics, health, risk and digests write computed tables only (not audited), so they take no actor.
STEPS: list[_Step[Any]] = [
    _Step(DailyStep.METRICS, ComputeResult, lambda today, _u: metrics_refresh(today=today), one_transaction=False),
    # Right after the metrics it reads, so that the rules see today's success gaps.
    _Step(DailyStep.MILESTONES, MilestonesReached, _milestones, one_transaction=True),
    _Step(DailyStep.HEALTH, HealthRunResult, lambda today, _u: health_refresh(today=today), one_transaction=True),
    _Step(DailyStep.RISK, RiskRefreshResult, lambda today, _u: risk_refresh(today=today), one_transaction=True),
    # After the metrics, health and risk a segment's conditions read, before the rules that read segments.
    _Step(
        DailyStep.SEGMENTS,
        SegmentsRefreshed,
        lambda today, user: segments_refresh(acting_user=user, today=today),
        one_transaction=True,
    ),
    # Computed once a day so that the cohort, lifetime-value and backtest pages only read results.
    _Step(DailyStep.ANALYTICS, AnalyticsResult, _analytics, one_transaction=True),
    _Step(DailyStep.RENEWALS, RenewalsOpened, _renewals, one_transaction=True),
    _Step(
        DailyStep.RULES,
        EvaluationReport,
        lambda today, user: rules_evaluate(acting_user=user, today=today),
        one_transaction=False,
    ),
    _Step(
        DailyStep.CTAS,
        CtaAdvanceResult,
        lambda today, user: ctas_advance(acting_user=user, today=today),
        one_transaction=True,
    ),
    _Step(DailyStep.DIGESTS, DigestsQueued, lambda today, _u: digests_enqueue(day=today), one_transaction=True),
]


def daily_run_key(day: dt.date) -> str:
    """The resume key of the scheduled run of ``day`` (the same as its job's key)."""
    return f"daily:{day.isoformat()}"


@write_service(atomic=False)  # each step commits on its own, so a killed run resumes at its step
def daily_pipeline_run(
    *,
    acting_user: User | None,
    today: dt.date,
    run_key: str | None = None,
    observer: PipelineObserver | None = None,
) -> DailyPipelineResult:
    """Run the daily pipeline for ``today``: every step in order, each returning its typed result.

    With a ``run_key`` an earlier run with that key is resumed: its finished steps are not run again
    (their results are read back) and the first unfinished one starts from its beginning. A step
    that raises stops the run; the exception propagates (the job system retries the job, which
    resumes). Between steps :func:`tandem.jobs.worker.checkpoint` ``daily.after:<step>`` lets the
    kill-the-worker test stop a worker there.
    """
    run = _run_for(today=today, run_key=run_key, acting_user=acting_user)
    done = {s.step: s for s in DailyRunStep.objects.filter(run=run)}
    outcomes: dict[str, StepRun[Any]] = {}
    for step in STEPS:
        if observer is not None:
            observer.step_started(step.name)
        record = done.get(step.name)
        if record is not None:
            outcome: StepRun[Any] = StepRun(
                step.name, _decode(step.result_type, record.result), record.seconds, resumed=True
            )
        else:
            outcome = _run_step(run=run, step=step, today=today, acting_user=acting_user)
            checkpoint(f"daily.after:{step.name}")
        outcomes[step.name.value] = outcome
        if observer is not None:
            observer.step_finished(outcome)
    DailyRun.objects.filter(pk=run.pk, finished_at__isnull=True).update(finished_at=timezone.now())
    return DailyPipelineResult(today=today, run_id=run.pk, **outcomes)


def _run_for(*, today: dt.date, run_key: str | None, acting_user: User | None) -> DailyRun:
    if run_key is None:
        return DailyRun.objects.create(day=today, acting_user=acting_user)
    try:
        with transaction.atomic():
            run, _created = DailyRun.objects.get_or_create(
                key=run_key, defaults={"day": today, "acting_user": acting_user}
            )
    except IntegrityError:  # another process created it between our read and insert
        run = DailyRun.objects.get(key=run_key)
    return run


def _run_step(*, run: DailyRun, step: _Step[R], today: dt.date, acting_user: User | None) -> StepRun[R]:
    started = time.monotonic()
    with transaction.atomic() if step.one_transaction else contextlib.nullcontext():
        result = step.run(today, acting_user)
        seconds = time.monotonic() - started
        _record(run=run, step=step.name, result=result, seconds=seconds)
    return StepRun(step.name, result, seconds)


def _record(*, run: DailyRun, step: DailyStep, result: Any, seconds: float) -> None:
    """Mark ``step`` finished for ``run``; a racing second attempt that finished it first wins."""
    try:
        with transaction.atomic():
            DailyRunStep.objects.create(run=run, step=step, result=_encode(result), seconds=round(seconds, 3))
    except IntegrityError:
        pass


def _encode(result: Any) -> dict[str, Any]:
    return dataclasses.asdict(result)


def _decode(tp: Any, value: Any) -> Any:
    """Rebuild a step result from its JSON (dates as ISO strings, Decimals as strings)."""
    if value is None:
        return None
    if dataclasses.is_dataclass(tp) and isinstance(tp, type):
        hints = typing.get_type_hints(tp)
        return tp(**{f.name: _decode(hints[f.name], value[f.name]) for f in dataclasses.fields(tp) if f.init})
    origin = typing.get_origin(tp)
    if origin is list:
        (item,) = typing.get_args(tp)
        return [_decode(item, v) for v in value]
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        return _decode(args[0], value)
    if tp is dt.date:
        return dt.date.fromisoformat(value)
    if tp is Decimal:
        return Decimal(value)
    return value
