"""Backtesting a scorecard: replay it over metric history and check how it ranked later churners.

For every snapshot date D whose horizon is observed (D + horizon <= the data-through date, see
tandem.health.outcomes) and every account that was a customer on D, the scorecard is scored on the
metrics as of D (nothing later) and the account is labelled 1 when it churned or contracted in
(D, D + horizon]. Scores of all dates are pooled; AUC is computed with ``100 - score`` as the risk
(AUC > 0.5: low scores precede churn).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from django.utils.translation import gettext as _

from tandem.health.scoring import MeasureSpec, ScorecardSpec, score_snapshot


@dataclass
class CalibrationRow:
    low: float
    high: float
    n: int
    positives: int
    rate: float


@dataclass
class MeasurePower:
    metric: str
    name: str
    weight: float
    auc: float | None


@dataclass
class BacktestReport:
    scorecard: str
    horizon_days: int
    observations: int
    positives: int
    dates: int
    base_rate: float
    auc: float | None
    top_decile_lift: float | None
    calibration: list[CalibrationRow]
    measures: list[MeasurePower]
    roc: list[tuple[float, float]] = field(default_factory=list)
    message: str = ""
    data_through: str | None = None  # ISO date the labels are observed through (see health.outcomes)
    data_through_given: bool = False  # given (--as-of) rather than derived from the data

    def as_dict(self) -> dict:
        return dataclasses.asdict(self)


def auc(labels: np.ndarray, risk: np.ndarray) -> float | None:
    """ROC AUC, or None when only one class is present."""
    from sklearn.metrics import roc_auc_score

    mask = ~np.isnan(risk)
    labels, risk = labels[mask], risk[mask]
    if len(np.unique(labels)) < 2:
        return None
    return float(roc_auc_score(labels, risk))


def top_decile_lift(labels: np.ndarray, risk: np.ndarray, groups: np.ndarray | None = None) -> float | None:
    """Positive rate among the riskiest 10% (per date when ``groups`` is given) over the base rate."""
    base = labels.mean() if len(labels) else 0.0
    if base == 0:
        return None
    df = pd.DataFrame({"y": labels, "r": risk, "g": groups if groups is not None else 0})
    pct = df.groupby("g")["r"].rank(pct=True, method="first", ascending=False)
    top = df.loc[pct <= 0.1, "y"]
    return float(top.mean() / base) if len(top) else None


def scored_history(history: pd.DataFrame, card: ScorecardSpec, segments: pd.Series) -> tuple[pd.Series, pd.DataFrame]:
    """Scores and measure scores of every (as_of, account_id) in ``history``."""
    scores, measures = [], []
    for as_of, frame in history.groupby(level="as_of", sort=True):
        result = score_snapshot(frame.droplevel("as_of"), card, segments)
        scores.append(pd.concat({as_of: result.score}, names=["as_of", "account_id"]))
        measures.append(pd.concat({as_of: result.measure_scores}, names=["as_of", "account_id"]))
    if not scores:
        return pd.Series(dtype=float), pd.DataFrame()
    return pd.concat(scores), pd.concat(measures)


def backtest(
    history: pd.DataFrame, labels: pd.DataFrame, card: ScorecardSpec, segments: pd.Series, *, horizon_days: int
) -> BacktestReport:
    scores, measure_scores = scored_history(history, card, segments)
    joined = labels.join(scores.rename("score"), how="inner")
    y = joined["label"].to_numpy(dtype=int)
    risk = 100.0 - joined["score"].to_numpy(dtype=float)
    positives = int(y.sum())
    report = BacktestReport(
        scorecard=card.name,
        horizon_days=horizon_days,
        observations=len(joined),
        positives=positives,
        dates=int(joined.index.get_level_values("as_of").nunique()) if len(joined) else 0,
        base_rate=float(y.mean()) if len(y) else 0.0,
        auc=None,
        top_decile_lift=None,
        calibration=[],
        measures=[],
    )
    if len(joined) == 0 or positives == 0 or positives == len(joined):
        report.message = _(
            "Not enough history: the backtest needs snapshots whose horizon has passed, with both "
            "accounts that churned or contracted and accounts that did not."
        )
        return report
    report.auc = auc(y, risk)
    report.top_decile_lift = top_decile_lift(y, risk, joined.index.get_level_values("as_of").to_numpy())
    edges = np.arange(0, 101, 10)
    bins = np.clip(np.digitize(joined["score"].to_numpy(), edges[1:-1]), 0, 9)
    for b in range(10):
        mask = bins == b
        n = int(mask.sum())
        if n:
            report.calibration.append(
                CalibrationRow(
                    low=float(edges[b]),
                    high=float(edges[b + 1]),
                    n=n,
                    positives=int(y[mask].sum()),
                    rate=float(y[mask].mean()),
                )
            )
    ms = labels.join(measure_scores, how="inner")
    for m in card.measures:
        if m.metric in ms.columns:
            report.measures.append(
                MeasurePower(
                    metric=m.metric,
                    name=m.name,
                    weight=m.weight,
                    auc=auc(ms["label"].to_numpy(dtype=int), 100.0 - ms[m.metric].to_numpy(dtype=float)),
                )
            )
    from sklearn.metrics import roc_curve

    fpr, tpr, _thresholds = roc_curve(y, risk)
    step = max(1, len(fpr) // 60)
    report.roc = [(float(a), float(b)) for a, b in zip(fpr[::step], tpr[::step], strict=True)] + [(1.0, 1.0)]
    return report


@dataclass
class WeightSuggestion:
    metric: str
    name: str
    current: float
    suggested: float


@dataclass
class SuggestReport:
    weights: list[WeightSuggestion]
    train_dates: int
    test_dates: int
    current_test: BacktestReport
    suggested_test: BacktestReport
    message: str = ""


def suggest_weights(
    history: pd.DataFrame, labels: pd.DataFrame, card: ScorecardSpec, segments: pd.Series, *, horizon_days: int
) -> SuggestReport | None:
    """Fit an L2 logistic regression of the label on measure scores over the earlier 70% of dates,
    turn the (protective) coefficients into weights, and backtest both weight sets on the later 30%."""
    from sklearn.linear_model import LogisticRegression

    dates = sorted(set(labels.index.get_level_values("as_of")))
    if len(dates) < 4 or not card.measures:
        return None
    cut = dates[int(len(dates) * 0.7)]
    _scores, measure_scores = scored_history(history, card, segments)
    data = labels.join(measure_scores, how="inner")
    train = data.loc[data.index.get_level_values("as_of") < cut]
    if train["label"].nunique() < 2:
        return None
    cols = [m.metric for m in card.measures]
    x = train[cols].fillna(50.0).to_numpy() / 100.0
    model = LogisticRegression(C=1.0, max_iter=1000)
    model.fit(x, train["label"].to_numpy())
    protective = np.clip(-model.coef_[0], 0.0, None)
    total_current = sum(m.weight for m in card.measures) or 1.0
    if protective.sum() == 0:
        protective = np.ones(len(cols))
    suggested = protective / protective.sum() * total_current
    new_card = dataclasses.replace(
        card,
        measures=tuple(
            dataclasses.replace(m, weight=round(float(w), 2)) for m, w in zip(card.measures, suggested, strict=True)
        ),
    )
    test_mask_hist = history.index.get_level_values("as_of") >= cut
    test_labels = labels.loc[labels.index.get_level_values("as_of") >= cut]
    current_test = backtest(history.loc[test_mask_hist], test_labels, card, segments, horizon_days=horizon_days)
    suggested_test = backtest(history.loc[test_mask_hist], test_labels, new_card, segments, horizon_days=horizon_days)
    return SuggestReport(
        weights=[
            WeightSuggestion(metric=m.metric, name=m.name, current=m.weight, suggested=n.weight)
            for m, n in zip(card.measures, new_card.measures, strict=True)
        ],
        train_dates=sum(1 for d in dates if d < cut),
        test_dates=sum(1 for d in dates if d >= cut),
        current_test=current_test,
        suggested_test=suggested_test,
    )


def measure_specs_from(card: ScorecardSpec) -> list[MeasureSpec]:
    return list(card.measures)
