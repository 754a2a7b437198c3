"""Writes of the health domain: default scorecards, scoring snapshots, current scores, backtests."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from tandem.audit.context import write_service
from tandem.core import bulk
from tandem.core.errors import DomainError, FieldError
from tandem.core.services import model_validate
from tandem.health import backtest as bt
from tandem.health.models import (
    AccountHealth,
    HealthScoreCurrent,
    MissingPolicy,
    Scorecard,
    ScorecardMeasure,
    ScoringMethod,
)
from tandem.health.outcomes import Outcomes, account_outcomes, label_frame
from tandem.health.scoring import MeasureSpec, ScorecardSpec, ScoreResult, reasons, score_snapshot
from tandem.metrics import store
from tandem.metrics.models import MetricDefinition
from tandem.metrics.selectors import metric_history_frame, metric_snapshot_dates
from tandem.timeline import events
from tandem.timeline.models import EventKind

if TYPE_CHECKING:
    from tandem.users.models import User

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


@write_service
def scorecards_install_defaults(*, acting_user: User | None) -> list[Scorecard]:
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


def _score_day(
    day: dt.date, cards: list[ScorecardSpec], segments: pd.Series
) -> tuple[pd.DataFrame, dict[int, ScoreResult]]:
    """The metric frame of ``day`` (only the metrics the cards use) and each card's scores on it."""
    keys = sorted({m.metric for c in cards for m in c.measures})
    frame = metric_history_frame(dates=[day], keys=keys)
    if frame.empty:
        return frame, {}
    frame = frame.droplevel("as_of")
    return frame, {card.id: score_snapshot(frame, card, segments) for card in cards if card.id is not None}


def _store_scores(day: dt.date, results: dict[int, ScoreResult], *, replace_all: bool) -> None:
    """Write the scores of ``day``; with ``replace_all`` False, other scorecards' stored scores are kept."""
    parts = [
        pa.table(
            {
                "scorecard_id": pa.array(np.full(len(r.score), card_id), pa.int64()),
                "account_id": pa.array(r.score.index.to_numpy(), pa.int64()),
                "score": pa.array(r.score.to_numpy(), pa.float64()),
                "band": pa.array(r.band.to_numpy(), pa.string()),
            }
        )
        for card_id, r in results.items()
    ]
    if not parts:
        return
    table = pa.concat_tables(parts)
    existing = store.snapshot_path(KIND, day)
    if existing.exists() and not replace_all:
        old = pq.read_table(existing)
        keep = pc.invert(pc.is_in(old.column("scorecard_id"), pa.array(list(results), pa.int64())))
        table = pa.concat_tables([old.filter(keep), table])
    store.write_snapshot(KIND, day, table)


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
    accounts = 0
    for day in dates:
        _frame, results = _score_day(day, cards, segments)
        _store_scores(day, results, replace_all=scorecards is None)
        accounts = max([accounts, *(len(r.score) for r in results.values())])
    return HealthRunResult(
        dates=len(dates), scorecards=len(cards), accounts=accounts, seconds=time.monotonic() - started
    )


def _stored_scores_before(day: dt.date, card_ids: list[int]) -> dict[int, pd.Series]:
    """Per scorecard, the stored scores (index account_id) of its latest scored date on or before ``day``.

    Reads snapshot files newest first and stops once every scorecard is found: usually one file.
    """
    found: dict[int, pd.Series] = {}
    for candidate in reversed([d for d in store.snapshot_dates(KIND) if d <= day]):
        missing = [c for c in card_ids if c not in found]
        if not missing:
            break
        table = store.read_snapshots(
            KIND,
            dates=[candidate],
            where="list_contains(?, scorecard_id)",
            params=[missing],
            columns="scorecard_id, account_id, score",
        )
        if table.num_rows == 0:
            continue
        df = table.to_pandas()
        for card_id, rows in df.groupby("scorecard_id"):
            found[int(card_id)] = rows.set_index("account_id")["score"]
    return found


