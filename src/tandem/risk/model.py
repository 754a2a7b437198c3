"""The churn-risk model: gradient-boosted trees on metric snapshots, split by observation date.

Pure functions over pandas frames (no database access) so they can be tested on fixtures.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

MIN_OBSERVATIONS = 200
MIN_POSITIVES = 20


class NotEnoughData(ValueError):
    """Too little history, or only one class, to train or evaluate a model."""


@dataclass
class Scores:
    roc_auc: float | None
    pr_auc: float | None
    top_decile_lift: float | None
    brier: float | None


@dataclass
class Evaluation:
    horizon_days: int
    train_dates: tuple[str, str]
    test_dates: tuple[str, str]
    train_observations: int
    test_observations: int
    train_positives: int
    test_positives: int
    model: Scores
    health_score: Scores | None
    logistic_regression: Scores
    features: list[str] = field(default_factory=list)
    importances: list[tuple[str, float]] = field(default_factory=list)
    # ISO date the labels are observed through (tandem.health.outcomes.label_frame's attrs), if known.
    data_through: str | None = None

    def as_dict(self) -> dict:
        return dataclasses.asdict(self)


def _scores(y: np.ndarray, p: np.ndarray, groups: np.ndarray) -> Scores:
    from sklearn.metrics import average_precision_score, brier_score_loss, roc_auc_score

    from tandem.health.backtest import top_decile_lift

    if len(np.unique(y)) < 2:
        return Scores(None, None, None, float(brier_score_loss(y, p)) if len(y) else None)
    return Scores(
        roc_auc=float(roc_auc_score(y, p)),
        pr_auc=float(average_precision_score(y, p)),
        top_decile_lift=top_decile_lift(y, p, groups),
        brier=float(brier_score_loss(y, p)),
    )


@dataclass
class ChurnModel:
    """A fitted booster, its Platt calibration and what scoring needs to explain predictions."""

    features: list[str]
    booster: Any  # a fitted sklearn HistGradientBoostingClassifier (scikit-learn has no type information)
    calibrator: PlattCalibrator
    medians: dict[str, float]
    horizon_days: int
    evaluation: Evaluation | None = None
    version: str = ""

    def predict(self, x: pd.DataFrame) -> np.ndarray:
        raw = self.booster.predict_proba(x[self.features].to_numpy(dtype=float))[:, 1]
        return np.clip(self.calibrator.predict(raw), 0.0, 1.0)

    def reasons(self, x: pd.DataFrame, *, top: int = 3, labels: dict[str, str] | None = None) -> list[list[dict]]:
        """Per row, the features whose actual value raises the probability most compared with the
        typical (training-median) value: p(x) - p(x with that feature set to its median)."""
        base = self.predict(x)
        deltas = np.zeros((len(x), len(self.features)))
        for j, name in enumerate(self.features):
            changed = x[self.features].copy()
            changed[name] = self.medians.get(name, np.nan)
            deltas[:, j] = base - self.predict(changed)
        out: list[list[dict]] = []
        order = np.argsort(-deltas, axis=1)[:, :top]
        values = x[self.features].to_numpy(dtype=float)
        for i in range(len(x)):
            items = []
            for j in order[i]:
                if deltas[i, j] <= 0.005:
                    continue
                name = self.features[j]
                value = values[i, j]
                label = (labels or {}).get(name, name)
                items.append(
                    {
                        "feature": name,
                        "delta": round(float(deltas[i, j]), 4),
                        "value": None if np.isnan(value) else round(float(value), 3),
                        "typical": round(float(self.medians.get(name, np.nan)), 3),
                        "label": label,
                        # English, for logs and JSON output; pages render tandem.risk.reasons instead.
                        "text": f"{label}: {_fmt(value)} (typical {_fmt(self.medians.get(name, np.nan))}), "
                        f"+{deltas[i, j] * 100:.0f} pts",
                    }
                )
            out.append(items)
        return out


def _fmt(value: float) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return "—"
    return f"{value:,.2f}" if abs(value) < 100 else f"{value:,.0f}"


def time_split(
    labels: pd.DataFrame, *, horizon_days: int, test_share: float = 0.3
) -> tuple[pd.Index, pd.Index, pd.Timestamp]:
    """Train on earlier observation dates whose horizon ends before the first test date."""
    dates = sorted(set(labels.index.get_level_values("as_of")))
    if len(dates) < 4:
        raise NotEnoughData("Need metric snapshots on at least four dates whose horizon has passed.")
    cut = dates[int(len(dates) * (1 - test_share))]
    as_of = pd.to_datetime(pd.Series(labels.index.get_level_values("as_of")))
    cut_ts = pd.Timestamp(cut)
    train_mask = (as_of + pd.Timedelta(days=horizon_days) <= cut_ts).to_numpy()
    test_mask = (as_of >= cut_ts).to_numpy()
    return labels.index[train_mask], labels.index[test_mask], cut_ts


def _check(y: np.ndarray, what: str) -> None:
    if len(y) < MIN_OBSERVATIONS:
        raise NotEnoughData(f"The {what} set has {len(y)} observations; at least {MIN_OBSERVATIONS} are needed.")
    positives = int(y.sum())
    if positives < MIN_POSITIVES or positives == len(y):
        raise NotEnoughData(
            f"The {what} set has {positives} churned and {len(y) - positives} retained observations; "
            f"at least {MIN_POSITIVES} of each are needed (more history, or a longer horizon)."
        )


def _booster() -> Any:  # HistGradientBoostingClassifier
    from sklearn.ensemble import HistGradientBoostingClassifier

    return HistGradientBoostingClassifier(
        max_iter=150, learning_rate=0.06, max_leaf_nodes=15, min_samples_leaf=40, l2_regularization=1.0, random_state=0
    )


class PlattCalibrator:
    """Sigmoid (Platt) calibration on the booster's log-odds: smooth, never exactly 0 or 1."""

    def __init__(self) -> None:
        from sklearn.linear_model import LogisticRegression

        self.model = LogisticRegression(C=1.0)

    @staticmethod
    def _logit(p: np.ndarray) -> np.ndarray:
        p = np.clip(p, 1e-6, 1 - 1e-6)
        return np.log(p / (1 - p)).reshape(-1, 1)

    def fit(self, raw: np.ndarray, y: np.ndarray) -> PlattCalibrator:
        self.model.fit(self._logit(raw), y)
        return self

    def predict(self, raw: np.ndarray) -> np.ndarray:
        return self.model.predict_proba(self._logit(raw))[:, 1]


