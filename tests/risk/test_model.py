import datetime as dt
import warnings

import numpy as np
import pandas as pd
import pytest

from tandem.risk.model import NotEnoughData, train_and_evaluate


def _data(n_dates: int = 10, accounts: int = 300, seed: int = 1):
    rng = np.random.default_rng(seed)
    rows, labels = [], []
    for d in range(n_dates):
        day = dt.date(2024, 1, 1) + dt.timedelta(days=30 * d)
        for a in range(accounts):
            usage, noise = rng.normal(), rng.normal()
            # Non-linear: churn when usage is low AND tickets are high.
            tickets = rng.normal()
            logit = -3 + 2.5 * (usage < -0.5) * (tickets > 0) + 0.8 * -usage
            rows.append((day, a, usage, tickets, noise, 60 + 15 * usage + rng.normal(0, 10)))
            labels.append((day, a, int(rng.random() < 1 / (1 + np.exp(-logit)))))
    features = pd.DataFrame(
        rows, columns=["as_of", "account_id", "usage", "tickets", "noise", "health_score"]
    ).set_index(["as_of", "account_id"])
    lab = pd.DataFrame(labels, columns=["as_of", "account_id", "label"]).set_index(["as_of", "account_id"])
    return features, lab


def test_model_beats_the_health_score_on_later_dates_and_explains():
    features, labels = _data()
    model = train_and_evaluate(features, labels, horizon_days=30)
    e = model.evaluation
    assert e.train_dates[1] < e.test_dates[0]  # time-based split
    assert e.model.roc_auc > e.health_score.roc_auc
    assert e.model.roc_auc >= e.logistic_regression.roc_auc - 0.02
    assert 0 < e.model.brier < 0.25
    probs = model.predict(features.iloc[:50])
    assert ((probs > 0) & (probs < 1)).all()
    x = pd.DataFrame({"usage": [-2.0], "tickets": [2.0], "noise": [0.0], "health_score": [30.0]})
    assert model.reasons(x)[0][0]["feature"] in {"usage", "tickets", "health_score"}


def test_one_class_or_tiny_data_is_a_clear_message():
    features, labels = _data(n_dates=6, accounts=60)
    labels["label"] = 0
    with pytest.raises(NotEnoughData, match="churned"):
        train_and_evaluate(features, labels, horizon_days=30)
    with pytest.raises(NotEnoughData, match="observations"):
        train_and_evaluate(features.iloc[:50], labels.iloc[:50], horizon_days=30)


def test_a_metric_without_any_value_does_not_break_training():
    """E.g. latest NPS on a company that never ran a survey: every value is missing."""
    features, labels = _data()
    features["latest_nps"] = np.nan
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # nothing printed on the user's terminal either
        model = train_and_evaluate(features, labels, horizon_days=30)
    assert "latest_nps" in model.features
    assert model.evaluation.model.roc_auc > 0.6
    probs = model.predict(features.iloc[:20])
    assert ((probs > 0) & (probs < 1)).all()