def _changes(ids: np.ndarray, score: np.ndarray, before: pd.Series | None) -> list[float | None]:
    """Score minus the earlier score per account (rounded to 0.01); None where there was none."""
    if before is None:
        return [None] * len(ids)
    diff = np.round(score - before.reindex(ids).to_numpy(dtype=float), 2)
    return [None if v != v else v for v in diff.tolist()]  # v != v: NaN, stored as NULL


def _update_current(
    *, as_of: dt.date, cards: list[Scorecard], specs: dict[int, ScorecardSpec], results: dict[int, ScoreResult]
) -> int:
    """Replace HealthScoreCurrent and AccountHealth with the scores of ``as_of`` (``results``, per card)."""
    before_7 = _stored_scores_before(as_of - dt.timedelta(days=7), list(results))
    before_30 = _stored_scores_before(as_of - dt.timedelta(days=30), list(results))
    bands_before = dict(AccountHealth.objects.values_list("account_id", "band"))  # one query, for the timeline
    HealthScoreCurrent.objects.all().delete()
    AccountHealth.objects.all().delete()
    day = bulk.db_value(HealthScoreCurrent, "as_of", as_of)
    adapt_json = bulk.json_adapter()
    written = 0
    for card in cards:
        result = results.get(card.pk)
        if result is None or result.score.empty:
            continue
        ids = result.score.index.to_numpy()
        score = result.score.to_numpy(dtype=float)

        c7, c30 = _changes(ids, score, before_7.get(card.pk)), _changes(ids, score, before_30.get(card.pk))
        why = reasons(result, specs[card.pk])
        id_list, score_list, band_list = ids.tolist(), score.tolist(), result.band.tolist()
        written += bulk.executemany_rows(
            HealthScoreCurrent,
            ["account", "scorecard", "score", "band", "as_of", "change_7d", "change_30d", "reasons"],
            (
                (a, card.pk, sc, b, day, x7, x30, adapt_json(why.get(a, [])))
                for a, sc, b, x7, x30 in zip(id_list, score_list, band_list, c7, c30, strict=True)
            ),
        )
        if card.is_primary:
            bulk.executemany_rows(
                AccountHealth,
                ["account", "score", "band", "as_of", "change_7d", "change_30d"],
                zip(id_list, score_list, band_list, [day] * len(id_list), c7, c30, strict=True),
            )
            events.record_many(
                _band_changes(zip(id_list, score_list, band_list, strict=True), bands_before, when=_moment(as_of))
            )
    return written


def _moment(day: dt.date) -> dt.datetime:
    """When scores of ``day`` changed a band: now for today's run, early that day for an earlier one."""
    if day >= timezone.localdate():
        return timezone.now()
    return timezone.make_aware(dt.datetime.combine(day, dt.time(6)))


def _band_changes(
    scores: Iterable[tuple[int, float, str]], bands_before: Mapping[int, str], *, when: dt.datetime
) -> Iterator[events.Event]:
    """HEALTH_CHANGED for each (account, score, band) whose band is not its band before. An account
    without one before (a first score) has not changed band: it is not on the timeline."""
    for account_id, score, band in scores:
        before = bands_before.get(account_id)
        if before is not None and before != band:
            yield events.Event(
                account_id=account_id,
                kind=EventKind.HEALTH_CHANGED,
                occurred_at=when,
                data={"before": before, "after": band, "score": round(score, 1)},
            )


def health_band_history_record(*, dates: Sequence[dt.date]) -> int:
    """Timeline events for the band changes in the primary scorecard's stored scores of ``dates``
    (scored in bulk as history: the demo's past), each on the day of the score that changed it;
    the daily job records the changes from the current scores on. Returns how many were written."""
    primary = Scorecard.objects.filter(is_primary=True, is_active=True).values_list("pk", flat=True).first()
    if primary is None or not dates:
        return 0
    table = store.read_snapshots(
        KIND, dates=list(dates), where="scorecard_id = ?", params=[primary], columns="as_of, account_id, score, band"
    )
    if table.num_rows == 0:
        return 0
    df = table.to_pandas().sort_values(["account_id", "as_of"])
    previous = df.groupby("account_id")["band"].shift()
    changed = df[previous.notna() & (previous != df["band"])].assign(before=previous)
    return events.record_many(
        events.Event(
            account_id=int(row.account_id),
            kind=EventKind.HEALTH_CHANGED,
            occurred_at=_moment(row.as_of),
            data={"before": row.before, "after": row.band, "score": round(float(row.score), 1)},
        )
        for row in changed.itertuples(index=False)
    )