def _fit_calibrated(
    x: pd.DataFrame, y: np.ndarray, dates: np.ndarray, features: list[str]
) -> tuple[Any, PlattCalibrator]:
    """Fit the booster on the earlier 80% of dates and a Platt calibration on the rest."""
    order = sorted(set(dates))
    cut = order[int(len(order) * 0.8)] if len(order) >= 5 else order[-1]
    fit_mask = dates < cut
    if fit_mask.sum() < MIN_OBSERVATIONS or len(np.unique(y[fit_mask])) < 2 or len(np.unique(y[~fit_mask])) < 2:
        fit_mask = np.ones(len(y), dtype=bool)
    matrix = x.loc[fit_mask, features].to_numpy(dtype=float, copy=True)
    # A metric with no value at all in these rows (latest NPS on a company without surveys, or
    # before its first answer) cannot be binned: a constant column is the same information.
    matrix[:, np.isnan(matrix).all(axis=0)] = 0.0
    booster = _booster().fit(matrix, y[fit_mask])
    cal_mask = ~fit_mask if (~fit_mask).any() else fit_mask
    raw = booster.predict_proba(x.loc[cal_mask, features].to_numpy(dtype=float))[:, 1]
    calibrator = PlattCalibrator().fit(raw, y[cal_mask])
    return booster, calibrator


