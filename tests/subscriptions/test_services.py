import datetime as dt
from decimal import Decimal

import pytest

from tandem.core.errors import DomainError
from tandem.subscriptions.models import BillingPeriod, SubscriptionStatus
from tandem.subscriptions.services import account_refresh_revenue, subscription_recompute_totals
from tests.factories import (
    AccountFactory,
    ExchangeRateFactory,
    ProductFactory,
    SubscriptionFactory,
    SubscriptionItemFactory,
)

pytestmark = pytest.mark.django_db
TODAY = dt.date(2025, 6, 1)


def test_mrr_normalises_each_billing_period_and_arr_is_twelve_times_mrr():
    quarterly = SubscriptionFactory(billing_period=BillingPeriod.QUARTERLY)
    SubscriptionItemFactory(
        subscription=quarterly, quantity=Decimal("7"), unit_price=Decimal("100.00")
    )
    SubscriptionItemFactory(
        subscription=quarterly,
        product=ProductFactory(code="sso"),
        quantity=1,
        unit_price=Decimal("50"),
    )

    subscription_recompute_totals(subscription=quarterly)

    # (7 * 100 + 50) / 3 months = 250.00
    assert quarterly.mrr == Decimal("250.00")
    assert quarterly.arr == Decimal("3000.00")


def test_mrr_rounds_once_at_the_end_not_per_line():
    annual = SubscriptionFactory(billing_period=BillingPeriod.ANNUAL)
    for code in ("a", "b", "c"):
        SubscriptionItemFactory(
            subscription=annual,
            product=ProductFactory(code=code),
            quantity=1,
            unit_price=Decimal("1.00"),
        )

    subscription_recompute_totals(subscription=annual)

    # 3.00 / 12 = 0.25 exactly; per-line rounding would give 3 * 0.08 = 0.24
    assert annual.mrr == Decimal("0.25")


def test_account_revenue_converts_to_reporting_currency_and_picks_next_renewal():
    account = AccountFactory(currency="EUR")
    ExchangeRateFactory(currency="EUR", valid_from=dt.date(2020, 1, 1), rate=Decimal("1.10"))
    ExchangeRateFactory(currency="EUR", valid_from=dt.date(2025, 5, 1), rate=Decimal("1.20"))
    live = SubscriptionFactory(
        account=account,
        currency="EUR",
        start_date=dt.date(2025, 1, 1),
        end_date=dt.date(2025, 12, 31),
        renewal_date=dt.date(2026, 1, 1),
    )
    SubscriptionItemFactory(subscription=live, quantity=10, unit_price=Decimal("120"))
    subscription_recompute_totals(subscription=live)
    ended = SubscriptionFactory(
        account=account,
        currency="EUR",
        start_date=dt.date(2024, 1, 1),
        end_date=dt.date(2024, 12, 31),
        status=SubscriptionStatus.ENDED,
    )
    SubscriptionItemFactory(subscription=ended, quantity=99, unit_price=Decimal("120"))
    subscription_recompute_totals(subscription=ended)

    assert account_refresh_revenue(account_ids=[account.id], on=TODAY) == 1

    account.refresh_from_db()
    assert account.mrr == Decimal("120.00")  # 100 EUR * 1.20
    assert account.arr == Decimal("1440.00")
    assert account.renewal_date == dt.date(2026, 1, 1)
    assert account_refresh_revenue(account_ids=[account.id], on=TODAY) == 0


def test_missing_exchange_rate_is_an_error_naming_the_currency():
    account = AccountFactory()
    sub = SubscriptionFactory(account=account, currency="CHF")
    SubscriptionItemFactory(subscription=sub)
    subscription_recompute_totals(subscription=sub)

    with pytest.raises(DomainError) as excinfo:
        account_refresh_revenue(account_ids=[account.id], on=TODAY)

    assert "CHF" in str(excinfo.value)
    account.refresh_from_db()
    assert account.mrr == Decimal("0")
