import datetime as dt

import numpy as np
import pandas as pd
import pytest

from tandem.health.backtest import backtest, suggest_weights
from tandem.health.outcomes import Outcomes, label_frame
from tandem.health.scoring import MeasureSpec, ScorecardSpec, reasons, score_snapshot

CARD = ScorecardSpec(
    name="t",
    measures=(
        MeasureSpec(metric="usage", name="Usage", weight=3, method="percentile"),
        MeasureSpec(metric="tickets", name="Tickets", weight=1, method="thresholds", poor_value=4, good_value=0),
    ),
)


def test_thresholds_percentiles_bands_and_reasons():
    frame = pd.DataFrame({"usage": [1.0, 2.0, 3.0, 4.0], "tickets": [0.0, 2.0, 4.0, np.nan]}, index=[10, 11, 12, 13])
    result = score_snapshot(frame, CARD)
    # usage percentiles 25/50/75/100; tickets 100/50/0/missing (neutral 50)
    assert result.measure_scores["usage"].tolist() == [25.0, 50.0, 75.0, 100.0]
    assert result.measure_scores["tickets"].tolist()[:3] == [100.0, 50.0, 0.0]
    assert result.score.tolist() == [43.75, 50.0, 56.25, 87.5]
    assert result.band.tolist() == ["neutral", "neutral", "neutral", "good"]
    why = reasons(result, CARD)
    assert [r["metric"] for r in why[10]] == ["usage"]
    assert why[12][0]["metric"] == "tickets"


def test_missing_policies():
    frame = pd.DataFrame({"usage": [np.nan], "tickets": [0.0]}, index=[1])
    assert score_snapshot(frame, CARD).score.iloc[0] == 62.5  # neutral: (3*50 + 100) / 4
    skip = ScorecardSpec(name="s", measures=CARD.measures, missing_policy="skip")
    assert score_snapshot(frame, skip).score.iloc[0] == 100.0
    worst = ScorecardSpec(name="w", measures=CARD.measures, missing_policy="worst")
    assert score_snapshot(frame, worst).score.iloc[0] == 25.0


def test_labels_count_only_churn_inside_the_horizon():
    index = pd.MultiIndex.from_tuples(
        [(dt.date(2025, 1, 1), 1), (dt.date(2025, 1, 1), 2), (dt.date(2025, 1, 1), 3), (dt.date(2025, 6, 1), 1)],
        names=["as_of", "account_id"],
    )
    outcomes = Outcomes(
        churn_on={1: dt.date(2025, 3, 1), 2: dt.date(2025, 6, 1)},
        contractions={3: [dt.date(2025, 2, 1)]},
        data_end=dt.date(2025, 7, 1),
    )
    labels = label_frame(index, outcomes, horizon_days=90, include_contraction=True)
    assert labels["label"].to_dict() == {
        (dt.date(2025, 1, 1), 1): 1,
        (dt.date(2025, 1, 1), 2): 0,
        (dt.date(2025, 1, 1), 3): 1,
    }
    churn_only = label_frame(index, outcomes, horizon_days=90, include_contraction=False)
    assert churn_only.loc[(dt.date(2025, 1, 1), 3), "label"] == 0


def _synthetic(seed: int = 0):
    rng = np.random.default_rng(seed)
    rows, labels = [], []
    for d in range(8):
        day = dt.date(2024, 1, 1) + dt.timedelta(days=30 * d)
        for a in range(200):
            health = rng.normal()
            rows.append((day, a, health + rng.normal(0, 0.3), rng.normal()))
            labels.append((day, a, int(rng.random() < 1 / (1 + np.exp(2 + 2 * health)))))
    history = pd.DataFrame(rows, columns=["as_of", "account_id", "usage", "tickets"]).set_index(["as_of", "account_id"])
    lab = pd.DataFrame(labels, columns=["as_of", "account_id", "label"]).set_index(["as_of", "account_id"])
    return history, lab


def test_backtest_finds_signal_and_suggest_weights_drops_noise():
    history, labels = _synthetic()
    card = ScorecardSpec(
        name="t",
        measures=(
            MeasureSpec(metric="usage", name="Usage", weight=1),
            MeasureSpec(metric="tickets", name="Noise", weight=1),
        ),
    )
    report = backtest(history, labels, card, pd.Series(dtype=object), horizon_days=90)
    assert report.auc > 0.7
    assert report.top_decile_lift > 2
    by_metric = {m.metric: m.auc for m in report.measures}
    assert by_metric["usage"] > 0.75 and abs(by_metric["tickets"] - 0.5) < 0.1
    assert sum(r.n for r in report.calibration) == report.observations
    suggestion = suggest_weights(history, labels, card, pd.Series(dtype=object), horizon_days=90)
    weights = {w.metric: w.suggested for w in suggestion.weights}
    assert weights["usage"] > 3 * weights["tickets"]
    assert suggestion.suggested_test.auc > suggestion.current_test.auc


def test_backtest_with_one_class_explains_instead_of_crashing():
    history, labels = _synthetic()
    labels["label"] = 0
    report = backtest(history, labels, CARD, pd.Series(dtype=object), horizon_days=90)
    assert report.auc is None and "Not enough history" in report.message


@pytest.mark.parametrize("segment, expected", [("smb", [1, 2]), ("", [1, 2, 3])])
def test_segment_scorecards_score_only_their_segment(segment, expected):
    frame = pd.DataFrame({"usage": [1.0, 2.0, 3.0], "tickets": [0.0, 0.0, 0.0]}, index=[1, 2, 3])
    segments = pd.Series({1: "smb", 2: "smb", 3: "enterprise"})
    card = ScorecardSpec(name="s", measures=CARD.measures, segment=segment)
    assert score_snapshot(frame, card, segments).score.index.tolist() == expected
