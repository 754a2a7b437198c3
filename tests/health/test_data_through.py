"""Churn labels are bounded by the date the data reaches, not by today (issue 10).

The company below imported a billing export that ends on 2025-06-30 (the latest term start) and is
analysed on 2025-12-01: terms that end after the export have no renewal in the data, yet they are
not churn.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from decimal import Decimal

import pandas as pd
import pytest
from django.test import Client
from typer.testing import CliRunner

from tandem.accounts.models import Account
from tandem.cli.app import app
from tandem.health.models import Scorecard
from tandem.health.outcomes import account_outcomes, data_through, label_frame, observed_through
from tandem.health.services import health_backtest, health_score_dates, scorecards_install_defaults
from tandem.metrics import store
from tandem.metrics.services import metrics_compute, metrics_install_defaults
from tandem.risk.model import train_and_evaluate
from tandem.usage.eventstore import EventStore
from tests.computations import finish
from tests.factories import AccountFactory, SubscriptionFactory, SubscriptionItemFactory, UserFactory
from tests.risk.test_model import _data

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.audit_via("fixture"),  # services called directly: the test is their interface
]
TODAY = dt.date(2025, 12, 1)
EXPORT_END = dt.date(2025, 6, 30)
EARLY, LATE = dt.date(2025, 1, 15), dt.date(2025, 5, 15)  # snapshot dates; LATE + 90d is after the export


def _term(account: Account, start: dt.date, end: dt.date | None) -> None:
    sub = SubscriptionFactory(account=account, start_date=start, end_date=end, renewal_date=None)
    SubscriptionItemFactory(subscription=sub, quantity=Decimal(10))


@pytest.fixture
def export() -> dict[str, int]:
    """Account ids by role: a real churner, a renewer, one whose term ends after the export, a new one."""
    churned, renewed, open_term, new = (AccountFactory(name=n) for n in ("Churned", "Renewed", "Open", "New"))
    _term(churned, dt.date(2024, 3, 1), dt.date(2025, 2, 28))  # no renewal: churn (known by 2025-03-30)
    _term(renewed, dt.date(2024, 4, 1), dt.date(2025, 3, 31))
    _term(renewed, dt.date(2025, 4, 1), dt.date(2026, 3, 31))
    _term(open_term, dt.date(2024, 8, 1), dt.date(2025, 7, 31))  # ends after the export: renewal unknown
    _term(new, EXPORT_END, dt.date(2026, 6, 29))  # the export's last fact
    return {"churned": churned.pk, "renewed": renewed.pk, "open": open_term.pk, "new": new.pk}


def _index(ids: dict[str, int]) -> pd.MultiIndex:
    rows = [(EARLY, ids[k]) for k in ("churned", "renewed", "open")] + [(LATE, ids[k]) for k in ("renewed", "open")]
    return pd.MultiIndex.from_tuples(rows, names=["as_of", "account_id"])


def test_data_through_is_the_latest_term_start_not_after_today(export: dict[str, int]) -> None:
    assert data_through(today=TODAY) == EXPORT_END
    assert data_through(today=dt.date(2025, 5, 1)) == dt.date(2025, 4, 1)  # the renewal; later starts unseen


def test_without_the_bound_a_term_ending_after_the_data_is_churn_with_it_it_is_not_labelled(
    export: dict[str, int],
) -> None:
    ids = export
    unbounded = account_outcomes(today=TODAY, through=TODAY)  # what labels were before: bounded by today
    assert unbounded.churn_on == {ids["churned"]: dt.date(2025, 2, 28), ids["open"]: dt.date(2025, 7, 31)}
    before = label_frame(_index(ids), unbounded, horizon_days=90, include_contraction=True)
    assert before.loc[(LATE, ids["open"]), "label"] == 1  # a term the export cannot see renewed

    bounded = account_outcomes(today=TODAY)
    assert (bounded.data_end, bounded.data_end_given) == (EXPORT_END, False)
    assert bounded.churn_on == {ids["churned"]: dt.date(2025, 2, 28)}
    labels = label_frame(_index(ids), bounded, horizon_days=90, include_contraction=True)
    # LATE + 90 days = 2025-08-13 is after the data: not labelled at all, neither churn nor retained.
    assert labels["label"].to_dict() == {
        (EARLY, ids["churned"]): 1,
        (EARLY, ids["renewed"]): 0,
        (EARLY, ids["open"]): 0,
    }
    assert labels.attrs["data_through"] == "2025-06-30"


def test_a_given_date_is_honoured_either_way(export: dict[str, int]) -> None:
    ids = export
    earlier = account_outcomes(today=TODAY, through=dt.date(2025, 3, 15))
    assert (earlier.data_end, earlier.data_end_given) == (dt.date(2025, 3, 15), True)
    assert earlier.churn_on == {}  # 2025-02-28 + 30 days of grace is after 2025-03-15: not known yet
    assert label_frame(_index(ids), earlier, horizon_days=90, include_contraction=True).empty
    with observed_through(dt.date(2025, 9, 30)):  # later than the data says: the user knows better
        later = account_outcomes(today=TODAY)
    assert later.data_end == dt.date(2025, 9, 30) and later.data_end_given
    assert set(later.churn_on) == {ids["churned"], ids["open"]}
    assert account_outcomes(today=TODAY).data_end == EXPORT_END  # the override ended with the block


def test_the_model_evaluation_says_which_date_bounds_its_labels() -> None:
    features, labels = _data()
    labels.attrs["data_through"] = "2024-12-31"
    assert train_and_evaluate(features, labels, horizon_days=30).evaluation.data_through == "2024-12-31"


# --- the commands and the backtest page ----------------------------------------------------------


@pytest.fixture
def history(export: dict[str, int], event_store: EventStore) -> Iterator[dict[str, int]]:
    """Metric snapshots on the two snapshot dates, scored by the default scorecards."""
    store.delete_snapshots("metrics")
    store.delete_snapshots("health")
    metrics_install_defaults(acting_user=None)
    metrics_compute(dates=[EARLY, LATE])
    scorecards_install_defaults(acting_user=None)
    health_score_dates()
    yield export
    store.delete_snapshots("metrics")
    store.delete_snapshots("health")


def test_backtest_reports_the_bound_it_used(history: dict[str, int]) -> None:
    card = Scorecard.objects.get(is_primary=True)
    report = health_backtest(scorecard=card, today=TODAY)["report"]
    assert (report.data_through, report.data_through_given) == ("2025-06-30", False)
    assert report.observations == 3  # the three accounts on EARLY; nothing on LATE
    given = health_backtest(scorecard=card, today=TODAY, data_through=dt.date(2025, 9, 30))["report"]
    assert (given.data_through, given.data_through_given, given.observations) == ("2025-09-30", True, 5)


runner = CliRunner()


def test_health_backtest_honours_as_of(history: dict[str, int]) -> None:
    result = runner.invoke(app, ["health", "backtest", "--as-of", "2025-09-30", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert (data["data_through"], data["data_through_given"], data["observations"]) == ("2025-09-30", True, 5)


@pytest.mark.parametrize("command", [["health", "backtest"], ["model", "train"], ["model", "evaluate"]])
@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("2025-13-01", "error: --as-of must be a date like 2025-06-30, not '2025-13-01'."),
        ("next week", "error: --as-of must be a date like 2025-06-30, not 'next week'."),
        ("2999-01-01", "error: --as-of 2999-01-01 is after today"),
    ],
)
def test_a_bad_as_of_is_a_clear_error_naming_the_option(command: list[str], value: str, message: str) -> None:
    result = runner.invoke(app, [*command, "--as-of", value])
    assert result.exit_code == 2
    assert result.output.startswith(message), result.output
    assert len(result.output.strip().splitlines()) == 1


def test_model_commands_pass_as_of_to_the_labels(history: dict[str, int]) -> None:
    # Five observations are far too few to train on: the point is which bound the labels used.
    result = runner.invoke(app, ["model", "evaluate", "--as-of", "2025-03-15"])
    assert result.exit_code == 3
    assert "The labelled set has 0 observations" in result.output
    result = runner.invoke(app, ["model", "evaluate", "--as-of", "2025-09-30"])
    assert "The labelled set has 5 observations" in result.output


def test_backtest_page_takes_data_through(history: dict[str, int]) -> None:
    client = Client()
    client.force_login(UserFactory(is_superuser=True, is_staff=True))
    card = Scorecard.objects.get(is_primary=True)
    url = f"/health/scorecards/{card.pk}/backtest/"
    # Before any daily run the backtest runs on a worker; the page polls its progress.
    page = client.get(url).content.decode()
    assert 'data-status="queued"' in page
    page = finish(client, page)
    assert "Churn observed through" in page and "the latest term start in the subscription history" in page
    # Once computed, the page shows the stored result at once.
    assert "Churn observed through" in client.get(url).content.decode()
    given = client.get(url, {"as_of": "2025-09-30"}).content.decode()
    assert 'value="2025-09-30"' in given
    assert "(given)" in finish(client, given)
    bad = client.get(url, {"as_of": "30/09/2025"})
    assert bad.status_code == 400
    assert "“Data through” must be a date like 2025-06-30, not “30/09/2025”." in bad.content.decode()
    assert client.get(url, {"as_of": "2999-01-01"}).status_code == 400