@transaction.atomic
def health_update_current(*, as_of: dt.date | None = None) -> int:
    """Refresh HealthScoreCurrent and AccountHealth from the stored scores at ``as_of`` (latest by default).

    Scores and bands are the stored ones; the reasons come from scoring the metrics of ``as_of``.
    """
    dates = store.snapshot_dates(KIND)
    if as_of is None:
        if not dates:
            return 0
        as_of = dates[-1]
    cards = list(Scorecard.objects.filter(is_active=True))
    specs = {c.pk: scorecard_spec(c) for c in cards}
    stored = store.read_snapshots(KIND, dates=[as_of], columns="scorecard_id, account_id, score, band")
    if stored.num_rows == 0:
        return 0
    stored_df = stored.to_pandas()
    _frame, fresh = _score_day(as_of, list(specs.values()), account_segments())
    results: dict[int, ScoreResult] = {}
    for card_id, rows in stored_df.groupby("scorecard_id"):
        if int(card_id) not in specs:
            continue
        rows = rows.set_index("account_id")
        recomputed = fresh.get(int(card_id))
        measure_scores = pd.DataFrame(index=rows.index)
        values = pd.DataFrame(index=rows.index)
        if recomputed is not None:
            measure_scores = recomputed.measure_scores.reindex(rows.index)
            values = recomputed.values.reindex(rows.index)
        results[int(card_id)] = ScoreResult(
            score=rows["score"], band=rows["band"], measure_scores=measure_scores, values=values
        )
    return _update_current(as_of=as_of, cards=cards, specs=specs, results=results)


@transaction.atomic
def health_refresh(*, today: dt.date | None = None) -> HealthRunResult:
    """Daily job: score today's metric snapshot, store the scores and refresh the current ones
    (after metrics_refresh). Each scorecard is scored once; the same scores feed history and current."""
    started = time.monotonic()
    today = today or timezone.localdate()
    cards = list(Scorecard.objects.filter(is_active=True))
    specs = {c.pk: scorecard_spec(c) for c in cards}
    if today not in set(metric_snapshot_dates()):
        return HealthRunResult(dates=0, scorecards=len(cards), accounts=0, seconds=time.monotonic() - started)
    _frame, results = _score_day(today, list(specs.values()), account_segments())
    _store_scores(today, results, replace_all=True)
    _update_current(as_of=today, cards=cards, specs=specs, results=results)
    accounts = max([0, *(len(r.score) for r in results.values())])
    return HealthRunResult(dates=1, scorecards=len(cards), accounts=accounts, seconds=time.monotonic() - started)


def _history_and_labels(
    *, horizon_days: int, include_contraction: bool, today: dt.date, keys: list[str], through: dt.date | None
) -> tuple[pd.DataFrame, pd.DataFrame, Outcomes]:
    history = metric_history_frame(keys=keys or None)
    if history.empty:
        raise DomainError(
            "No metric history.", [FieldError("metrics", "run `tandem metrics compute --from ... --to ...` first")]
        )
    outcomes = account_outcomes(today=today, through=through)
    labels = label_frame(history.index, outcomes, horizon_days=horizon_days, include_contraction=include_contraction)
    return history, labels, outcomes


