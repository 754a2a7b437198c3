# ruff: noqa: RUF002, RUF003 - mathematical notation (α, β, ×, −) is intended
"""The sBG model against Fader & Hardie (2007), "How to Project Customer Retention".

The paper's two data sets (survivors of 1,000 customers over 7 years) and its published maximum-
likelihood estimates: regular α = 0.704, β = 1.182; high end α = 0.668, β = 3.806. (Years 8-12
of the same data, published for validation, are 223, 207, 194, 183, 173 and 468, 445, 427, 409,
394; the model's projections are within a few customers of them.)
"""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from tandem.cli.app import app
from tandem.revenue.sbg import FitError, fit_sbg

REGULAR = [1000, 631, 468, 382, 326, 289, 262, 241]
HIGH_END = [1000, 869, 743, 653, 593, 551, 517, 491]
REGULAR_LATER = [223, 207, 194, 183, 173]
HIGH_END_LATER = [468, 445, 427, 409, 394]


@pytest.mark.parametrize(
    ("survivors", "alpha", "beta", "later"),
    [(REGULAR, 0.704, 1.182, REGULAR_LATER), (HIGH_END, 0.668, 3.806, HIGH_END_LATER)],
)
def test_fit_reproduces_the_papers_estimates(survivors, alpha, beta, later):
    fit = fit_sbg([survivors])

    assert round(fit.alpha, 3) == alpha
    assert round(fit.beta, 3) == beta
    assert not fit.homogeneous
    projected = [1000 * fit.survival(t) for t in range(8, 13)]
    assert all(abs(p - actual) <= 25 for p, actual in zip(projected, later, strict=True))
    # The fitted curve follows the observed one closely over the calibration years.
    assert all(abs(1000 * fit.survival(t) - n) < 20 for t, n in enumerate(survivors))


def test_survival_and_retention_rate_agree():
    fit = fit_sbg([HIGH_END])
    for t in range(1, 10):
        assert fit.survival(t) == pytest.approx(fit.survival(t - 1) * fit.retention_rate(t))


def test_derl_equals_the_discounted_sum_of_future_survival():
    fit = fit_sbg([HIGH_END])
    d, n = 0.10, 7
    # Payments at each renewal; the next one is decided now, so it is not discounted.
    direct = sum(fit.survival(t) / fit.survival(n) / (1 + d) ** (t - n - 1) for t in range(n + 1, 3000))
    assert fit.derl(discount_rate=d, renewals=n) == pytest.approx(direct, rel=1e-9)
    assert fit.del_(discount_rate=d) == pytest.approx(
        sum(fit.survival(t) / (1 + d) ** t for t in range(0, 3000)), rel=1e-9
    )


def test_pooling_two_copies_of_a_cohort_gives_the_same_estimates():
    one, two = fit_sbg([REGULAR]), fit_sbg([REGULAR, REGULAR])
    assert two.alpha == pytest.approx(one.alpha, rel=1e-4) and two.beta == pytest.approx(one.beta, rel=1e-4)
    assert two.customers == 2000


def test_constant_churn_is_the_geometric_limit():
    fit = fit_sbg([[10000, 8000, 6400, 5120, 4096]])
    assert fit.homogeneous
    assert fit.mean_churn_probability == pytest.approx(0.2, abs=1e-4)


@pytest.mark.parametrize("counts", [[1000], [1000, 1100, 900], [1000, 600]])
def test_unfittable_counts_are_refused(counts):
    with pytest.raises(FitError):
        fit_sbg([counts])


def test_cli_retention_fit_json():
    result = CliRunner().invoke(
        app, ["retention", "fit", "--survivors", ",".join(map(str, HIGH_END)), "--periods", "5", "--json"]
    )
    assert result.exit_code == 0, result.output
    payload = json.loads(result.output)
    assert round(payload["alpha"], 3) == 0.668 and round(payload["beta"], 3) == 3.806
    assert [round(p["survivors"]) for p in payload["projection"]] == [460, 436, 414, 395, 378]
    assert payload["derl"] == pytest.approx(7.5296, abs=1e-4)


def test_cli_retention_fit_rejects_bad_counts():
    result = CliRunner().invoke(app, ["retention", "fit", "--survivors", "1000,abc"])
    assert result.exit_code == 2
