"""Scoring a scorecard over a metric snapshot (pure pandas/numpy: no database access)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

NEUTRAL = 50.0


@dataclass(frozen=True)
class MeasureSpec:
    metric: str
    name: str
    weight: float = 1.0
    method: str = "percentile"  # or "thresholds"
    poor_value: float | None = None
    good_value: float | None = None
    higher_is_better: bool = True
    group: str = ""


@dataclass(frozen=True)
class ScorecardSpec:
    name: str
    measures: tuple[MeasureSpec, ...]
    segment: str = ""
    missing_policy: str = "neutral"
    good_threshold: float = 65.0
    poor_threshold: float = 40.0
    id: int | None = None


@dataclass
class ScoreResult:
    score: pd.Series  # index account_id, 0-100
    band: pd.Series
    measure_scores: pd.DataFrame  # account_id x metric, 0-100, NaN where missing
    values: pd.DataFrame = field(default_factory=pd.DataFrame)


def measure_score(values: pd.Series, measure: MeasureSpec, segments: pd.Series | None) -> pd.Series:
    """0-100 for one measure; NaN where the metric is missing."""
    if measure.method == "thresholds" and measure.poor_value is not None and measure.good_value is not None:
        span = measure.good_value - measure.poor_value
        if span == 0:
            return pd.Series(
                np.where(values.isna(), np.nan, np.where(values >= measure.good_value, 100.0, 0.0)), index=values.index
            )
        return ((values - measure.poor_value) / span).clip(0.0, 1.0) * 100.0
    # Percentile within the segment (tier): the share of peers with a lower value, ties averaged.
    if segments is not None:
        pct = values.groupby(segments.reindex(values.index).fillna("")).rank(pct=True, method="average")
    else:
        pct = values.rank(pct=True, method="average")
    score = pct * 100.0
    if not measure.higher_is_better:
        score = 100.0 - score + (100.0 / max(values.notna().sum(), 1))
    return score.clip(0.0, 100.0)


def score_snapshot(frame: pd.DataFrame, card: ScorecardSpec, segments: pd.Series | None = None) -> ScoreResult:
    """Score every account of ``frame`` (index account_id, a column per metric) on ``card``."""
    if card.segment and segments is not None:
        frame = frame.loc[segments.reindex(frame.index) == card.segment]
    scores = {}
    for m in card.measures:
        column = frame[m.metric] if m.metric in frame.columns else pd.Series(np.nan, index=frame.index)
        scores[m.metric] = measure_score(column.astype(float), m, segments)
    measure_scores = pd.DataFrame(scores, index=frame.index)
    weights = np.array([m.weight for m in card.measures], dtype=float)
    matrix = measure_scores.to_numpy(dtype=float) if card.measures else np.zeros((len(frame), 0))
    missing = np.isnan(matrix)
    if card.missing_policy == "skip":
        w = np.where(missing, 0.0, weights)
        filled = np.where(missing, 0.0, matrix)
        total = w.sum(axis=1)
        overall = np.where(total > 0, (filled * w).sum(axis=1) / np.where(total > 0, total, 1.0), NEUTRAL)
    else:
        fill = 0.0 if card.missing_policy == "worst" else NEUTRAL
        filled = np.where(missing, fill, matrix)
        overall = (filled * weights).sum(axis=1) / weights.sum() if weights.sum() > 0 else np.full(len(frame), NEUTRAL)
    score = pd.Series(overall, index=frame.index).round(2)
    band = pd.Series(
        np.where(score >= card.good_threshold, "good", np.where(score < card.poor_threshold, "poor", "neutral")),
        index=frame.index,
    )
    values = frame.reindex(columns=[m.metric for m in card.measures])
    return ScoreResult(score=score, band=band, measure_scores=measure_scores, values=values)


def reasons(result: ScoreResult, card: ScorecardSpec, *, top: int = 3) -> dict[int, list[dict]]:
    """Per account, the measures that pull the score down most: weight x (100 - measure score)."""
    if not card.measures or result.measure_scores.empty:
        return {}
    matrix = result.measure_scores.to_numpy(dtype=float)
    weights = np.array([m.weight for m in card.measures], dtype=float)
    total = weights.sum() or 1.0
    filled = np.where(np.isnan(matrix), NEUTRAL, matrix)
    pull = weights * (100.0 - filled) / total
    order = np.argsort(-pull, axis=1)[:, :top]
    rows = np.arange(len(order))[:, None]
    top_pull = pull[rows, order]
    top_score = filled[rows, order]
    top_value = result.values.to_numpy(dtype=float)[rows, order]
    keep = (top_score < NEUTRAL) & (top_pull > 0)
    # Plain Python values from here: building ~300,000 small dicts from numpy scalars is the slow part.
    names = [(m.metric, m.name) for m in card.measures]
    out: dict[int, list[dict]] = {}
    for account_id, cols, pulls, scores, values, flags in zip(
        result.measure_scores.index.tolist(),
        order.tolist(),
        np.round(top_pull, 1).tolist(),
        np.round(top_score, 1).tolist(),
        np.round(top_value, 3).tolist(),
        keep.tolist(),
        strict=True,
    ):
        out[int(account_id)] = [
            {
                "metric": names[col][0],
                "name": names[col][1],
                "score": score,
                "value": None if value != value else value,  # NaN: missing
                "points": points,
            }
            for col, points, score, value, flag in zip(cols, pulls, scores, values, flags, strict=True)
            if flag
        ]
    return out
