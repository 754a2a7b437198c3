"""Writes of the health domain: default scorecards, scoring snapshots, current scores, backtests."""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
from django.db import transaction
from django.utils import timezone

from tandem.core.errors import DomainError, FieldError
from tandem.health import backtest as bt
from tandem.health.models import AccountHealth, HealthScoreCurrent, Scorecard, ScorecardMeasure
from tandem.health.outcomes import account_outcomes, label_frame
from tandem.health.scoring import MeasureSpec, ScorecardSpec, reasons, score_snapshot
from tandem.metrics import store
from tandem.metrics.models import MetricDefinition
from tandem.metrics.selectors import metric_history_frame, metric_snapshot_dates

KIND = "health"

# (metric key, group, weight, method, poor, good): generic metrics only, so it fits any company.
DEFAULT_OVERALL = [
    ("active_users_per_seat", "Adoption", 3.0, "percentile", None, None),
    ("events_per_seat", "Adoption", 2.0, "percentile", None, None),
    ("active_days_28d", "Engagement", 1.0, "percentile", None, None),
    ("events_change_28d", "Engagement", 2.0, "thresholds", -0.4, 0.1),
    ("active_users_change_28d", "Engagement", 1.0, "thresholds", -0.3, 0.1),
    ("ticket_rate_90d", "Support", 1.0, "percentile", None, None),
    ("open_tickets", "Support", 1.0, "thresholds", 3.0, 0.0),
    ("days_since_interaction", "Relationship", 1.0, "thresholds", 60.0, 7.0),
]


def scorecard_spec(scorecard: Scorecard) -> ScorecardSpec:
    measures = tuple(
        MeasureSpec(
            metric=m.metric.key,
            name=m.metric.name,
            weight=m.weight,
            method=m.method,
            poor_value=m.poor_value,
            good_value=m.good_value,
            higher_is_better=m.metric.higher_is_better,
            group=m.group,
        )
        for m in scorecard.measures.select_related("metric").order_by("group", "id")
    )
    return ScorecardSpec(
        id=scorecard.pk,
        name=scorecard.name,
        measures=measures,
        segment=scorecard.segment,
        missing_policy=scorecard.missing_policy,
        good_threshold=scorecard.good_threshold,
        poor_threshold=scorecard.poor_threshold,
    )


@transaction.atomic
def scorecards_install_defaults() -> list[Scorecard]:
    """'Overall health' (primary) from the generic metrics and 'Adoption' from per-event per-seat
    metrics, when they do not exist yet; measures whose metric is missing are left out."""
    metrics = {m.key: m for m in MetricDefinition.objects.filter(is_active=True)}
    made = []
    if not Scorecard.objects.filter(name="Overall health").exists():
        card = Scorecard.objects.create(
            name="Overall health",
            description="Adoption, engagement trend, support load and relationship.",
            is_primary=not Scorecard.objects.filter(is_primary=True).exists(),
        )
        for key, group, weight, method, poor, good in DEFAULT_OVERALL:
            if key in metrics:
                ScorecardMeasure.objects.create(
                    scorecard=card,
                    metric=metrics[key],
                    group=group,
                    weight=weight,
                    method=method,
                    poor_value=poor,
                    good_value=good,
                )
        made.append(card)
    per_event = [
        m
        for k, m in sorted(metrics.items())
        if k.endswith("_per_seat") and k not in ("events_per_seat", "active_users_per_seat")
    ]
    if per_event and not Scorecard.objects.filter(name="Adoption").exists():
        card = Scorecard.objects.create(name="Adoption", description="Breadth of feature use per licensed seat.")
        for m in per_event:
            ScorecardMeasure.objects.create(scorecard=card, metric=m, group="Features", weight=1.0)
        made.append(card)
    return made


def account_segments() -> pd.Series:
    from tandem.accounts.models import Account

    rows = list(Account.objects.values_list("id", "tier"))
    return pd.Series({a: t for a, t in rows}, name="tier", dtype=object)


def _cards(scorecards: list[Scorecard] | None) -> list[ScorecardSpec]:
    cards = scorecards if scorecards is not None else list(Scorecard.objects.filter(is_active=True))
    return [scorecard_spec(c) for c in cards]