def train_and_evaluate(
    features: pd.DataFrame, labels: pd.DataFrame, *, horizon_days: int, health_column: str | None = "health_score"
) -> ChurnModel:
    """Time-split evaluation against the health score alone and a logistic regression, then the
    final model refitted on every labelled observation (what ``score`` uses)."""
    from threadpoolctl import threadpool_limits

    # One thread: on a shared 2-core box OpenMP's spinning threads cost far more than they win.
    with threadpool_limits(1):
        return _train_and_evaluate(features, labels, horizon_days=horizon_days, health_column=health_column)


def _train_and_evaluate(
    features: pd.DataFrame, labels: pd.DataFrame, *, horizon_days: int, health_column: str | None
) -> ChurnModel:
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    data = labels[["label"]].join(features, how="inner")
    names = [c for c in features.columns if c != "label"]
    y_all = data["label"].to_numpy(dtype=int)
    _check(y_all, "labelled")
    train_idx, test_idx, _cut = time_split(data, horizon_days=horizon_days)
    train, test = data.loc[train_idx], data.loc[test_idx]
    y_train, y_test = train["label"].to_numpy(dtype=int), test["label"].to_numpy(dtype=int)
    _check(y_train, "training")
    _check(y_test, "test")
    d_train = np.array(train.index.get_level_values("as_of"))
    d_test = np.array(test.index.get_level_values("as_of"))

    booster, calibrator = _fit_calibrated(train, y_train, d_train, names)
    medians = {
        n: float(np.nanmedian(train[n].to_numpy(dtype=float))) if train[n].notna().any() else float("nan")
        for n in names
    }
    model = ChurnModel(
        features=names, booster=booster, calibrator=calibrator, medians=medians, horizon_days=horizon_days
    )
    p_model = model.predict(test)

    # keep_empty_features: a metric nobody has a value for yet (NPS on a company without surveys)
    # stays a constant column instead of being dropped with a warning on the user's terminal.
    logit = make_pipeline(
        SimpleImputer(strategy="median", keep_empty_features=True),
        StandardScaler(),
        LogisticRegression(C=0.5, max_iter=2000),
    )
    logit.fit(train[names].to_numpy(dtype=float), y_train)
    p_logit = logit.predict_proba(test[names].to_numpy(dtype=float))[:, 1]

    health_scores = None
    if health_column and health_column in names:
        h = make_pipeline(SimpleImputer(strategy="median", keep_empty_features=True), LogisticRegression(max_iter=1000))
        h.fit(train[[health_column]].to_numpy(dtype=float), y_train)
        p_health = h.predict_proba(test[[health_column]].to_numpy(dtype=float))[:, 1]
        health_scores = _scores(y_test, p_health, d_test)

    # Which features the booster leans on: mean absolute per-feature delta (see reasons) on a sample.
    sample = test.sample(min(len(test), 500), random_state=0)
    base = model.predict(sample)
    importances = []
    for name in names:
        changed = sample.copy()
        changed[name] = medians.get(name, np.nan)
        importances.append((name, float(np.mean(np.abs(base - model.predict(changed))))))
    importances = sorted(importances, key=lambda kv: -kv[1])[:10]

    evaluation = Evaluation(
        horizon_days=horizon_days,
        train_dates=(str(min(d_train)), str(max(d_train))),
        test_dates=(str(min(d_test)), str(max(d_test))),
        train_observations=len(train),
        test_observations=len(test),
        train_positives=int(y_train.sum()),
        test_positives=int(y_test.sum()),
        model=_scores(y_test, p_model, d_test),
        health_score=health_scores,
        logistic_regression=_scores(y_test, p_logit, d_test),
        features=names,
        importances=[(n, round(v, 4)) for n, v in importances],
        data_through=labels.attrs.get("data_through"),
    )
    # Final model on all labelled history: later dates carry the most recent behaviour.
    d_all = np.array(data.index.get_level_values("as_of"))
    booster, calibrator = _fit_calibrated(data, y_all, d_all, names)
    medians = {
        n: float(np.nanmedian(data[n].to_numpy(dtype=float))) if data[n].notna().any() else float("nan") for n in names
    }
    return ChurnModel(
        features=names,
        booster=booster,
        calibrator=calibrator,
        medians=medians,
        horizon_days=horizon_days,
        evaluation=evaluation,
    )