def health_backtest(
    *,
    scorecard: Scorecard | ScorecardSpec,
    horizon_days: int = 90,
    today: dt.date | None = None,
    data_through: dt.date | None = None,
    with_suggestion: bool = False,
) -> dict[str, Any]:
    """Backtest a scorecard (saved, or an unsaved edit as a spec) over the stored metric history.

    Only observations whose horizon ends by ``data_through`` are labelled (default: derived from
    the subscription history, ``tandem.health.outcomes.data_through``)."""
    spec = scorecard if isinstance(scorecard, ScorecardSpec) else scorecard_spec(scorecard)
    today = today or timezone.localdate()
    history, labels, outcomes = _history_and_labels(
        horizon_days=horizon_days,
        include_contraction=True,
        today=today,
        keys=[m.metric for m in spec.measures],
        through=data_through,
    )
    segments = account_segments()
    report = bt.backtest(history, labels, spec, segments, horizon_days=horizon_days)
    report.data_through = outcomes.data_end.isoformat()
    report.data_through_given = outcomes.data_end_given
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


@write_service
def scorecard_update(*, acting_user: User | None, scorecard: Scorecard, spec: ScorecardSpec) -> Scorecard:
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


@write_service
def scorecard_create(
    *,
    acting_user: User | None,
    name: str,
    description: str = "",
    segment: str = "",
    is_primary: bool = False,
    good_threshold: float = 65.0,
    poor_threshold: float = 40.0,
    missing_policy: str = MissingPolicy.NEUTRAL,
) -> Scorecard:
    """A new, empty scorecard; measures are added with :func:`scorecard_measure_add`.

    Made primary, it takes over from the previous primary one (there is one health score per account)."""
    card = Scorecard(
        name=name.strip(),
        description=description,
        segment=segment,
        is_primary=is_primary,
        good_threshold=good_threshold,
        poor_threshold=poor_threshold,
        missing_policy=missing_policy,
    )
    if poor_threshold > good_threshold:
        raise DomainError(
            _("The scorecard has errors."),
            [FieldError("poor_threshold", _("Thresholds must satisfy 0 ≤ poor ≤ good ≤ 100."))],
        )
    if is_primary:  # before validating: one primary scorecard at a time (a refusal below rolls this back)
        for previous in Scorecard.objects.select_for_update().filter(is_primary=True):
            previous.is_primary = False
            previous.save(update_fields=["is_primary", "updated_at"])
    model_validate(card, message=_("The scorecard has errors."))
    card.save()
    return card


@write_service
def scorecard_measure_add(
    *,
    acting_user: User | None,
    scorecard: Scorecard,
    metric: MetricDefinition,
    group: str = "",
    weight: float = 1.0,
    method: str = ScoringMethod.PERCENTILE,
    poor_value: float | None = None,
    good_value: float | None = None,
) -> ScorecardMeasure:
    """Add a metric to a scorecard; it counts from the next scoring (the daily run, or a save)."""
    errors: list[FieldError] = []
    if scorecard.measures.filter(metric=metric).exists():
        errors.append(FieldError("metric", _("This metric is already on the scorecard.")))
    if method == ScoringMethod.THRESHOLDS:
        for field_name, value in (("poor_value", poor_value), ("good_value", good_value)):
            if value is None:
                errors.append(FieldError(field_name, _("Thresholds scoring needs a poor and a good value.")))
        if poor_value is not None and good_value is not None and poor_value == good_value:
            errors.append(FieldError("good_value", _("The good value must differ from the poor value.")))
    if errors:
        raise DomainError(_("The measure has errors."), errors)
    measure = ScorecardMeasure(
        scorecard=scorecard,
        metric=metric,
        group=group.strip(),
        weight=weight,
        method=method,
        poor_value=poor_value,
        good_value=good_value,
    )
    model_validate(measure, message=_("The measure has errors."))
    measure.save()
    scorecard.save(update_fields=["updated_at"])  # the scorecard's version changes with its measures
    return measure


@write_service
def scorecard_measure_remove(*, acting_user: User | None, measure: ScorecardMeasure) -> None:
    """Take a metric off its scorecard; stored scores keep what it contributed until then."""
    card = measure.scorecard
    others = card.measures.exclude(pk=measure.pk)
    if not others.filter(weight__gt=0).exists():
        raise DomainError(
            _("A scorecard needs at least one measure with a positive weight: add another before removing this one."),
            [FieldError("measure", _("This is the scorecard's last weighted measure."))],
        )
    measure.delete()
    card.save(update_fields=["updated_at"])