@dataclass(frozen=True)
class HealthRunResult:
    dates: int
    scorecards: int
    accounts: int
    seconds: float


def health_score_dates(
    *, dates: list[dt.date] | None = None, scorecards: list[Scorecard] | None = None
) -> HealthRunResult:
    """Score every active scorecard on each metric snapshot date and store the scores (history).

    Stored scores are never recomputed by later edits: editing a scorecard changes only the dates
    scored after the edit (or those re-scored on purpose with this function).
    """
    started = time.monotonic()
    cards = _cards(scorecards)
    available = metric_snapshot_dates()
    dates = available if dates is None else [d for d in dates if d in set(available)]
    segments = account_segments()
    keys = sorted({m.metric for c in cards for m in c.measures})
    accounts = 0
    for day in dates:
        frame = metric_history_frame(dates=[day], keys=keys)
        if frame.empty:
            continue
        frame = frame.droplevel("as_of")
        parts = []
        for card in cards:
            result = score_snapshot(frame, card, segments)
            parts.append(
                pa.table(
                    {
                        "scorecard_id": pa.array(np.full(len(result.score), card.id), pa.int64()),
                        "account_id": pa.array(result.score.index.to_numpy(), pa.int64()),
                        "score": pa.array(result.score.to_numpy(), pa.float64()),
                        "band": pa.array(result.band.to_numpy(), pa.string()),
                    }
                )
            )
            accounts = max(accounts, len(result.score))
        table = pa.concat_tables(parts) if parts else None
        if table is None:
            continue
        existing = store.snapshot_path(KIND, day)
        if existing.exists() and scorecards is not None:
            import pyarrow.compute as pc
            import pyarrow.parquet as pq

            old = pq.read_table(existing)
            keep = pc.invert(pc.is_in(old.column("scorecard_id"), pa.array([c.id for c in cards], pa.int64())))
            table = pa.concat_tables([old.filter(keep), table])
        store.write_snapshot(KIND, day, table)
    return HealthRunResult(
        dates=len(dates), scorecards=len(cards), accounts=accounts, seconds=time.monotonic() - started
    )


def _score_on_or_before(history: pd.DataFrame, day: dt.date) -> pd.Series:
    earlier = history.loc[history["as_of"] <= day]
    if earlier.empty:
        return pd.Series(dtype=float)
    last = earlier["as_of"].max()
    return earlier.loc[earlier["as_of"] == last].set_index("account_id")["score"]


@transaction.atomic
def health_update_current(*, as_of: dt.date | None = None) -> int:
    """Refresh HealthScoreCurrent and AccountHealth from the stored scores at ``as_of`` (latest by default)."""
    dates = store.snapshot_dates(KIND)
    if as_of is None:
        if not dates:
            return 0
        as_of = dates[-1]
    cards = list(Scorecard.objects.filter(is_active=True))
    table = store.read_snapshots(KIND, columns="scorecard_id, account_id, score, band, as_of")
    if table.num_rows == 0:
        return 0
    all_scores = table.to_pandas()
    frame = metric_history_frame(dates=[as_of])
    frame = frame.droplevel("as_of") if not frame.empty else frame
    segments = account_segments()
    HealthScoreCurrent.objects.all().delete()
    AccountHealth.objects.all().delete()
    written = 0
    for card in cards:
        spec = scorecard_spec(card)
        history = all_scores.loc[all_scores["scorecard_id"] == card.pk]
        now = history.loc[history["as_of"] == as_of].set_index("account_id")
        if now.empty:
            continue
        before_7 = _score_on_or_before(history, as_of - dt.timedelta(days=7))
        before_30 = _score_on_or_before(history, as_of - dt.timedelta(days=30))
        why = reasons(score_snapshot(frame, spec, segments), spec) if not frame.empty else {}
        rows = []
        for account_id, row in now.iterrows():
            c7 = row.score - before_7.get(account_id) if account_id in before_7.index else None
            c30 = row.score - before_30.get(account_id) if account_id in before_30.index else None
            rows.append(
                HealthScoreCurrent(
                    account_id=account_id,
                    scorecard=card,
                    score=float(row.score),
                    band=row.band,
                    as_of=as_of,
                    change_7d=None if c7 is None else round(float(c7), 2),
                    change_30d=None if c30 is None else round(float(c30), 2),
                    reasons=why.get(int(account_id), []),
                )
            )
        HealthScoreCurrent.objects.bulk_create(rows, batch_size=2000)
        written += len(rows)
        if card.is_primary:
            AccountHealth.objects.bulk_create(
                [
                    AccountHealth(
                        account_id=r.account_id,
                        score=r.score,
                        band=r.band,
                        as_of=as_of,
                        change_7d=r.change_7d,
                        change_30d=r.change_30d,
                    )
                    for r in rows
                ],
                batch_size=2000,
            )
    return written


