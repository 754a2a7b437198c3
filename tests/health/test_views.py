import datetime as dt
from decimal import Decimal

import pytest
from django.test import Client

from tandem.health.models import AccountHealth, Scorecard
from tandem.health.selectors import account_health_current
from tandem.health.services import health_score_dates, health_update_current, scorecards_install_defaults
from tandem.metrics import store
from tandem.metrics.services import metrics_compute, metrics_install_defaults
from tandem.subscriptions.services import subscription_recompute_totals
from tandem.usage.eventstore import Event
from tests.computations import finish
from tests.factories import AccountFactory, SubscriptionFactory, SubscriptionItemFactory, UserFactory, as_fixture

pytestmark = pytest.mark.django_db
DAY = dt.date(2025, 3, 4)


@pytest.fixture
def scored(event_store):
    store.delete_snapshots("metrics")
    store.delete_snapshots("health")
    accounts = []
    for n in range(4):
        account = AccountFactory(name=f"Acct {n}")
        sub = SubscriptionFactory(account=account, start_date=dt.date(2025, 1, 1), end_date=dt.date(2025, 12, 31))
        SubscriptionItemFactory(subscription=sub, quantity=Decimal(10), unit_price=Decimal("10"))
        subscription_recompute_totals(subscription=sub)
        event_store.append(
            [
                Event(account_id=account.pk, event="login", user_id=f"u{i}", ts=dt.datetime(2025, 3, 1, tzinfo=dt.UTC))
                for i in range(n * 3)
            ]
        )
        accounts.append(account)
    with as_fixture():
        metrics_install_defaults(acting_user=None)
    metrics_compute(dates=[DAY - dt.timedelta(days=7), DAY])
    with as_fixture():
        scorecards_install_defaults(acting_user=None)
    health_score_dates()
    health_update_current(as_of=DAY)
    yield accounts
    store.delete_snapshots("metrics")
    store.delete_snapshots("health")


@pytest.fixture
def client_admin():
    user = UserFactory(is_superuser=True, is_staff=True)
    client = Client()
    client.force_login(user)
    return client


def test_current_health_interface_and_account_section(scored, client_admin):
    current = account_health_current()
    assert set(current) == {a.pk for a in scored}
    low, high = current[scored[0].pk], current[scored[3].pk]
    assert low.score < high.score and low.as_of == DAY and low.change_7d is not None
    response = client_admin.get(f"/health/account/{scored[0].pk}/")
    assert response.status_code == 200
    assert "Overall health" in response.content.decode()
    assert "Pulling the score down" in response.content.decode()


def test_pages_render(scored, client_admin):
    card = Scorecard.objects.get(is_primary=True)
    for url in (
        "/health/",
        "/health/metrics/",
        f"/health/scorecards/{card.pk}/",
        f"/health/scorecards/{card.pk}/backtest/",
    ):
        assert client_admin.get(url).status_code == 200, url
    measure = card.measures.first()
    data = (
        {f"weight_{m.pk}": m.weight for m in card.measures.all()}
        | {f"method_{m.pk}": m.method for m in card.measures.all()}
        | {f"poor_{m.pk}": "" if m.poor_value is None else m.poor_value for m in card.measures.all()}
        | {f"good_{m.pk}": "" if m.good_value is None else m.good_value for m in card.measures.all()}
        | {"good_threshold": 65, "poor_threshold": 40, "missing_policy": "neutral"}
    )
    data[f"weight_{measure.pk}"] = -1
    response = client_admin.post(f"/health/scorecards/{card.pk}/preview/", data)
    assert "Weights cannot be negative" in response.content.decode()
    data[f"weight_{measure.pk}"] = 5
    response = client_admin.post(f"/health/scorecards/{card.pk}/preview/", data)
    # Scoring and backtesting twice runs on a worker; the fragment polls its progress.
    assert response.status_code == 200 and 'data-status="queued"' in response.content.decode()
    preview = finish(client_admin, response.content.decode())
    assert 'data-testid="preview"' in preview and "Saved" in preview and "Edited" in preview
    measure.refresh_from_db()
    assert measure.weight != 5  # previewing changes nothing


def test_accounts_list_sorts_by_health_and_api(scored, client_admin):
    response = client_admin.get("/accounts/", {"sort": "health"})
    body = response.content.decode()
    assert body.index("Acct 0") < body.index("Acct 3")
    api = client_admin.get(f"/api/v1/health/accounts/{scored[0].pk}")
    assert api.status_code == 200
    assert api.json()["scores"][0]["scorecard"] == "Overall health"
    assert AccountHealth.objects.count() == 4


def test_arr_at_risk_cards_appear_once_accounts_have_a_churn_risk(scored, client_admin):
    from tandem.risk.models import AccountRisk

    before = client_admin.get("/health/").content.decode()
    assert "ARR at risk by tier" not in before  # no empty cards before the model has scored anyone
    AccountRisk.objects.create(account=scored[0], probability=0.5, as_of=DAY, model_version="test")
    after = client_admin.get("/health/").content.decode()
    assert "ARR at risk by tier" in after and ">ARR at risk</th>" in after