def health_refresh(*, today: dt.date | None = None) -> HealthRunResult:
    """Daily job: score today's metric snapshot and refresh the current scores (after metrics_refresh)."""
    today = today or timezone.localdate()
    result = health_score_dates(dates=[today])
    health_update_current(as_of=today)
    return result


def _history_and_labels(
    *, horizon_days: int, include_contraction: bool, today: dt.date, keys: list[str]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    history = metric_history_frame(keys=keys or None)
    if history.empty:
        raise DomainError(
            "No metric history.", [FieldError("metrics", "run `tandem metrics compute --from ... --to ...` first")]
        )
    outcomes = account_outcomes(today=today)
    labels = label_frame(history.index, outcomes, horizon_days=horizon_days, include_contraction=include_contraction)
    return history, labels


def health_backtest(
    *,
    scorecard: Scorecard | ScorecardSpec,
    horizon_days: int = 90,
    today: dt.date | None = None,
    with_suggestion: bool = False,
) -> dict[str, Any]:
    """Backtest a scorecard (saved, or an unsaved edit as a spec) over the stored metric history."""
    spec = scorecard if isinstance(scorecard, ScorecardSpec) else scorecard_spec(scorecard)
    today = today or timezone.localdate()
    history, labels = _history_and_labels(
        horizon_days=horizon_days, include_contraction=True, today=today, keys=[m.metric for m in spec.measures]
    )
    segments = account_segments()
    report = bt.backtest(history, labels, spec, segments, horizon_days=horizon_days)
    out: dict[str, Any] = {"report": report, "suggestion": None}
    if with_suggestion and report.auc is not None:
        out["suggestion"] = bt.suggest_weights(history, labels, spec, segments, horizon_days=horizon_days)
    return out


def health_preview(*, spec: ScorecardSpec, as_of: dt.date | None = None) -> dict[str, Any]:
    """Scores of an unsaved scorecard on the latest snapshot, next to the stored ones of the saved card."""
    dates = metric_snapshot_dates()
    if not dates:
        return {"scores": pd.Series(dtype=float), "bands": {}}
    day = as_of or dates[-1]
    frame = metric_history_frame(dates=[day], keys=[m.metric for m in spec.measures])
    if frame.empty:
        return {"scores": pd.Series(dtype=float), "bands": {}}
    result = score_snapshot(frame.droplevel("as_of"), spec, account_segments())
    return {"scores": result.score, "bands": result.band.value_counts().to_dict(), "as_of": day}


@transaction.atomic
def scorecard_update(*, scorecard: Scorecard, spec: ScorecardSpec) -> Scorecard:
    """Save an edited scorecard, then score it on the latest snapshot. Stored history is kept:
    earlier dates keep the scores the previous version gave."""
    scorecard.good_threshold = spec.good_threshold
    scorecard.poor_threshold = spec.poor_threshold
    scorecard.missing_policy = spec.missing_policy
    scorecard.full_clean()
    scorecard.save()
    by_metric = {m.metric.key: m for m in scorecard.measures.select_related("metric")}
    for m in spec.measures:
        row = by_metric[m.metric]
        row.weight, row.method, row.poor_value, row.good_value = m.weight, m.method, m.poor_value, m.good_value
        row.full_clean()
        row.save()
    dates = metric_snapshot_dates()
    if dates:
        transaction.on_commit(
            lambda: (health_score_dates(dates=dates[-1:], scorecards=[scorecard]), health_update_current())
        )
    return scorecard
